"""``ioffice token-sign``: the reference client an official runs on their own PC.

The private key stays on the official's USB token (PKCS#11). The client reads the certificate
from the token, asks the server to prepare the document, signs the returned ``data_to_sign`` on
the token and posts the signature back. Modes:

* online:  ``--server URL --token BEARER --document ID`` (HTTP API, prints the new version id);
* offline: ``--request FILE.json --out SIGNATURE_FILE`` (signs a saved prepare response);
* ``--export-cert FILE.pem``: writes the token's certificate (and chain) for the server side.

Common: ``--module LIB.so --token-label L [--key-label K] [--pin-env VAR]``.
Exit codes: 0 success, 1 refused or failed (one-line message on stderr), 2 usage error.
"""
from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PIN_ENV = "IOFFICE_TOKEN_PIN"
DEFAULT_ACCESS_TOKEN_ENV = "IOFFICE_ACCESS_TOKEN"
SUPPORTED_MECHANISMS = ("sha256_rsa", "rsassa_pss", "sha256_ecdsa")
PSS_SALT_LENGTH = 32


class TokenSignError(Exception):
    """A failure to report to the official on one line (Vietnamese), exit code 1."""


# ------------------------------------------------------------------------------------- token
@dataclass
class TokenIdentity:
    """The signing key on the token and the certificates that go with it (DER)."""

    key: Any
    certificate: bytes | None
    chain: list[bytes] = field(default_factory=list)


def _read_pin(pin_env: str) -> str:
    pin = os.environ.get(pin_env)
    if pin:
        return pin
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass("Nhập mã PIN của thiết bị ký số: ")
    raise TokenSignError(
        f"Chưa có mã PIN: đặt biến môi trường {pin_env} hoặc chạy lệnh trong cửa sổ dòng lệnh."
    )


def _open_session(module: str, token_label: str, pin: str) -> Any:
    import pkcs11
    from pkcs11 import exceptions as p11e

    try:
        lib = pkcs11.lib(module)
    except Exception as exc:  # noqa: BLE001 - loader raises OSError/RuntimeError variants
        raise TokenSignError(f"Không nạp được thư viện PKCS#11: {module}") from exc
    try:
        token = lib.get_token(token_label=token_label)
    except p11e.NoSuchToken as exc:
        raise TokenSignError(f"Không tìm thấy thiết bị ký số có nhãn '{token_label}'.") from exc
    except p11e.PKCS11Error as exc:
        raise TokenSignError("Không truy cập được thiết bị ký số.") from exc
    try:
        return token.open(user_pin=pin)
    except p11e.PinIncorrect as exc:
        raise TokenSignError("Mã PIN của thiết bị ký số không đúng.") from exc
    except p11e.PinLocked as exc:
        raise TokenSignError("Thiết bị ký số đã bị khóa do nhập sai mã PIN nhiều lần.") from exc
    except p11e.PKCS11Error as exc:
        raise TokenSignError("Không đăng nhập được vào thiết bị ký số.") from exc


def _attr(obj: Any, attribute: Any) -> Any:
    try:
        return obj[attribute]
    except Exception:  # noqa: BLE001 - attribute not present / not readable on this token
        return None


def _find_identity(session: Any, key_label: str | None, need_cert: bool = True) -> TokenIdentity:
    """Pick the private key (by label, else the only one / the one with a certificate) and its
    certificate (same CKA_ID, else same label), plus issuer certificates found on the token."""
    from asn1crypto import x509 as asn1_x509
    from pkcs11 import Attribute, ObjectClass

    keys = list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
    if key_label is not None:
        keys = [k for k in keys if _attr(k, Attribute.LABEL) == key_label]
    certs = []
    for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        value = _attr(obj, Attribute.VALUE)
        if value:
            certs.append(
                (_attr(obj, Attribute.ID), _attr(obj, Attribute.LABEL), bytes(value))
            )
    if not keys:
        which = f" có nhãn '{key_label}'" if key_label else ""
        raise TokenSignError(f"Không tìm thấy khóa bí mật{which} trên thiết bị ký số.")

    def cert_for(key: Any) -> bytes | None:
        key_id, label = _attr(key, Attribute.ID), _attr(key, Attribute.LABEL)
        for cid, _clabel, der in certs:
            if key_id and cid == key_id:
                return der
        for _cid, clabel, der in certs:
            if label and clabel == label:
                return der
        return None

    paired = [(k, cert_for(k)) for k in keys]
    with_cert = [(k, c) for k, c in paired if c is not None]
    if len(keys) > 1 and len(with_cert) != 1:
        raise TokenSignError(
            "Thiết bị ký số có nhiều khóa, hãy chọn khóa bằng tham số --key-label."
        )
    key, cert_der = with_cert[0] if with_cert else paired[0]
    if cert_der is None:
        if not need_cert:
            return TokenIdentity(key=key, certificate=None)
        raise TokenSignError("Không tìm thấy chứng thư số đi kèm khóa trên thiết bị ký số.")

    # issuer chain from what the token holds (CA certificates are often stored alongside)
    chain: list[bytes] = []
    by_subject: dict[bytes, bytes] = {}
    for _, _, der in certs:
        try:
            c = asn1_x509.Certificate.load(der)
            by_subject.setdefault(c.subject.dump(), der)
        except ValueError:
            continue
    current = asn1_x509.Certificate.load(cert_der)
    seen = {cert_der}
    while current.issuer.dump() in by_subject:
        der = by_subject[current.issuer.dump()]
        if der in seen:
            break
        chain.append(der)
        seen.add(der)
        current = asn1_x509.Certificate.load(der)
    return TokenIdentity(key=key, certificate=cert_der, chain=chain)


