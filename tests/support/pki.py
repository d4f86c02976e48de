"""The one test PKI: certomancer (``certomancer.yml`` next to this file). Keys are generated per
test session. ``test_pki`` serves its TSA/OCSP/CRL on loopback; ``offline_pki()`` is the same
hierarchy with unreachable URLs, for validation tests that must not fetch anything."""
from __future__ import annotations

import datetime as dt
import functools
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from werkzeug.serving import make_server

HERE = Path(__file__).parent  # certomancer.yml
PASSPHRASE = b"mat-khau-thu"
KEY_LABELS = ("root", "interm", "interm-ocsp", "tsa", "signer", "signer-revoked",
              "signer-expired", "signer-nokeyusage", "seal", "signer2", "other-root", "stranger")
# Extra hierarchies for the "which root does each signer chain to" report: EC keys, quick to make.
EC_KEY_LABELS = ("vgca-root", "vgca-ca", "national-root", "official", "citizen")
OFFLINE_URL = "http://pki.invalid"


class _LateApp:
    """WSGI app whose target is set after the server is bound (the port goes into the PKI)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class Identity:
    """One certificate of the test PKI with its key, in the forms tests need."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @property
    def asn1_cert(self):
        from asn1crypto import x509 as a_x509

        return a_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self):
        from asn1crypto import keys as a_keys

        return a_keys.PrivateKeyInfo.load(self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class TestPki:
    arch: object
    base_url: str
    workdir: Path
    server: object = None
    _identities: dict = field(default_factory=dict, repr=False)

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

    def identity(self, label: str) -> Identity:
        """The certificate ``label`` and its key as ``cryptography`` objects."""
        if label not in self._identities:
            key_label = self.arch.get_cert_spec(label).subject_key
            key_der = self.arch.key_set.get_private_key(key_label).dump()
            self._identities[label] = Identity(
                cert=x509.load_der_x509_certificate(self.cert(label).dump()),
                key=serialization.load_der_private_key(key_der, password=None))
        return self._identities[label]

    def simple_signer(self, label: str):
        """A pyHanko ``SimpleSigner`` for ``label`` carrying its chain (issuing CA and root)."""
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        who = self.identity(label)
        chain = [self.cert(c) for c in self.arch.get_chain(label)]
        return signers.SimpleSigner(signing_cert=who.asn1_cert, signing_key=who.asn1_key,
                                    cert_registry=SimpleCertificateStore.from_certs(chain))

    def crl_der(self, repo: str = "interm", at: dt.datetime | None = None) -> bytes:
        """The CRL of ``repo`` as certomancer serves it at ``at`` (default: now)."""
        at = at or dt.datetime.now(dt.UTC)
        return self.arch.service_registry.get_crl(repo, at_time=at).dump()

    def issue(self, common_name: str, public_key, *, tsa: bool = False,
              not_before: dt.datetime | None = None, not_after: dt.datetime | None = None,
              crl_url: str | None = None) -> x509.Certificate:
        """An end-entity certificate from the issuing CA ("interm") for a key certomancer does
        not hold: one generated on a token (SoftHSM2) or in the test. certomancer only issues
        for keys it loads when the PKI is built, so this is the one hand-made issuance."""
        ca = self.identity("interm")
        now = dt.datetime.now(dt.UTC)
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "UBND huyện Yên Khánh"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ])
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.cert.subject)
             .public_key(public_key).serial_number(x509.random_serial_number())
             .not_valid_before(not_before or now - dt.timedelta(days=1))
             .not_valid_after(not_after or now + dt.timedelta(days=365))
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
             .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                 ca.key.public_key()), critical=False))
        if crl_url:
            b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(crl_url)], None, None, None)]), critical=False)
        if tsa:
            ku = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]),
                                critical=True)
        else:
            ku = x509.KeyUsage(True, True, False, False, False, False, False, False, False)
        return b.add_extension(ku, critical=True).sign(ca.key, hashes.SHA256())

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


def issue_from_dev_pki(pki, public_key, name: str, *, days: int = 365, not_before=None,
                       key_usage: bool = True) -> x509.Certificate:
    """A signing certificate from the *installation's* development intermediate CA
    (``certs.devpki``, the product's own PKI that the tests configure as trusted), for a key
    held elsewhere (a SoftHSM2 token). ``key_usage=False`` gives encipherment-only usage."""
    ikey, icert = pki.load_key(pki.intermediate_key_path)
    now = dt.datetime.now(dt.UTC)
    ku = x509.KeyUsage(True, True, False, False, False, False, False, False, False) if key_usage else \
        x509.KeyUsage(False, False, True, False, False, False, False, False, False)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(icert.subject).public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(minutes=5))
            .not_valid_after((not_before or now) + dt.timedelta(days=days))
            .add_extension(ku, critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ikey.public_key()),
                           critical=False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(pki.crl_url)], None, None, None)]), critical=False)
            .sign(ikey, hashes.SHA256()))


def _write_keys(work: Path) -> None:
    def write(label: str, key) -> None:
        (work / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    for label in KEY_LABELS:
        write(label, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    for label in EC_KEY_LABELS:
        write(label, ec.generate_private_key(ec.SECP256R1()))


def _load(work: Path, base_url: str):
    from certomancer.registry import CertomancerConfig

    return CertomancerConfig.from_file(str(HERE / "certomancer.yml"), key_search_dir=str(work),
                                       external_url_prefix=base_url)


@functools.cache
def offline_pki() -> TestPki:
    """The test PKI with nothing served: its CRL/OCSP URLs point at ``pki.invalid``."""
    work = Path(tempfile.mkdtemp(prefix="ioffice-pki-"))
    _write_keys(work)
    return TestPki(arch=_load(work, OFFLINE_URL).get_pki_arch("ioffice"), base_url=OFFLINE_URL,
                   workdir=work)


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory) -> TestPki:
    from certomancer.integrations.animator import Animator, AnimatorArchStore

    work = tmp_path_factory.mktemp("pki")
    _write_keys(work)
    late = _LateApp()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    cfg = _load(work, base)
    arch = cfg.get_pki_arch("ioffice")
    late.app = Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield TestPki(arch=arch, base_url=base, workdir=work, server=server)
    server.shutdown()
