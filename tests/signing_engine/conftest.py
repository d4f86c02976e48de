"""Test PKI (certomancer) with real TSA/OCSP/CRL services on loopback, and helpers."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from reportlab.pdfgen import canvas
from werkzeug.serving import make_server

HERE = Path(__file__).parent
PASSPHRASE = b"mat-khau-thu"
KEY_LABELS = ("root", "interm", "interm-ocsp", "tsa", "signer", "signer-revoked",
              "signer-expired", "signer-nokeyusage", "seal")


class _LateApp:
    """WSGI app whose target is set after the server is bound (the port goes into the PKI)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class TestPki:
    arch: object
    base_url: str
    workdir: Path
    server: object

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/ioffice/tsa/tsa"

    def p12(self, label: str) -> Path:
        """PKCS#12 (passphrase PASSPHRASE) with the cert, its key and the chain."""
        path = self.workdir / f"{label}.p12"
        if not path.exists():
            data = self.arch.package_pkcs12(label, password=PASSPHRASE)
            path.write_bytes(data)
        return path

    def cert(self, label: str):
        return self.arch.get_cert(label)

    @property
    def root_pem(self) -> Path:
        path = self.workdir / "root.pem"
        if not path.exists():
            from asn1crypto import pem

            path.write_bytes(pem.armor("CERTIFICATE", self.cert("root").dump()))
        return path

    def validation_context(self, **kw):
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(trust_roots=[self.cert("root")], allow_fetching=True, **kw)


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory) -> TestPki:
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import CertomancerConfig

    work = tmp_path_factory.mktemp("pki")
    for label in KEY_LABELS:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (work / f"{label}.key.pem").write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
        )
    late = _LateApp()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    cfg = CertomancerConfig.from_file(str(HERE / "certomancer.yml"), key_search_dir=str(work),
                                      external_url_prefix=base)
    arch = cfg.get_pki_arch("ioffice")
    late.app = Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield TestPki(arch=arch, base_url=base, workdir=work, server=server)
    server.shutdown()


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
        from signing.engine import PreparedSigner

        path = self.pki.personal_key_path(username) if username else self.pki.seal_key_path
        return PreparedSigner.from_pkcs12(path, DEV_PASSPHRASE)

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


def make_pdf(pages: int = 1, text: str = "Quyet dinh so 05/QD-UBND (test document)") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for i in range(pages):
        c.drawString(72, 760, f"{text} - page {i + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


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
