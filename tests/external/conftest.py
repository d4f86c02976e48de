"""Fixtures for external signing: the test PKI, a SoftHSM2 token holding the official's keys and
certificates, a local RFC 3161 timestamper, and helpers that run the reference client in a
separate process."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.support.pdfs import make_pdf
from tests.support.pki import TestPki, offline_pki

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "test"
USER_PIN = "5678"
SO_PIN = "1234"
PIN_ENV = "IOFFICE_TEST_TOKEN_PIN"
REPO_ROOT = Path(__file__).resolve().parents[2]


def to_asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@dataclass
class DevPKI:
    """The one test PKI (tests/support/pki.py, certomancer) seen as ``cryptography`` objects:
    its root, its issuing CA, and issuance for keys generated on the token."""

    pki: TestPki

    @property
    def root(self) -> x509.Certificate:
        return self.pki.identity("root").cert

    @property
    def ca(self) -> x509.Certificate:
        return self.pki.identity("interm").cert

    @property
    def ca_key(self):
        return self.pki.identity("interm").key

    @property
    def other_root(self) -> x509.Certificate:
        """A CA nobody configured."""
        return self.pki.identity("other-root").cert

    def crls(self) -> list:
        """The root's and the issuing CA's CRLs (the issuing CA's certificate points to the
        root's): what signing embeds for B-LT without fetching."""
        from asn1crypto import crl

        return [crl.CertificateList.load(self.pki.crl_der(repo)) for repo in ("interm", "root")]

    def issue(self, cn: str, public_key, **kw) -> x509.Certificate:
        return self.pki.issue(cn, public_key, **kw)


@pytest.fixture(scope="session")
def pki() -> DevPKI:
    return DevPKI(offline_pki())


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
    """A local RFC 3161 timestamper (pyHanko's in-process TSA) with the test PKI's TSA certificate."""
    from pyhanko.sign.timestamps import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    tsa = pki.pki.identity("tsa")  # issued by the root
    return DummyTimeStamper(tsa_cert=tsa.asn1_cert, tsa_key=tsa.asn1_key,
                            certs_to_embed=SimpleCertificateStore.from_certs([to_asn1(pki.ca)]))


@pytest.fixture
def pdf() -> bytes:
    return make_pdf()


@pytest.fixture(scope="session")
def validation_context_factory(pki: DevPKI):
    from pyhanko_certvalidator import ValidationContext

    crls = pki.crls()

    def make(**kw):
        return ValidationContext(trust_roots=[to_asn1(pki.root)],
                                 other_certs=[to_asn1(pki.ca)], crls=crls, allow_fetching=False,
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
