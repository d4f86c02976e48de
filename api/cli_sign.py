"""``ioffice sign IN OUT`` — sign a PDF outside any workflow (administrators, scripts)."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ioffice.kernel.errors import DomainError

if TYPE_CHECKING:
    from .settings import Settings

APPEARANCES = ("personal", "seal", "attachment", "copy", "none")


def _err(msg: str, code: int = 1) -> int:
    print(f"ioffice sign: {msg}", file=sys.stderr)
    return code


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add the ``sign`` subcommand to ``subparsers`` (sets ``func=run``)."""
    p = subparsers.add_parser("sign", help="ký số một tệp PDF / sign a PDF (PAdES)")
    p.add_argument("input", metavar="IN", help="PDF to sign")
    p.add_argument("output", metavar="OUT", help="where to write the signed PDF")
    p.add_argument("--key", help="PKCS#12 file or pkcs11: URI (default: IOFFICE_SEAL_KEY, else the "
                                 "agency seal of the development PKI)")
    p.add_argument("--passphrase-env", metavar="VAR", default=None,
                   help="environment variable holding the PKCS#12 passphrase or the token PIN "
                        "(default: IOFFICE_SEAL_KEY_PASSPHRASE for the agency's key)")
    p.add_argument("--level", choices=("B-B", "B-T", "B-LT", "B-LTA"), default=None,
                   help="PAdES level (default B-T when a TSA is configured, else B-B)")
    p.add_argument("--appearance", choices=APPEARANCES, default="none")
    p.add_argument("--tsa", metavar="URL", help="RFC 3161 timestamp service (default IOFFICE_TSA_URL)")
    p.add_argument("--trust", metavar="PEM", action="append", default=[],
                   help="trust root(s) for B-LT/B-LTA (default IOFFICE_TRUST_ROOTS)")
    p.add_argument("--position", default="Người ký", help="position line of a personal signature")
    p.add_argument("--number-symbol", default=None, help="number/symbol for --appearance attachment")
    p.add_argument("--copy-form", default="SAO Y", help="SAO Y | SAO LỤC | TRÍCH SAO")
    p.add_argument("--certify", action="store_true", help="certification signature (DocMDP)")
    p.add_argument("--no-check", action="store_true", help="skip the signer certificate check")
    p.set_defaults(func=run)
    return p


def _default_key(settings: Settings) -> str | None:
    """The agency's key (``IOFFICE_SEAL_KEY``), else the development PKI's seal if there is one."""
    if settings.seal_key:
        return settings.seal_key
    for cand in (settings.pki_dir / "seal.p12", settings.resolved_data_dir / "devpki" / "seal.p12"):
        if cand.exists():
            return str(cand)
    return None


def _appearance(args: argparse.Namespace, signer: Any, page_size: tuple[float, float]) -> Any:
    if args.appearance == "none":
        return None
    from signing import appearance as ap

    name = signer.subject_name
    w, h = page_size
    if args.appearance == "personal":
        return ap.personal_signature(position=args.position, full_name=name)
    if args.appearance == "seal":
        return ap.seal_signature(personal_box=ap.DEFAULT_PERSONAL_BOX, agency_name=name)
    if args.appearance == "attachment":
        if not args.number_symbol:
            raise ValueError("--appearance attachment needs --number-symbol")
        return ap.attachment_mark(number_symbol=args.number_symbol, page_width=w, page_height=h)
    return ap.copy_mark(copy_form=args.copy_form, agency_name=name, page_width=w, page_height=h)


def run(args: argparse.Namespace, settings: Any = None) -> int:
    """Sign ``args.input`` into ``args.output``. Exit 0 on success; 1 for a refused signature or a
    failing service; 2 for bad input. Prints one line on error, never a traceback.

    Defaults (key, passphrase, TSA, trust roots, PKCS#11 module) come from ``settings``
    (:class:`api.settings.Settings`, read from the environment when not given)."""
    from api.settings import Settings
    from certs.checks import check_prepared_signer
    from certs.keys import load_signer
    from certs.trust import load_trust_roots
    from signing.engine import PreparedSigner, http_timestamper, make_validation_context, sign_pdf
    from signing.levels import is_level

    src, dst = Path(args.input), Path(args.output)
    if not src.is_file():
        return _err(f"không đọc được tệp / cannot read: {src}", 2)
    if dst.resolve() == src.resolve():
        return _err("tệp kết quả phải khác tệp gốc / OUT must differ from IN", 2)
    settings = settings if settings is not None else Settings()
    key = args.key or _default_key(settings)
    if not key:
        return _err("chưa chỉ định khóa ký (--key) / no signing key given", 2)
    if args.passphrase_env:
        secret = os.environ.get(args.passphrase_env)
    else:
        secret = settings.seal_key_passphrase if key == settings.seal_key else None
    tsa_url = args.tsa or settings.tsa_url
    level = args.level or ("B-T" if tsa_url else "B-B")
    if not is_level(level):  # argparse already restricts --level to these names
        return _err(f"mức chữ ký không hợp lệ: {level} / unknown level", 2)
    if level != "B-B" and not tsa_url:
        return _err(f"mức {level} cần dịch vụ dấu thời gian (--tsa) / {level} needs --tsa", 2)
    try:
        dev_pki = settings if settings.pki_dir.is_dir() else None
        if key.startswith("pkcs11:"):
            signer = PreparedSigner(load_signer(key, pin=secret, module_path=settings.pkcs11_module))
        else:
            passphrase = secret.encode() if secret else None
            if passphrase is None and dev_pki is not None and Path(key).resolve().is_relative_to(dev_pki.pki_dir):
                passphrase = dev_pki.pki_passphrase  # the development PKI's keys, encrypted at rest
            signer = PreparedSigner(load_signer(key, passphrase=passphrase))
        trust = args.trust or settings.trust_root_paths
        roots = load_trust_roots(trust) if trust else []
        if not roots and dev_pki is not None and (dev_pki.pki_dir / "root-ca.pem").exists():
            roots = load_trust_roots(dev_pki.pki_dir / "root-ca.pem")
        if level in ("B-LT", "B-LTA") and not roots:
            return _err("mức B-LT/B-LTA cần trust roots (--trust) / needs --trust", 2)
        if roots and not args.no_check:
            check_prepared_signer(signer, trust_roots=roots)
        from pyhanko.pdf_utils.reader import PdfFileReader

        with open(src, "rb") as fh:
            try:
                reader = PdfFileReader(fh, strict=False)
                box = reader.root["/Pages"]["/Kids"][0].get_object()["/MediaBox"]
                page_size = (float(box[2]) - float(box[0]), float(box[3]) - float(box[1]))
            except Exception:
                page_size = (595.0, 842.0)
            fh.seek(0)
            appearance = _appearance(args, signer, page_size)
            tmp = dst.with_name(dst.name + ".part")
            try:
                with open(tmp, "wb+") as out:
                    sign_pdf(
                        fh, signer=signer, level=level, appearance=appearance,
                        timestamper=http_timestamper(tsa_url) if tsa_url else None,
                        validation_context=make_validation_context(roots) if roots else None,
                        certify=args.certify, output=out,
                    )
                os.replace(tmp, dst)
            finally:
                tmp.unlink(missing_ok=True)
    except DomainError as exc:
        return _err(exc.detail, 2 if exc.status in (400, 413, 422) and exc.code != "signer-certificate-rejected" else 1)
    except (ValueError, FileNotFoundError, OSError) as exc:
        return _err(str(exc) or type(exc).__name__, 2)
    print(f"Đã ký / signed: {dst} ({level}, {signer.subject_name})")
    return 0
