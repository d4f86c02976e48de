"""Development PKI: root CA, intermediate CA, agency seal, personal signers, TSA and OCSP.

Everything is generated locally with ``cryptography`` (RSA-2048, SHA-256, PKCS#1 v1.5
signatures — the most widely interoperable choice; pdfsig/NSS, Adobe and pyHanko all accept it).
Private keys are stored as PKCS#12 files encrypted with the caller's passphrase (PBES2,
PBKDF2-HMAC-SHA256 + AES-256-CBC, HMAC-SHA256 MAC), mode 0600, in a 0700 directory.

``ensure_dev_pki`` is idempotent: the root and intermediate are created once; calling it again with
new signers only issues the missing certificates. Revocations are recorded in ``revoked.json`` and
published by :mod:`certs.devservices` (CRL and OCSP).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_NAME = "ioffice Development Root CA"
INTERMEDIATE_NAME = "ioffice Development Issuing CA"
TSA_NAME = "ioffice Development Time Stamping Authority"
OCSP_NAME = "ioffice Development OCSP Responder"
DEFAULT_BASE_URL = "http://127.0.0.1:8000/dev-pki"

_MANIFEST = "manifest.json"
_REVOKED = "revoked.json"
_USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600."""
    tmp = path.with_name(path.name + f".tmp{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    os.chmod(path, 0o600)


def _write_public(path: Path, data: bytes) -> None:
    """Write a certificate (public) file atomically, mode 0644."""
    _write_private(path, data)
    os.chmod(path, 0o644)


def _p12_bytes(
    name: str, key: rsa.RSAPrivateKey, cert: x509.Certificate, cas: Sequence[x509.Certificate], passphrase: bytes
) -> bytes:
    enc = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(100_000)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(passphrase)
    )
    return pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, cert, list(cas), enc)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass
class DevPki:
    """Paths and certificates of a development PKI created by :func:`ensure_dev_pki`."""

    pki_dir: Path
    passphrase: bytes
    agency_name: str
    base_url: str
    root_cert: x509.Certificate
    intermediate_cert: x509.Certificate
    seal_cert: x509.Certificate
    tsa_cert: x509.Certificate
    ocsp_cert: x509.Certificate
    personal_certs: dict[str, x509.Certificate] = field(default_factory=dict)

    # -- paths -----------------------------------------------------------------------------
    @property
    def root_pem_path(self) -> Path:
        return self.pki_dir / "root-ca.pem"

    @property
    def chain_pem_path(self) -> Path:
        """Intermediate followed by root, PEM."""
        return self.pki_dir / "chain.pem"

    @property
    def root_key_path(self) -> Path:
        return self.pki_dir / "root-ca.p12"

    @property
    def intermediate_key_path(self) -> Path:
        return self.pki_dir / "intermediate-ca.p12"

    @property
    def seal_key_path(self) -> Path:
        return self.pki_dir / "seal.p12"

    @property
    def tsa_key_path(self) -> Path:
        return self.pki_dir / "tsa.p12"

    @property
    def ocsp_key_path(self) -> Path:
        return self.pki_dir / "ocsp.p12"

    def personal_key_path(self, username: str) -> Path:
        """PKCS#12 of ``username``'s personal signing key; KeyError if not issued."""
        if username not in self.personal_certs:
            raise KeyError(username)
        return self.pki_dir / "personal" / f"{username}.p12"

    @property
    def chain(self) -> list[x509.Certificate]:
        """CA certificates above an end-entity: intermediate, root."""
        return [self.intermediate_cert, self.root_cert]

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa"

    @property
    def crl_url(self) -> str:
        return f"{self.base_url}/crl"

    @property
    def root_crl_url(self) -> str:
        return f"{self.base_url}/root.crl"

    # -- keys ------------------------------------------------------------------------------
    def load_key(self, path: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """(private key, certificate) from one of this PKI's PKCS#12 files."""
        key, cert, _ = pkcs12.load_key_and_certificates(Path(path).read_bytes(), self.passphrase)
        assert isinstance(key, rsa.RSAPrivateKey) and cert is not None  # this PKI makes RSA keys only
        return key, cert

    # -- revocation ------------------------------------------------------------------------
    def revoked(self) -> dict[int, dt.datetime]:
        """Serial number → revocation time of every revoked certificate."""
        p = self.pki_dir / _REVOKED
        if not p.exists():
            return {}
        raw = json.loads(p.read_text())
        return {int(k): dt.datetime.fromisoformat(v) for k, v in raw.items()}

    def revoke(self, cert: x509.Certificate, when: dt.datetime | None = None) -> None:
        """Record ``cert`` as revoked (published by the dev CRL and OCSP responder)."""
        data = {str(k): v.isoformat() for k, v in self.revoked().items()}
        data[str(cert.serial_number)] = (when or _now()).isoformat()
        _write_private(self.pki_dir / _REVOKED, json.dumps(data, indent=1).encode())


class _Issuer:
    def __init__(self, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> None:
        self.key = key
        self.cert = cert


def _name(cn: str, org: str | None = None, uid: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    if uid:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    return x509.Name(attrs)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _build(
    *,
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    issuer: _Issuer | None,
    days: int,
    ca: bool,
    path_len: int | None = None,
    key_usage: dict[str, bool],
    eku: list[x509.ObjectIdentifier] | None = None,
    eku_critical: bool = False,
    ocsp_url: str | None = None,
    crl_url: str | None = None,
    not_before: dt.datetime | None = None,
    extra: list[tuple[x509.ExtensionType, bool]] | None = None,
) -> x509.Certificate:
    start = not_before or (_now() - dt.timedelta(hours=1))
    pub = key.public_key()
    issuer_name = issuer.cert.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    ku = dict(
        digital_signature=False, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )
    ku.update(key_usage)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len), critical=True)
        .add_extension(x509.KeyUsage(**ku), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
    )
    if issuer is not None:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
    if ocsp_url:
        b = b.add_extension(
            x509.AuthorityInformationAccess(
                [x509.AccessDescription(x509.AuthorityInformationAccessOID.OCSP,
                                        x509.UniformResourceIdentifier(ocsp_url))]
            ),
            critical=False,
        )
    if crl_url:
        b = b.add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
            ),
            critical=False,
        )
    for ext, crit in extra or ():
        b = b.add_extension(ext, critical=crit)
    return b.sign(signing_key, hashes.SHA256())