def sign_on_token(key: Any, data: bytes, mechanism: str) -> bytes:
    """Sign ``data`` (the DER signed attributes) with the token key; ECDSA returns DER."""
    from pkcs11 import MGF, Mechanism
    from pkcs11 import exceptions as p11e
    from pkcs11.util.ec import encode_ecdsa_signature

    try:
        if mechanism == "sha256_rsa":
            return bytes(key.sign(data, mechanism=Mechanism.SHA256_RSA_PKCS))
        if mechanism == "rsassa_pss":
            return bytes(
                key.sign(
                    data,
                    mechanism=Mechanism.SHA256_RSA_PKCS_PSS,
                    mechanism_param=(Mechanism.SHA256, MGF.SHA256, PSS_SALT_LENGTH),
                )
            )
        if mechanism == "sha256_ecdsa":
            raw = key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
            return encode_ecdsa_signature(bytes(raw))
    except p11e.PKCS11Error as exc:
        raise TokenSignError(
            f"Thiết bị ký số không ký được với thuật toán {mechanism} "
            f"({type(exc).__name__})."
        ) from exc
    raise TokenSignError(f"Thuật toán ký không được hỗ trợ: {mechanism}.")


def _pem(der: bytes) -> str:
    from asn1crypto import pem

    text: str = pem.armor("CERTIFICATE", der).decode("ascii")
    return text


# -------------------------------------------------------------------------------------- HTTP
def _problem_detail(response: Any) -> str:
    try:
        body = response.json()
        detail = body.get("detail") or body.get("title")
    except (ValueError, AttributeError):
        detail = None
    if not detail:
        detail = f"Máy chủ từ chối yêu cầu (mã {response.status_code})."
    return " ".join(str(detail).split())


def _post(client: Any, url: str, payload: dict[str, Any], expected: int) -> dict[str, Any]:
    import httpx

    try:
        response = client.post(url, json=payload)
    except httpx.HTTPError as exc:
        raise TokenSignError("Không kết nối được tới máy chủ ioffice.") from exc
    if response.status_code != expected:
        raise TokenSignError(_problem_detail(response))
    try:
        body: dict[str, Any] = response.json()
        return body
    except ValueError as exc:
        raise TokenSignError("Máy chủ trả về dữ liệu không hợp lệ.") from exc


def _decode_request(req: dict[str, Any]) -> tuple[bytes, str]:
    try:
        data = base64.b64decode(req["data_to_sign"], validate=True)
        mechanism = str(req["signature_mechanism"])
        digest = str(req.get("digest_algorithm", "sha256"))
    except (KeyError, ValueError, TypeError) as exc:
        raise TokenSignError("Yêu cầu ký không hợp lệ (thiếu hoặc sai data_to_sign).") from exc
    if digest != "sha256" or mechanism not in SUPPORTED_MECHANISMS:
        raise TokenSignError(f"Thuật toán ký không được hỗ trợ: {mechanism}/{digest}.")
    if not data:
        raise TokenSignError("Yêu cầu ký không có dữ liệu cần ký.")
    return data, mechanism


def run_online(args: argparse.Namespace, identity: TokenIdentity) -> str:
    """Prepare → sign on token → complete through the HTTP API; return the new version id."""
    import httpx

    base = args.server.rstrip("/")
    headers = {"Authorization": f"Bearer {args.token}", "Accept": "application/json"}
    chain_pem = [_pem(der) for der in identity.chain] + list(args.extra_chain)
    with httpx.Client(headers=headers, timeout=args.timeout) as client:
        prepared = _post(
            client,
            f"{base}/api/v1/documents/{args.document}/sign",
            {
                "mode": "external",
                "certificate_pem": _pem(identity.certificate or b""),
                "chain_pem": chain_pem,
            },
            201,
        )
        data, mechanism = _decode_request(prepared)
        session_id = prepared.get("session_id")
        if not session_id:
            raise TokenSignError("Máy chủ không trả về mã phiên ký.")
        signature = sign_on_token(identity.key, data, mechanism)
        done = _post(
            client,
            f"{base}/api/v1/signing-sessions/{session_id}/complete",
            {"signature": base64.b64encode(signature).decode("ascii")},
            200,
        )
    version_id = done.get("id")
    if version_id is None:
        raise TokenSignError("Máy chủ không trả về mã phiên bản tài liệu đã ký.")
    return str(version_id)


