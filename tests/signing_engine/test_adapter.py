"""signing.adapter.PyHankoSigning is wired by constructor arguments only: keys, the certificate
check and timestamps come from the caller (here the shared certomancer PKI, as api wires certs)."""
from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

from certs.keys import load_signer
from ioffice.kernel.errors import InvalidInput, SignerCertificateRejected
from ioffice.signatures import SignSpec
from signing.adapter import PyHankoSigning
from signing.engine import http_timestamper
from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf
from tests.support.pki import PASSPHRASE


def _spec(**kw):
    base = dict(kind="seal", level="B-T", key_ref=None, full_name="UBND huyện Yên Khánh", position="",
                agency_name="UBND huyện Yên Khánh")
    base.update(kw)
    return SignSpec(**base)


def test_injected_key_and_timestamper_sign_a_seal(test_pki):
    opened: list[str] = []

    def open_key(ref: str):
        opened.append(ref)
        return load_signer(str(test_pki.p12(ref)), passphrase=PASSPHRASE)

    adapter = PyHankoSigning(resolve_key=lambda ref: ref or "seal", open_key=open_key,
                             timestamper=lambda: http_timestamper(test_pki.tsa_url), default_level="B-T")
    out = io.BytesIO()
    adapter.sign(io.BytesIO(make_pdf(1)), _spec(), out)
    adapter.sign(io.BytesIO(make_pdf(1)), _spec(), io.BytesIO())

    assert opened == ["seal"]  # each key is opened once and kept
    sig = PdfFileReader(io.BytesIO(out.getvalue())).embedded_signatures[0]
    assert sig.signer_cert.dump() == test_pki.cert("seal").dump()
    report = validate_pdf(out.getvalue(), trust_roots=[test_pki.cert("root")], isolate=False)
    assert report.verdict == "valid" and report.signatures[0].level == "B-T"


def test_refusals_of_the_injected_collaborators_reach_the_caller(test_pki):
    def no_key(ref):
        raise InvalidInput("Chưa cấu hình khóa ký số của cơ quan (IOFFICE_SEAL_KEY).")

    adapter = PyHankoSigning(resolve_key=no_key, open_key=lambda ref: None)
    with pytest.raises(InvalidInput):
        adapter.sign(io.BytesIO(make_pdf(1)), _spec(level="B-B"), io.BytesIO())

    def refuse(signer):
        raise SignerCertificateRejected("Chứng thư số đã bị thu hồi", reason="revoked")

    out = io.BytesIO()
    adapter = PyHankoSigning(resolve_key=lambda ref: "signer-revoked",
                             open_key=lambda ref: load_signer(str(test_pki.p12(ref)), passphrase=PASSPHRASE),
                             check_signer=refuse)
    with pytest.raises(SignerCertificateRejected):
        adapter.sign(io.BytesIO(make_pdf(1)), _spec(level="B-B"), out)
    assert out.getvalue() == b""