_SIGNER_KU = {"digital_signature": True, "content_commitment": True}


def issue_signer_certificate(
    pki: DevPki,
    *,
    common_name: str,
    organization: str | None,
    uid: str | None = None,
    days: int = 3 * 365,
    not_before: dt.datetime | None = None,
    key_usage: dict[str, bool] | None = None,
) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """Issue a signing certificate from the dev intermediate; returns (key, cert).

    Not stored anywhere: for tests and tools that need odd certificates (expired, wrong usage).
    """
    ikey, icert = pki.load_key(pki.intermediate_key_path)
    key = _new_key()
    cert = _build(
        subject=_name(common_name, organization, uid), key=key, issuer=_Issuer(ikey, icert),
        days=days, ca=False, key_usage=key_usage or _SIGNER_KU, ocsp_url=pki.ocsp_url,
        crl_url=pki.crl_url, not_before=not_before,
    )
    return key, cert


def ensure_dev_pki(
    pki_dir: Path,
    *,
    passphrase: bytes,
    agency_name: str,
    signers: Sequence[tuple[str, str]],
    base_url: str = DEFAULT_BASE_URL,
) -> DevPki:
    """Create (or complete) the development PKI in ``pki_dir`` and return it.

    ``signers`` are ``(username, full_name)`` pairs; one personal certificate is issued per
    username that has none yet. The root and intermediate are never regenerated. ``base_url``
    is where :mod:`api.routes.devpki` is served (it is embedded in the certificates as the OCSP
    and CRL locations). Raises ValueError for a bad username or a wrong passphrase.
    """
    pki_dir = Path(pki_dir)
    pki_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(pki_dir, 0o700)
    (pki_dir / "personal").mkdir(exist_ok=True)
    os.chmod(pki_dir / "personal", 0o700)
    base_url = base_url.rstrip("/")
    manifest_path = pki_dir / _MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    base_url = manifest.get("base_url", base_url)
    agency_name = manifest.get("agency_name", agency_name)

    def load(path: Path) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        try:
            key, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
        except ValueError as exc:
            raise ValueError(f"cannot open {path.name}: wrong passphrase or damaged file") from exc
        if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
            raise ValueError(f"cannot open {path.name}: not a key and certificate of this PKI")
        return key, cert

    def store(path: Path, name: str, key: rsa.RSAPrivateKey, cert: x509.Certificate,
              cas: Sequence[x509.Certificate]) -> None:
        _write_private(path, _p12_bytes(name, key, cert, cas, passphrase))

    ocsp_url = f"{base_url}/ocsp"
    crl_url = f"{base_url}/crl"
    root_crl_url = f"{base_url}/root.crl"

    def cert_path(p12: Path) -> Path:
        return p12.with_suffix(".pem")

    def load_cert(p12: Path) -> x509.Certificate:
        pem = cert_path(p12)
        if pem.exists():
            return x509.load_pem_x509_certificate(pem.read_bytes())
        cert = load(p12)[1]
        _write_public(pem, _pem(cert))
        return cert

    def store_all(p12: Path, name: str, key: rsa.RSAPrivateKey, cert: x509.Certificate,
                  cas: Sequence[x509.Certificate]) -> None:
        store(p12, name, key, cert, cas)
        _write_public(cert_path(p12), _pem(cert))

    # Root
    root_p12 = pki_dir / "root-ca.p12"
    if root_p12.exists():
        root_cert = load_cert(root_p12)
    else:
        root_key = _new_key()
        root_cert = _build(
            subject=_name(ROOT_NAME, "ioffice Development"), key=root_key, issuer=None,
            days=20 * 365, ca=True, path_len=1,
            key_usage={"key_cert_sign": True, "crl_sign": True},
        )
        store_all(root_p12, "root", root_key, root_cert, [])

    # Intermediate (its key is loaded only when something must be issued)
    int_p12 = pki_dir / "intermediate-ca.p12"
    if int_p12.exists():
        int_cert = load_cert(int_p12)
    else:
        root_key = load(root_p12)[0]
        int_key = _new_key()
        int_cert = _build(
            subject=_name(INTERMEDIATE_NAME, "ioffice Development"), key=int_key,
            issuer=_Issuer(root_key, root_cert), days=10 * 365, ca=True, path_len=0,
            key_usage={"key_cert_sign": True, "crl_sign": True, "digital_signature": True},
            crl_url=root_crl_url,
        )
        store_all(int_p12, "intermediate", int_key, int_cert, [root_cert])
    cas = [int_cert, root_cert]
    _inter: list[_Issuer] = []

    def inter() -> _Issuer:
        if not _inter:
            _inter.append(_Issuer(load(int_p12)[0], int_cert))
        return _inter[0]

    def ensure_leaf(path: Path, name: str, subject: x509.Name, **kw: Any) -> x509.Certificate:
        if path.exists():
            return load_cert(path)
        key = _new_key()
        cert = _build(subject=subject, key=key, issuer=inter(), days=3 * 365, ca=False, **kw)
        store_all(path, name, key, cert, cas)
        return cert

    seal_cert = ensure_leaf(
        pki_dir / "seal.p12", "seal", _name(agency_name, agency_name),
        key_usage=_SIGNER_KU, ocsp_url=ocsp_url, crl_url=crl_url,
    )
    tsa_cert = ensure_leaf(
        pki_dir / "tsa.p12", "tsa", _name(TSA_NAME, "ioffice Development"),
        key_usage={"digital_signature": True, "content_commitment": True},
        eku=[ExtendedKeyUsageOID.TIME_STAMPING], eku_critical=True,
        ocsp_url=ocsp_url, crl_url=crl_url,
    )
    ocsp_cert = ensure_leaf(
        pki_dir / "ocsp.p12", "ocsp", _name(OCSP_NAME, "ioffice Development"),
        key_usage={"digital_signature": True}, eku=[ExtendedKeyUsageOID.OCSP_SIGNING],
        extra=[(x509.OCSPNoCheck(), False)],
    )
    personal: dict[str, x509.Certificate] = {}
    known = dict(manifest.get("signers", {}))
    for username, full_name in signers:
        if not _USERNAME_RE.match(username):
            raise ValueError(f"bad username {username!r}")
        known.setdefault(username, full_name)
    for username, full_name in known.items():
        personal[username] = ensure_leaf(
            pki_dir / "personal" / f"{username}.p12", username,
            _name(full_name, agency_name, username),
            key_usage=_SIGNER_KU, ocsp_url=ocsp_url, crl_url=crl_url,
        )

    for path, data in (
        (pki_dir / "root-ca.pem", _pem(root_cert)),
        (pki_dir / "chain.pem", _pem(int_cert) + _pem(root_cert)),
    ):
        if not path.exists() or path.read_bytes() != data:
            _write_public(path, data)
    new_manifest = {"agency_name": agency_name, "base_url": base_url, "signers": known}
    if new_manifest != manifest:
        _write_private(manifest_path, json.dumps(new_manifest, ensure_ascii=False, indent=1).encode())

    return DevPki(
        pki_dir=pki_dir, passphrase=passphrase, agency_name=agency_name, base_url=base_url,
        root_cert=root_cert, intermediate_cert=int_cert, seal_cert=seal_cert, tsa_cert=tsa_cert,
        ocsp_cert=ocsp_cert, personal_certs=personal,
    )
