"""First set-up of a real office from the command line (no demo):

    ioffice org create NAME --code ORGANID [--abbr ABBR] [--parent NAME] [--place PLACE]
    ioffice unit create NAME --org ORGANID --abbr ABBR
    ioffice user create USERNAME --org ORGANID --role ROLE [--full-name …] [--position …] [--unit ABBR]
                        [--password-stdin]
    ioffice key import-seal SOURCE [--passphrase-stdin]       (PKCS#12 file or pkcs11: URI)
    ioffice key import-user USERNAME SOURCE [--passphrase-stdin]
    ioffice trust add PEM…  /  ioffice trust list

Passwords and passphrases come from standard input or an interactive prompt, never from the
command line. Imported PKCS#12 keys are re-encrypted under the instance secret and kept in
``<data dir>/keys`` (mode 0600); the agency's key reference is written to ``keys/seal.ref`` and
trust roots are copied to ``<data dir>/trust``, both picked up by Settings.
"""
from __future__ import annotations

import argparse
import getpass
import os
import re
import secrets
import sys
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ioffice.kernel.errors import InvalidInput, NotFound

from .settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ioffice.accounts.models import Organisation
    from ioffice.kernel.caller import Caller

# Decision 20/2020/QĐ-TTg: the 13-character organisation code (mã định danh), e.g. 000.00.31.H40
ORGAN_CODE_RE = re.compile(r"^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$")
# Decree 30/2020 abbreviations: capital letters (Đ included) and digits, parts joined by hyphens.
ABBR_RE = re.compile(r"^[A-ZĐ][A-ZĐ0-9]{0,15}(-[A-ZĐ0-9]{1,15})*$")


class CliError(Exception):
    """A usage or input problem: printed as one line, exit 1."""


def derive_abbreviation(name: str) -> str:
    """Initials of the name without diacritics (Đ kept): "Sở Nội vụ" → "SNV"."""
    out = []
    for word in name.split():
        ch = word[0]
        if ch in "đĐ":
            out.append("Đ")
            continue
        base = unicodedata.normalize("NFD", ch)[0]
        if base.isalnum():
            out.append(base.upper())
    return "".join(out)


