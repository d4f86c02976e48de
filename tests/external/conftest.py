"""Fixtures for external signing: a test CA, a SoftHSM2 token holding the official's keys and
certificates, a local RFC 3161 timestamper, and helpers that run the reference client in a
separate process."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.pdfs import make_pdf

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "test"
USER_PIN = "5678"
SO_PIN = "1234"
PIN_ENV = "IOFFICE_TEST_TOKEN_PIN"
REPO_ROOT = Path(__file__).resolve().parents[2]


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND huyện Yên Khánh"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(subject, public_key, issuer_name, issuer_key, *, ca=False, tsa=False,
           not_before=None, not_after=None, crl_url=None) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if crl_url:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(crl_url)], None, None, None)]), critical=False)
    if ca:
        ku = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
    elif tsa:
        ku = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                            critical=True)
    else:
        ku = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
    b = b.add_extension(ku, critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@dataclass
class DevPKI:
    root_key: rsa.RSAPrivateKey
    root: x509.Certificate
    ca_key: rsa.RSAPrivateKey
    ca: x509.Certificate

    def issue(self, cn: str, public_key, **kw) -> x509.Certificate:
        return _issue(_name(cn), public_key, self.ca.subject, self.ca_key, **kw)


@pytest.fixture(scope="session")
def pki() -> DevPKI:
    root_key = rsa.generate_private_key(65537, 2048)
    root = _issue(_name("Test Root CA"), root_key.public_key(), _name("Test Root CA"), root_key,
                  ca=True)
    ca_key = rsa.generate_private_key(65537, 2048)
    ca = _issue(_name("Test Issuing CA"), ca_key.public_key(), root.subject, root_key, ca=True)
    return DevPKI(root_key, root, ca_key, ca)


@dataclass
class Token:
    conf: Path
    env: dict
    certs: dict  # key label -> cryptography certificate

    def run_client(self, *args: str, check: bool = True,
                   env: dict | None = None) -> subprocess.CompletedProcess:
        """Run the reference client (``python -m api.cli_token``) in a separate process."""
        cmd = [sys.executable, "-m", "api.cli_token", "--module", SOFTHSM_MODULE,
               "--token-label", TOKEN_LABEL, "--pin-env", PIN_ENV, *args]
        proc = subprocess.run(cmd, env=env or self.env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=120)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc

    def sign_offline(self, tmp_path: Path, session, key_label: str | None = None) -> bytes:
        """Write the session's request like the server would, sign it with the client."""
        req = tmp_path / "request.json"
        req.write_text(json.dumps({
            "session_id": "offline",
            "data_to_sign": base64.b64encode(session.data_to_sign).decode(),
            "digest_algorithm": session.digest_algorithm,
            "signature_mechanism": session.signature_mechanism,
            "expires_at": session.expires_at.isoformat(),
        }))
        out = tmp_path / "signature.bin"
        extra = ["--key-label", key_label] if key_label else []
        self.run_client("--request", str(req), "--out", str(out), *extra)
        return out.read_bytes()


@pytest.fixture(scope="session")
def token(tmp_path_factory, pki: DevPKI) -> Token:
    """A fresh SoftHSM2 token 'test' with RSA keys 'signer' and 'other' and an EC P-256 key 'ec'
    (generated on the token), each with a certificate from the test CA, plus the CA certificate.
    All PKCS#11 work happens in subprocesses with their own SOFTHSM2_CONF."""
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\nslots.removable = false\n")
    env = dict(os.environ, SOFTHSM2_CONF=str(conf), **{PIN_ENV: USER_PIN})
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL,
                    "--so-pin", SO_PIN, "--pin", USER_PIN], env=env, check=True,
                   capture_output=True)

    def setup(*args: str) -> str:
        proc = subprocess.run([sys.executable, "-m", "tests.external.token_setup", *args],
                              env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    public_keys = json.loads(setup("generate", TOKEN_LABEL, USER_PIN))
    names = {"signer": "Nguyễn Văn Chủ Tịch", "other": "Trần Thị Khác", "ec": "Lê Văn Ký"}
    ids = {"signer": "01", "other": "02", "ec": "03"}
    certs, entries = {}, []
    for label, spki in public_keys.items():
        cert = pki.issue(names[label], serialization.load_pem_public_key(spki.encode()))
        certs[label] = cert
        entries.append([label, ids[label], cert.public_bytes(serialization.Encoding.PEM).decode()])
    entries.append(["issuing-ca", "ca", pki.ca.public_bytes(serialization.Encoding.PEM).decode()])
    certs_file = base / "certs.json"
    certs_file.write_text(json.dumps(entries))
    setup("store", TOKEN_LABEL, USER_PIN, str(certs_file))
    return Token(conf=conf, env=env, certs=certs)


@pytest.fixture(scope="session")
def timestamper(pki: DevPKI):
    """A local RFC 3161 timestamper (pyHanko's in-process TSA) with a certificate from the CA."""
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    tsa_key = rsa.generate_private_key(65537, 2048)
    tsa_cert = pki.issue("Test TSA", tsa_key.public_key(), tsa=True)
    from asn1crypto import keys

    return DummyTimeStamper(
        tsa_cert=to_asn1(tsa_cert),
        tsa_key=keys.PrivateKeyInfo.load(tsa_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
        certs_to_embed=SimpleCertificateStore.from_certs([to_asn1(pki.ca)]),
    )


@pytest.fixture
def pdf() -> bytes:
    return make_pdf()


@pytest.fixture(scope="session")
def validation_context_factory(pki: DevPKI):
    from pyhanko_certvalidator import ValidationContext

    def make(**kw):
        return ValidationContext(trust_roots=[to_asn1(pki.root)],
                                 other_certs=[to_asn1(pki.ca)], allow_fetching=False,
                                 revocation_mode="soft-fail", **kw)

    return make


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory, pki: DevPKI) -> Path:
    """An NSS database trusting the test root, for pdfsig."""
    d = tmp_path_factory.mktemp("nss")
    root_pem = d / "root.pem"
    root_pem.write_bytes(pki.root.public_bytes(serialization.Encoding.PEM))
    subprocess.run(["certutil", "-N", "-d", f"sql:{d}", "--empty-password"], check=True,
                   capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{d}", "-n", "ioffice-test-root",
                    "-t", "CT,C,C", "-i", str(root_pem)], check=True, capture_output=True)
    return d
