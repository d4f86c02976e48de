"""The test PKI of the signing-side tests: certomancer (``certomancer.yml`` next to this file) with
its TSA/OCSP/CRL services on loopback. Keys are generated per test session."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server

HERE = Path(__file__).parent  # certomancer.yml
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
