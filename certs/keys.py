"""Key sources: PKCS#12 files and PKCS#11 tokens/HSMs (RFC 7512 ``pkcs11:`` URIs).

``load_signer`` returns a pyHanko ``Signer``; wrap it in :class:`signing.engine.PreparedSigner`
to sign many documents fast.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from asn1crypto import x509 as asn1_x509
from pyhanko.sign import signers

from ioffice.kernel.errors import SigningKeyUnavailable

_DEFAULT_MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
)


@dataclass(frozen=True)
class Pkcs11Uri:
    """The parts of an RFC 7512 URI that we use."""

    token: str | None = None
    serial: str | None = None
    slot_id: int | None = None
    object: str | None = None
    id: bytes | None = None
    pin_value: str | None = None
    module_path: str | None = None


def parse_pkcs11_uri(uri: str) -> Pkcs11Uri:
    """Parse ``pkcs11:token=…;object=…[;id=%01][?pin-value=…&module-path=…]``.

    Raises SigningKeyUnavailable for a malformed URI.
    """
    if not uri.startswith("pkcs11:"):
        raise SigningKeyUnavailable("Địa chỉ khóa PKCS#11 không hợp lệ")
    body = uri[len("pkcs11:"):]
    path, _, query = body.partition("?")
    attrs: dict[str, str] = {}
    for chunk in [p for p in path.split(";") if p]:
        k, sep, v = chunk.partition("=")
        if not sep:
            raise SigningKeyUnavailable("Địa chỉ khóa PKCS#11 không hợp lệ")
        attrs[k.strip()] = v
    for chunk in [p for p in query.split("&") if p]:
        k, _, v = chunk.partition("=")
        attrs[k.strip()] = v
    slot = attrs.get("slot-id")
    raw_id = attrs.get("id")
    return Pkcs11Uri(
        token=unquote(attrs["token"]) if "token" in attrs else None,
        serial=unquote(attrs["serial"]) if "serial" in attrs else None,
        slot_id=int(slot) if slot and slot.isdigit() else None,
        object=unquote(attrs["object"]) if "object" in attrs else None,
        id=unquote(raw_id, encoding="latin-1").encode("latin-1") if raw_id else None,
        pin_value=unquote(attrs["pin-value"]) if "pin-value" in attrs else None,
        module_path=unquote(attrs["module-path"]) if "module-path" in attrs else None,
    )


def _pkcs11_module(explicit: str | None, uri: Pkcs11Uri) -> str:
    for cand in (explicit, uri.module_path):
        if cand:
            return cand
    for cand in _DEFAULT_MODULES:
        if Path(cand).exists():
            return cand
    raise SigningKeyUnavailable(
        "Chưa cấu hình thư viện PKCS#11 (IOFFICE_PKCS11_MODULE)"
    )


def load_signer(
    spec: str,
    *,
    passphrase: bytes | None = None,
    pin: str | None = None,
    module_path: str | None = None,
    extra_certs: Sequence[asn1_x509.Certificate] = (),
    prefer_pss: bool = False,
) -> signers.Signer:
    """A pyHanko Signer for ``spec``: a PKCS#12 file path or a ``pkcs11:`` URI.

    PKCS#12: ``passphrase`` decrypts it; the certificates inside become the chain.
    PKCS#11: the module comes from ``module_path`` (the caller's settings), the URI's
    ``module-path``, or a well-known SoftHSM2 location; the PIN from ``pin`` or the URI's ``pin-value``; the key and
    certificate are found by ``object`` label (and/or ``id``) on the token named ``token``.
    The session stays open for the signer's lifetime.

    Raises SigningKeyUnavailable (missing file, wrong passphrase/PIN, token or object not found).
    """
    if spec.startswith("pkcs11:"):
        return _load_pkcs11(spec, pin=pin, module_path=module_path, extra_certs=extra_certs,
                            prefer_pss=prefer_pss)
    path = Path(spec)
    if not path.is_file():
        raise SigningKeyUnavailable(f"Không tìm thấy tệp khóa ký: {path.name}")
    try:
        signer: signers.SimpleSigner | None = signers.SimpleSigner.load_pkcs12_data(
            path.read_bytes(), other_certs=list(extra_certs), passphrase=passphrase
        )
    except (ValueError, TypeError) as exc:
        raise SigningKeyUnavailable(
            "Không mở được tệp khóa ký PKCS#12: sai mật khẩu hoặc tệp bị hỏng"
        ) from exc
    if signer is None or signer.signing_cert is None:
        raise SigningKeyUnavailable("Tệp PKCS#12 không chứa chứng thư số của người ký")
    signer.prefer_pss = prefer_pss
    return signer


def _load_pkcs11(spec: str, *, pin: str | None, module_path: str | None,
                 extra_certs: Sequence[asn1_x509.Certificate], prefer_pss: bool) -> signers.Signer:
    from pyhanko.config.pkcs11 import TokenCriteria
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    uri = parse_pkcs11_uri(spec)
    module = _pkcs11_module(module_path, uri)
    user_pin = pin if pin is not None else uri.pin_value
    if uri.object is None and uri.id is None:
        raise SigningKeyUnavailable("Địa chỉ PKCS#11 phải có object= hoặc id=")
    criteria = TokenCriteria(label=uri.token, serial=bytes.fromhex(uri.serial) if uri.serial else None)
    try:
        session = open_pkcs11_session(module, slot_no=uri.slot_id, token_criteria=criteria,
                                      user_pin=user_pin)
    except Exception as exc:  # pkcs11 raises many unrelated classes
        raise SigningKeyUnavailable(
            "Không mở được thiết bị ký PKCS#11: không tìm thấy token hoặc sai mã PIN"
        ) from exc
    try:
        signer = PKCS11Signer(
            session,
            cert_label=uri.object,
            key_label=uri.object,
            key_id=uri.id,
            cert_id=uri.id,
            other_certs_to_pull=None,  # pull every certificate on the token (the chain)
            prefer_pss=prefer_pss,
        )
        signer.signing_cert  # noqa: B018  (forces the lookup now)
        if extra_certs:
            signer.cert_registry.register_multiple(list(extra_certs))
    except Exception as exc:
        session.close()
        raise SigningKeyUnavailable("Không tìm thấy khóa hoặc chứng thư số trên thiết bị PKCS#11") from exc
    return signer  # the signer holds the session (``pkcs11_session``); see close_signer


def close_signer(signer: signers.Signer) -> None:
    """Log out of the token behind a PKCS#11 signer from :func:`load_signer`; no-op for others."""
    session = getattr(signer, "pkcs11_session", None)
    if session is not None:
        session.close()
