"""Signing-engine fixtures: the shared test PKI and PDF maker (tests.support), the development PKI
served on loopback, and interop helpers (pdfsig, qpdf)."""
from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.pdfs import make_pdf  # noqa: F401 - the shared PDF maker
from tests.support.pki import PASSPHRASE, TestPki, test_pki  # noqa: F401 - the shared test PKI


def _free_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@dataclass
class DevEnv:
    """The development PKI (certs.devpki) with its TSA/OCSP/CRL router served on loopback."""

    pki: object
    server: object

    def signer(self, username: str | None = None):
        from certs.keys import load_signer
        from signing.engine import PreparedSigner

        path = self.pki.personal_key_path(username) if username else self.pki.seal_key_path
        return PreparedSigner(load_signer(str(path), passphrase=DEV_PASSPHRASE))

    def timestamper(self, **kw):
        from signing.engine import http_timestamper

        return http_timestamper(self.pki.tsa_url, **kw)

    def vc_factory(self, **kw):
        from certs.trust import load_trust_roots
        from signing.engine import make_validation_context

        return make_validation_context(load_trust_roots(self.pki.root_pem_path), **kw)

    def validation_context(self):
        from pyhanko_certvalidator import ValidationContext

        from certs.trust import load_trust_roots

        return ValidationContext(trust_roots=load_trust_roots(self.pki.root_pem_path),
                                 allow_fetching=True)


DEV_PASSPHRASE = b"dev-passphrase"
DEV_SIGNERS = [("chutich", "Nguyễn Văn Hùng"), ("vanthu", "Trần Thị Lựu")]


@pytest.fixture(scope="session")
def dev_env(tmp_path_factory) -> DevEnv:
    import time

    import uvicorn
    from fastapi import FastAPI

    from api.routes.devpki import make_router
    from certs.devpki import ensure_dev_pki

    port = _free_port()
    pki = ensure_dev_pki(tmp_path_factory.mktemp("devpki"), passphrase=DEV_PASSPHRASE,
                         agency_name="UBND huyện Yên Khánh", signers=DEV_SIGNERS,
                         base_url=f"http://127.0.0.1:{port}/dev-pki")
    app = FastAPI()
    app.include_router(make_router(pki))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield DevEnv(pki=pki, server=server)
    server.should_exit = True
    t.join(5)


def _nss_for(root_pem: Path, d: Path) -> Path:
    subprocess.run(["certutil", "-N", "-d", f"sql:{d}", "--empty-password"], check=True,
                   capture_output=True)
    subprocess.run(["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i", str(root_pem),
                    "-d", f"sql:{d}"], check=True, capture_output=True)
    return d


@pytest.fixture(scope="session")
def nss_db(tmp_path_factory, dev_env) -> Path:
    """NSS database trusting the development root (for `pdfsig -nssdir`)."""
    return _nss_for(dev_env.pki.root_pem_path, tmp_path_factory.mktemp("nss"))


@pytest.fixture
def pdf_bytes() -> bytes:
    return make_pdf(2)


def pdfsig(path: Path, nss_dir: Path | None = None) -> str:
    cmd = ["pdfsig"]
    if nss_dir is not None:
        cmd += ["-nssdir", f"sql:{nss_dir}"]
    res = subprocess.run(cmd + [str(path)], capture_output=True, text=True, timeout=60)
    return res.stdout + res.stderr


def qpdf_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, timeout=60)


def assert_interop(path: Path, nss_dir: Path, n_signatures: int) -> None:
    """pdfsig says every signature is valid and trusted; qpdf finds no errors."""
    out = pdfsig(path, nss_dir)
    assert out.count("Signature is Valid") == n_signatures, out
    assert out.count("Certificate is Trusted") == n_signatures, out
    q = qpdf_check(path)
    assert q.returncode == 0, q.stdout + q.stderr