def read_secret(prompt: str, *, from_stdin: bool, confirm: bool = False) -> str:
    """A password/passphrase from the first line of stdin or a getpass prompt (never argv)."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CliError("không có bàn phím để nhập mật khẩu; dùng --password-stdin / --passphrase-stdin")
    value = getpass.getpass(prompt)
    if confirm and getpass.getpass("Nhập lại: ") != value:
        raise CliError("hai lần nhập mật khẩu không khớp")
    return value


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    """A migrated database and a session that commits on success."""
    from ioffice.kernel.db import make_engine, make_session_factory
    from ioffice.migrate import upgrade

    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    try:
        upgrade(engine)
        with make_session_factory(engine)() as s, s.begin():
            yield s
    finally:
        engine.dispose()


def _org(s: Session, code: str) -> Organisation:
    from sqlalchemy import select

    from ioffice.accounts.models import Organisation

    org = s.scalar(select(Organisation).where(Organisation.organ_code == code.strip().upper()))
    if org is None:
        raise NotFound(f"Không có cơ quan mã «{code}» (tạo bằng: ioffice org create).")
    return org


def _system() -> Caller:
    from ioffice.kernel.caller import SYSTEM

    return SYSTEM


# -- organisations, units, users ---------------------------------------------------------------
def cmd_org_create(args: argparse.Namespace) -> int:
    from ioffice import accounts

    code = args.code.strip().upper()
    if not ORGAN_CODE_RE.match(code):
        raise CliError(f"mã định danh «{args.code}» không đúng dạng 13 ký tự, ví dụ 000.00.31.H40")
    name = " ".join(args.name.split())
    if not name:
        raise CliError("thiếu tên cơ quan")
    abbr = (args.abbr or derive_abbreviation(name)).strip().upper()
    if not ABBR_RE.match(abbr):
        raise CliError(f"chữ viết tắt «{abbr}» không hợp lệ (chữ in hoa và số, ví dụ UBND, SNV)")
    from sqlalchemy import select

    from ioffice.accounts.models import Organisation

    with _session(Settings()) as s:
        if s.scalar(select(Organisation.id).where(Organisation.organ_code == code)):
            raise CliError(f"cơ quan mã {code} đã tồn tại")
        org = accounts.create_organisation(s, caller=_system(), name=name, abbreviation=abbr, organ_code=code,
                                           parent_name=args.parent, place=args.place)
        org_id = org.id
    print(f"Đã tạo cơ quan «{name}» ({abbr}), mã {code}, id {org_id}")
    print(f"Tiếp theo: ioffice user create admin --org {code} --role admin --full-name \"…\" --password-stdin")
    return 0


def cmd_org_list(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ioffice.accounts.models import Organisation

    with _session(Settings()) as s:
        for org in s.scalars(select(Organisation).order_by(Organisation.created_at)):
            print(f"{org.organ_code or '-':13}  {org.abbreviation:8}  {org.name}")
    return 0


def cmd_unit_create(args: argparse.Namespace) -> int:
    from ioffice import accounts

    abbr = args.abbr.strip().upper()
    if not ABBR_RE.match(abbr):
        raise CliError(f"chữ viết tắt «{abbr}» không hợp lệ")
    with _session(Settings()) as s:
        org = _org(s, args.org)
        unit = accounts.create_unit(s, caller=_system(), org_id=org.id, name=" ".join(args.name.split()),
                                    abbreviation=abbr)
        print(f"Đã tạo đơn vị «{unit.name}» ({abbr}) thuộc {org.abbreviation}")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ioffice import accounts
    from ioffice.accounts.models import ROLES, Unit

    roles = [r.strip() for part in args.role for r in part.split(",") if r.strip()]
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise CliError(f"vai trò không hợp lệ: {', '.join(bad) or '(trống)'}; các vai trò: {', '.join(ROLES)}")
    settings = Settings()
    with _session(settings) as s:
        org = _org(s, args.org)  # before asking for the password
        unit_id = None
        if args.unit:
            unit = s.scalar(select(Unit).where(Unit.org_id == org.id, Unit.abbreviation == args.unit.strip().upper()))
            if unit is None:
                raise CliError(f"không có đơn vị «{args.unit}» (tạo bằng: ioffice unit create)")
            unit_id = unit.id
        password = read_secret(f"Mật khẩu cho {args.username}: ", from_stdin=args.password_stdin, confirm=True)
        user = accounts.create_user(s, caller=_system(), org_id=org.id, username=args.username,
                                    full_name=args.full_name or args.username, password=password, roles=roles,
                                    unit_id=unit_id, position=args.position, email=args.email)
        print(f"Đã tạo người dùng {user.username} ({', '.join(user.roles)}) thuộc {org.abbreviation}")
    return 0


# -- keys and trust roots ------------------------------------------------------------------------
def _keys_dir(settings: Settings) -> Path:
    d = settings.resolved_data_dir / "keys"
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _import_key(settings: Settings, source: str, dest: Path, *, passphrase_stdin: bool) -> tuple[str, str]:
    """Check the key opens; PKCS#12 is re-encrypted under the instance secret into ``dest``.
    Returns (key reference to store, certificate subject)."""
    from certs.keys import close_signer, load_signer

    if source.startswith("pkcs11:"):
        signer = load_signer(source, module_path=settings.pkcs11_module)
        try:
            if signer.signing_cert is None:
                raise CliError("thiết bị ký không có chứng thư số đi kèm khóa")
            return source, signer.signing_cert.subject.human_friendly
        finally:
            close_signer(signer)
    path = Path(source).expanduser()
    if not path.is_file():
        raise CliError(f"không tìm thấy tệp khóa {source}")
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    secret = read_secret(f"Mật khẩu của {path.name}: ", from_stdin=passphrase_stdin)
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(path.read_bytes(), secret.encode() or None)
    except (ValueError, TypeError) as exc:
        raise CliError(f"không mở được {path.name}: sai mật khẩu hoặc tệp không phải PKCS#12") from exc
    if key is None or cert is None:
        raise CliError(f"{path.name} không chứa khóa riêng và chứng thư số")
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey,
                            ed448.Ed448PrivateKey, dsa.DSAPrivateKey)):
        raise CliError(f"{path.name}: loại khóa không dùng để ký được")
    data = pkcs12.serialize_key_and_certificates(b"ioffice", key, cert, extra or None,
                                                 BestAvailableEncryption(settings.pki_passphrase))
    _write_private(dest, data)
    return str(dest), cert.subject.rfc4514_string()


def cmd_key_import_seal(args: argparse.Namespace) -> int:
    settings = Settings()
    keys = _keys_dir(settings)
    ref, subject = _import_key(settings, args.source, keys / "seal.p12", passphrase_stdin=args.passphrase_stdin)
    _write_private(keys / "seal.ref", (ref + "\n").encode())
    print(f"Đã nhập khóa con dấu của cơ quan: {subject}")
    if os.environ.get("IOFFICE_SEAL_KEY"):
        print("Lưu ý: IOFFICE_SEAL_KEY đang được đặt và được ưu tiên hơn khóa vừa nhập.")
    return 0


def cmd_key_import_user(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from ioffice.accounts.models import User

    settings = Settings()
    username = args.username.strip().lower()
    with _session(settings) as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise CliError(f"không có người dùng {username}")
        # a new file (hence a new key reference) per import: a running server's per-reference
        # signer cache can never hand out the previous key
        dest = _keys_dir(settings) / "users" / f"{username}-{secrets.token_hex(4)}.p12"
        ref, subject = _import_key(settings, args.source, dest, passphrase_stdin=args.passphrase_stdin)
        previous, user.signing_key = user.signing_key, ref
    users_dir = (_keys_dir(settings) / "users").resolve()
    if previous and not previous.startswith(("pkcs11:", "devpki:")) and Path(previous).resolve().parent == users_dir:
        Path(previous).unlink(missing_ok=True)  # the replaced key leaves the disk
    print(f"Đã gán khóa ký cá nhân cho {username}: {subject}")
    return 0


def cmd_trust_add(args: argparse.Namespace) -> int:
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    settings = Settings()
    folder = settings.resolved_data_dir / "trust"
    folder.mkdir(parents=True, exist_ok=True)
    for src in args.files:
        path = Path(src).expanduser()
        if not path.is_file():
            raise CliError(f"không tìm thấy tệp {src}")
        data = path.read_bytes()
        try:
            ders = [der for typ, _, der in pem.unarmor(data, multiple=True) if typ == "CERTIFICATE"] \
                if pem.detect(data) else [data]
            certs = [asn1_x509.Certificate.load(d) for d in ders]
            for c in certs:
                c.native  # noqa: B018  (parses fully)
        except Exception as exc:
            raise CliError(f"{path.name} không phải chứng thư số PEM/DER") from exc
        if not certs:
            raise CliError(f"{path.name} không chứa chứng thư số")
        for c in certs:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", c.subject.native.get("common_name", "root"))[:60]
            out = folder / f"{name}-{c.sha256.hex()[:12]}.pem"
            out.write_bytes(pem.armor("CERTIFICATE", c.dump()))
            ca = c.ca
            print(f"Đã thêm gốc tin cậy: {c.subject.human_friendly}" + ("" if ca else " (cảnh báo: không phải CA)"))
    if settings.pki_dir.exists():
        print(f"Cảnh báo: PKI phát triển ({settings.pki_dir}) vẫn còn và vẫn được tin cậy; "
              "xóa thư mục đó khi vận hành thật.")
    return 0


def cmd_trust_list(args: argparse.Namespace) -> int:
    from certs.trust import load_trust_roots

    settings = Settings()
    if not settings.trust_roots:
        print("Chưa có gốc tin cậy nào (ioffice trust add GOC.pem).")
        return 0
    for c in load_trust_roots([p for p in settings.trust_roots.split(os.pathsep) if p]):
        print(f"{c.sha256.hex()[:16]}  {c.subject.human_friendly}")
    return 0


def _run(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except CliError as exc:
            print(f"ioffice: {exc}", file=sys.stderr)
            return 1
        except InvalidInput as exc:
            print(f"ioffice: {exc.detail}", file=sys.stderr)
            return 1
    return wrapped


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    org = sub.add_parser("org", help="organisations (agencies)")
    osub = org.add_subparsers(dest="org_command", metavar="ACTION")
    p = osub.add_parser("create", help="create an agency")
    p.add_argument("name")
    p.add_argument("--code", required=True, help="13-character organisation code, e.g. 000.00.31.H40")
    p.add_argument("--abbr", help="Decree 30 abbreviation, e.g. UBND (default: the initials)")
    p.add_argument("--parent", help="parent body, e.g. UBND tỉnh Ninh Bình")
    p.add_argument("--place", help="place in the date line, e.g. Yên Khánh")
    p.set_defaults(func=_run(cmd_org_create))
    p = osub.add_parser("list", help="list agencies")
    p.set_defaults(func=_run(cmd_org_list))
    org.set_defaults(func=lambda a: (print("usage: ioffice org create|list", file=sys.stderr), 2)[1])

    unit = sub.add_parser("unit", help="units of an agency")
    usub = unit.add_subparsers(dest="unit_command", metavar="ACTION")
    p = usub.add_parser("create", help="create a unit")
    p.add_argument("name")
    p.add_argument("--org", required=True, help="organisation code")
    p.add_argument("--abbr", required=True)
    p.set_defaults(func=_run(cmd_unit_create))
    unit.set_defaults(func=lambda a: (print("usage: ioffice unit create", file=sys.stderr), 2)[1])

    user = sub.add_parser("user", help="user accounts")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION")
    p = usub.add_parser("create", help="create a user (password from stdin or a prompt)")
    p.add_argument("username")
    p.add_argument("--org", required=True, help="organisation code")
    p.add_argument("--role", action="append", required=True, help="admin, clerk, leader, … (repeatable)")
    p.add_argument("--full-name")
    p.add_argument("--position")
    p.add_argument("--unit", help="unit abbreviation")
    p.add_argument("--email")
    p.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    p.set_defaults(func=_run(cmd_user_create))
    user.set_defaults(func=lambda a: (print("usage: ioffice user create", file=sys.stderr), 2)[1])

    key = sub.add_parser("key", help="signing keys")
    ksub = key.add_subparsers(dest="key_command", metavar="ACTION")
    p = ksub.add_parser("import-seal", help="the agency's seal key: a PKCS#12 file or a pkcs11: URI")
    p.add_argument("source")
    p.add_argument("--passphrase-stdin", action="store_true")
    p.set_defaults(func=_run(cmd_key_import_seal))
    p = ksub.add_parser("import-user", help="an official's personal key: a PKCS#12 file or a pkcs11: URI")
    p.add_argument("username")
    p.add_argument("source")
    p.add_argument("--passphrase-stdin", action="store_true")
    p.set_defaults(func=_run(cmd_key_import_user))
    key.set_defaults(func=lambda a: (print("usage: ioffice key import-seal|import-user", file=sys.stderr), 2)[1])

    trust = sub.add_parser("trust", help="trust roots for validation")
    tsub = trust.add_subparsers(dest="trust_command", metavar="ACTION")
    p = tsub.add_parser("add", help="add root certificates (PEM/DER)")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=_run(cmd_trust_add))
    p = tsub.add_parser("list", help="list the trust roots")
    p.set_defaults(func=_run(cmd_trust_list))
    trust.set_defaults(func=lambda a: (print("usage: ioffice trust add|list", file=sys.stderr), 2)[1])
