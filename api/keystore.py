"""Server-held signing keys given to officials at run time (no restart).

A PKCS#12 upload is opened with its passphrase, checked, and re-encrypted under the instance secret
into ``<data dir>/keys/users/<username>-<fingerprint>.p12`` (mode 0600): every new key gets a new
file, hence a new key reference, so the signing adapter's per-reference caches can never hand out
the previous key. A ``pkcs11:`` URI is opened once to read its certificate and stored as is.

On the development PKI, a new signer gets a personal certificate when the administrator creates
them (or gives them a signing role).
"""
from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ioffice.accounts.models import User
from ioffice.kernel.errors import InvalidInput

from .container import Container

log = logging.getLogger("ioffice")

MAX_PKCS12_BYTES = 64 * 1024
DEV_SIGNER_ROLES = ("leader", "unit_head", "certifier", "clerk")  # as `ioffice init` gives them


@dataclass(frozen=True)
class PreparedKey:
    """A key that opened: its certificate (PEM, to check) and how to keep it (returns the key ref)."""

    certificate_pem: str
    kind: str  # pkcs12 | pkcs11
    store: Callable[[str], str]


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def prepare_pkcs12(container: Container, data: bytes, passphrase: str) -> PreparedKey:
    """Open an uploaded PKCS#12. Raises InvalidInput (too large, wrong passphrase, no key/certificate)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12

    if not data:
        raise InvalidInput("Chưa chọn tệp khóa ký PKCS#12 (.p12, .pfx).")
    if len(data) > MAX_PKCS12_BYTES:
        raise InvalidInput("Tệp khóa ký PKCS#12 quá lớn (tối đa 64 KB).")
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase.encode() or None)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("Không mở được tệp khóa ký PKCS#12: sai mật khẩu hoặc tệp không phải PKCS#12.") from exc
    if key is None or cert is None:
        raise InvalidInput("Tệp PKCS#12 phải chứa cả khóa riêng và chứng thư số của người ký.")
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey,
                            ed448.Ed448PrivateKey)):
        raise InvalidInput("Loại khóa trong tệp PKCS#12 không dùng được để ký (cần RSA, ECDSA hoặc EdDSA).")
    settings = container.settings
    sealed = pkcs12.serialize_key_and_certificates(b"ioffice", key, cert, extra or None,
                                                   BestAvailableEncryption(settings.pki_passphrase))
    fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()[:16]

    def store(username: str) -> str:
        path = settings.resolved_data_dir / "keys" / "users" / f"{username}-{fingerprint}.p12"
        _write_private(path, sealed)
        return str(path)

    return PreparedKey(certificate_pem=cert.public_bytes(Encoding.PEM).decode(), kind="pkcs12", store=store)


def prepare_pkcs11(container: Container, uri: str) -> PreparedKey:
    """Open a ``pkcs11:`` key once to read its certificate. Raises InvalidInput / SigningKeyUnavailable."""
    from asn1crypto import pem

    from certs.keys import close_signer, load_signer

    uri = uri.strip()
    if not uri.startswith("pkcs11:"):
        raise InvalidInput("Địa chỉ khóa phải bắt đầu bằng «pkcs11:».")
    signer = load_signer(uri, module_path=container.settings.pkcs11_module)
    try:
        cert = signer.signing_cert
        if cert is None:
            raise InvalidInput("Không tìm thấy chứng thư số đi kèm khóa trên thiết bị PKCS#11.")
        cert_pem = pem.armor("CERTIFICATE", cert.dump()).decode()
    finally:
        close_signer(signer)  # log out: the signer opens its own session when it signs
    return PreparedKey(certificate_pem=cert_pem, kind="pkcs11", store=lambda _username: uri)


def give_dev_certificate(container: Container, user: User) -> bool:
    """On the development PKI: issue ``user`` a personal certificate (when they hold a signing role
    and have no key yet) and point their key at it. Returns True when a key was given."""
    devpki = container.devpki
    if devpki is None or user.signing_key or not user.has_role(*DEV_SIGNER_ROLES):
        return False
    from certs.devpki import ensure_dev_pki

    if user.username not in devpki.personal_certs:
        fresh = ensure_dev_pki(devpki.pki_dir, passphrase=devpki.passphrase, agency_name=devpki.agency_name,
                               signers=[(user.username, user.full_name)], base_url=devpki.base_url)
        devpki.personal_certs[user.username] = fresh.personal_certs[user.username]
        log.info("development PKI: personal certificate issued for %s", user.username)
    user.signing_key = f"devpki:{user.username}"
    return True
