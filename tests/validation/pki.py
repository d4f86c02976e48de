"""A throw-away test PKI built with ``cryptography``: root, intermediate, signers, TSA, CRL.

Everything lives in memory; nothing touches the network. EC P-256 keys keep it fast.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from asn1crypto import crl as a_crl
from asn1crypto import keys as a_keys
from asn1crypto import x509 as a_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.UTC)
CRL_URL = "http://pki.invalid/intermediate.crl"


def _name(cn: str, org: str = "Ban Cơ yếu Chính phủ (thử nghiệm)") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


@dataclass
class Identity:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

    @property
    def asn1_cert(self) -> a_x509.Certificate:
        return a_x509.Certificate.load(self.cert.public_bytes(serialization.Encoding.DER))

    @property
    def asn1_key(self) -> a_keys.PrivateKeyInfo:
        return a_keys.PrivateKeyInfo.load(self.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _issue(subject: x509.Name, issuer: Identity | None, *, ca: bool = False, tsa: bool = False,
           crl_dp: bool = False, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None) -> Identity:
    key = key or ec.generate_private_key(ec.SECP256R1())
    issuer_name = issuer.cert.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(NOW - dt.timedelta(days=30))
         .not_valid_after(NOW + dt.timedelta(days=365))
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False))
    if issuer:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()), False)
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), True)
    else:
        b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=not tsa, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), True)
        if tsa:
            b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)
    if crl_dp:
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(CRL_URL)], relative_name=None,
            reasons=None, crl_issuer=None)]), False)
    cert = b.sign(signing_key, hashes.SHA256())
    return Identity(cert=cert, key=key)


@dataclass
class TestPKI:
    root: Identity
    intermediate: Identity
    signer: Identity
    signer2: Identity
    revoked: Identity
    tsa: Identity
    other_root: Identity
    stranger: Identity
    crl_der: bytes = b""
    extra: dict = field(default_factory=dict)

    @property
    def asn1_crl(self) -> a_crl.CertificateList:
        return a_crl.CertificateList.load(self.crl_der)


def build_pki() -> TestPKI:
    root = _issue(_name("Root CA thử nghiệm"), None, ca=True)
    inter = _issue(_name("CA cấp dưới thử nghiệm"), root, ca=True)
    signer = _issue(_name("Nguyễn Văn An", "UBND huyện Yên Khánh"), inter, crl_dp=True)
    signer2 = _issue(_name("Trần Thị Bình", "UBND huyện Yên Khánh"), inter, crl_dp=True)
    revoked = _issue(_name("Lê Văn Cường", "UBND huyện Yên Khánh"), inter, crl_dp=True)
    # pyHanko's DummyTimeStamper only signs with RSA
    tsa = _issue(_name("TSA thử nghiệm"), inter, tsa=True,
                 key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    other_root = _issue(_name("Root CA lạ"), None, ca=True)
    stranger = _issue(_name("Người ký lạ"), other_root)
    crl = (x509.CertificateRevocationListBuilder().issuer_name(inter.cert.subject)
           .last_update(NOW - dt.timedelta(hours=1))
           .next_update(NOW + dt.timedelta(days=7))
           .add_revoked_certificate(
               x509.RevokedCertificateBuilder().serial_number(revoked.cert.serial_number)
               .revocation_date(NOW - dt.timedelta(days=1)).build())
           .add_extension(x509.CRLNumber(1), False)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
               inter.key.public_key()), False)
           .sign(inter.key, hashes.SHA256()))
    return TestPKI(root=root, intermediate=inter, signer=signer, signer2=signer2,
                   revoked=revoked, tsa=tsa, other_root=other_root, stranger=stranger,
                   crl_der=crl.public_bytes(serialization.Encoding.DER))