def run_offline(args: argparse.Namespace, identity: TokenIdentity) -> None:
    try:
        with open(args.request, encoding="utf-8") as fh:
            req = json.load(fh)
    except (OSError, ValueError) as exc:
        raise TokenSignError(f"Không đọc được tệp yêu cầu ký: {args.request}") from exc
    data, mechanism = _decode_request(req)
    signature = sign_on_token(identity.key, data, mechanism)
    try:
        with open(args.out, "wb") as fh:
            fh.write(signature)
    except OSError as exc:
        raise TokenSignError(f"Không ghi được tệp chữ ký: {args.out}") from exc


def run_export(args: argparse.Namespace, identity: TokenIdentity) -> None:
    text = _pem(identity.certificate or b"") + "".join(_pem(d) for d in identity.chain)
    try:
        with open(args.export_cert, "w", encoding="ascii") as fh:
            fh.write(text)
    except OSError as exc:
        raise TokenSignError(f"Không ghi được tệp chứng thư: {args.export_cert}") from exc


# --------------------------------------------------------------------------------------- CLI
def add_arguments(parser: argparse.ArgumentParser) -> None:
    from api.settings import Settings

    parser.add_argument("--module", default=Settings().pkcs11_module,
                        help="PKCS#11 library of the token (e.g. /usr/lib/softhsm/libsofthsm2.so)")
    parser.add_argument("--token-label", help="label of the token")
    parser.add_argument("--key-label", help="label of the private key (if the token has several)")
    parser.add_argument("--pin-env", default=DEFAULT_PIN_ENV,
                        help=f"environment variable holding the PIN (default {DEFAULT_PIN_ENV}); "
                        "prompted for when unset")
    online = parser.add_argument_group("online mode")
    online.add_argument("--server", help="base URL of the ioffice server")
    online.add_argument("--token", default=os.environ.get(DEFAULT_ACCESS_TOKEN_ENV),
                        help=f"bearer access token (default: ${DEFAULT_ACCESS_TOKEN_ENV}, which "
                        "keeps it out of the process list)")
    online.add_argument("--document", help="document id to sign")
    online.add_argument("--chain", dest="extra_chain", action="append", default=[],
                        type=_read_pem_file, metavar="PEM",
                        help="extra issuer certificate to send (repeatable)")
    online.add_argument("--timeout", type=float, default=60.0, help="HTTP timeout in seconds")
    offline = parser.add_argument_group("offline mode")
    offline.add_argument("--request", help="prepared request JSON (data_to_sign, mechanism)")
    offline.add_argument("--out", help="where to write the raw signature bytes")
    parser.add_argument("--export-cert", metavar="FILE",
                        help="write the token's certificate and chain as PEM and exit")


def _read_pem_file(path: str) -> str:
    try:
        with open(path, encoding="ascii") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}") from exc


def run(args: argparse.Namespace) -> int:
    """Run ``token-sign`` for parsed ``args``; returns the process exit code."""
    parser: argparse.ArgumentParser = args._token_sign_parser
    if not args.module or not args.token_label:
        parser.error("--module and --token-label are required")
    if args.request:
        if not args.out:
            parser.error("--request needs --out")
        mode = "offline"
    elif args.export_cert:
        mode = "export"
    elif args.server and args.token and args.document:
        mode = "online"
    else:
        parser.error(
            "choose a mode: --server/--token/--document, --request/--out or --export-cert"
        )
    session = None
    try:
        session = _open_session(args.module, args.token_label, _read_pin(args.pin_env))
        identity = _find_identity(session, args.key_label, need_cert=mode != "offline")
        if mode == "offline":
            run_offline(args, identity)
        elif mode == "export":
            run_export(args, identity)
        else:
            print(run_online(args, identity))
    except TokenSignError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
    finally:
        if session is not None:
            try:
                session.close()
            except Exception:  # noqa: BLE001 - closing a dead session is not worth reporting
                pass
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Add ``token-sign`` to the ``ioffice`` CLI; the handler is ``args.func(args) -> int``."""
    parser = subparsers.add_parser(
        "token-sign",
        help="sign a document with a PKCS#11 USB token (external signing)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(func=run, _token_sign_parser=parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ioffice token-sign",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    parser.set_defaults(_token_sign_parser=parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
