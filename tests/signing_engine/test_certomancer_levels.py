"""Every PAdES level against certomancer's own TSA/OCSP/CRL web app (Animator) on loopback,
validated with pyHanko. (pdfsig/NSS interop is covered with the development PKI in
test_engine.py: poppler 22.12 does not accept certomancer's OCSP answers for this chain.)"""
from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp

from certs.keys import load_signer
from signing.engine import PreparedSigner, http_timestamper, make_validation_context, sign_pdf
from tests.support.pdfs import make_pdf
from tests.support.pki import PASSPHRASE

from .conftest import qpdf_check


@pytest.mark.slow
@pytest.mark.parametrize("level", ["B-B", "B-T", "B-LT", "B-LTA"])
def test_level_with_certomancer_services(level, test_pki, tmp_path):
    signer = PreparedSigner(load_signer(str(test_pki.p12("signer")), passphrase=PASSPHRASE))
    roots = [test_pki.cert("root")]
    out = sign_pdf(make_pdf(1), signer=signer, level=level,
                   timestamper=http_timestamper(test_pki.tsa_url) if level != "B-B" else None,
                   validation_context=make_validation_context(roots))
    r = PdfFileReader(io.BytesIO(out))
    st = validate_pdf_signature(r.embedded_regular_signatures[0], test_pki.validation_context())
    assert st.intact and st.valid and st.trusted
    assert st.signing_cert.subject.native["common_name"] == "Nguyễn Văn Hùng"
    if level != "B-B":
        assert st.timestamp_validity is not None and st.timestamp_validity.trusted
    if level in ("B-LT", "B-LTA"):
        assert "/DSS" in r.root
    if level == "B-LTA":
        ts = validate_pdf_timestamp(r.embedded_timestamp_signatures[0],
                                    validation_context=test_pki.validation_context())
        assert ts.valid and ts.trusted
    path = tmp_path / "out.pdf"
    path.write_bytes(out)
    assert qpdf_check(path).returncode == 0


@pytest.mark.slow
def test_b_lt_with_revoked_signer_is_refused(test_pki):
    from signing.errors import SignerCertificateRejected

    signer = PreparedSigner(load_signer(str(test_pki.p12("signer-revoked")), passphrase=PASSPHRASE))
    pdf = make_pdf(1)
    with pytest.raises(SignerCertificateRejected) as ei:
        sign_pdf(pdf, signer=signer, level="B-LT", timestamper=http_timestamper(test_pki.tsa_url),
                 validation_context=make_validation_context([test_pki.cert("root")]))
    assert "thu hồi" in ei.value.detail
