"""The validation tests' view of the one test PKI (``tests/support/pki.py``, certomancer): the
same hierarchy with nothing served, so nothing here touches the network. The CRL is the issuing
CAs' as certomancer publishes them now."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from asn1crypto import crl as a_crl

from tests.support.pki import Identity, offline_pki

NOW = dt.datetime.now(dt.UTC)


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
    crl_der: bytes  # the issuing CA's CRL (lists ``revoked``)
    root_crl_der: bytes  # the root's CRL (the issuing CA's certificate points to it)

    @property
    def asn1_crl(self) -> a_crl.CertificateList:
        return a_crl.CertificateList.load(self.crl_der)

    @property
    def asn1_crls(self) -> list[a_crl.CertificateList]:
        """Revocation data for the whole chain: what an LTV tool embeds."""
        return [self.asn1_crl, a_crl.CertificateList.load(self.root_crl_der)]

    @staticmethod
    def identity(label: str) -> Identity:
        """Any other certificate of the test PKI (``tests/support/certomancer.yml``)."""
        return offline_pki().identity(label)


def build_pki() -> TestPKI:
    p = offline_pki()
    return TestPKI(root=p.identity("root"), intermediate=p.identity("interm"),
                   signer=p.identity("signer"), signer2=p.identity("signer2"),
                   revoked=p.identity("signer-revoked"), tsa=p.identity("tsa"),
                   other_root=p.identity("other-root"), stranger=p.identity("stranger"),
                   crl_der=p.crl_der("interm", NOW), root_crl_der=p.crl_der("root", NOW))
