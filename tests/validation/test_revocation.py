"""Trust is judged at signing time: revocation data from the DSS (CRL or OCSP), timestamps as proof."""
from __future__ import annotations

import datetime as dt
import io

from asn1crypto import crl as a_crl
from asn1crypto import ocsp as a_ocsp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from pyhanko.sign.validation.dss import DocumentSecurityStore

from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf

from .builders import sign
from .pki import NOW


# Revocation data made here rather than by certomancer: these tests need a revocation time relative
# to the moment of signing (an hour after it), while certomancer's revocations are fixed in its config.
def _crl(pki, revoked_serial: int, revoked_at: dt.datetime, this_update: dt.datetime):
    inter = pki.intermediate
    c = (x509.CertificateRevocationListBuilder().issuer_name(inter.cert.subject)
         .last_update(this_update).next_update(this_update + dt.timedelta(days=7))
         .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                  .serial_number(revoked_serial)
                                  .revocation_date(revoked_at).build())
         .add_extension(x509.CRLNumber(2), False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             inter.key.public_key()), False)
         .sign(inter.key, hashes.SHA256()))
    return a_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER))


def _ocsp(pki, who, *, revoked_at: dt.datetime | None, produced: dt.datetime):
    inter = pki.intermediate
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=who.cert, issuer=inter.cert, algorithm=hashes.SHA1(),
        cert_status=ocsp.OCSPCertStatus.REVOKED if revoked_at else ocsp.OCSPCertStatus.GOOD,
        this_update=produced, next_update=produced + dt.timedelta(days=1),
        revocation_time=revoked_at, revocation_reason=None,
    ).responder_id(ocsp.OCSPResponderEncoding.HASH, inter.cert)
    resp = b.sign(inter.key, hashes.SHA256())
    return a_ocsp.OCSPResponse.load(resp.public_bytes(serialization.Encoding.DER))


def _with_dss(pdf: bytes, **kw) -> bytes:
    out = io.BytesIO(pdf)
    DocumentSecurityStore.add_dss(out, None, **kw)
    return out.getvalue()


def test_revoked_by_embedded_ocsp(pki):
    """An OCSP response in the DSS says the signer's certificate was revoked before signing."""
    pdf = sign(make_pdf(), pki, who=pki.signer2)
    resp = _ocsp(pki, pki.signer2, revoked_at=NOW - dt.timedelta(days=2),
                 produced=dt.datetime.now(dt.UTC))
    rep = validate_pdf(_with_dss(pdf, ocsps=[resp]), trust_roots=[pki.root.cert], isolate=False)
    s = rep.signatures[0]
    assert s.revocation == "revoked" and s.trusted is False and rep.trusted is False


def test_good_by_embedded_ocsp(pki):
    pdf = sign(make_pdf(), pki, who=pki.signer2)
    resp = _ocsp(pki, pki.signer2, revoked_at=None, produced=dt.datetime.now(dt.UTC))
    rep = validate_pdf(_with_dss(pdf, ocsps=[resp]), trust_roots=[pki.root.cert], isolate=False)
    assert rep.signatures[0].revocation == "good" and rep.trusted


def test_revoked_after_timestamped_signing_stays_trusted(pki):
    """The certificate was revoked an hour after signing; the signature timestamp proves the
    signature is older: still trusted (not revoked at signing time), with a note."""
    pdf = sign(make_pdf(), pki, who=pki.signer2, tsa=True)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    crl = _crl(pki, pki.signer2.cert.serial_number, later, later + dt.timedelta(minutes=5))
    rep = validate_pdf(_with_dss(pdf, crls=[crl]), trust_roots=[pki.root.cert], isolate=False,
                       now=later + dt.timedelta(hours=1))
    s = rep.signatures[0]
    assert s.trusted is True, s
    assert s.revocation == "good"
    assert any("thu hồi sau thời điểm ký" in p for p in s.problems)


def test_revoked_after_signing_without_timestamp_is_not_trusted(pki):
    """Without a timestamp the signing time is only the signer's claim: judged now, revoked."""
    pdf = sign(make_pdf(), pki, who=pki.signer2)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    crl = _crl(pki, pki.signer2.cert.serial_number, later, later + dt.timedelta(minutes=5))
    rep = validate_pdf(_with_dss(pdf, crls=[crl]), trust_roots=[pki.root.cert], isolate=False,
                       now=later + dt.timedelta(hours=1))
    s = rep.signatures[0]
    assert s.trusted is False and s.revocation == "revoked"
