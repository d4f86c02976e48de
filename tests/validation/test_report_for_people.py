"""The report people act on (issue 9): capacity of each signature with a Vietnamese label, times
in Vietnam's time zone, the configured root each signer chains to, where a change is, and
integrity and trust on separate lines."""
from __future__ import annotations

import pytest

from signing.validation import validate_pdf
from tests.support.pdfs import make_pdf

from .builders import sign
from .test_false_alarms import add_annot


def check(pdf: bytes, pki):
    return validate_pdf(pdf, trust_roots=[pki.root.cert], isolate=False)


@pytest.fixture(scope="module")
def issued(pki) -> bytes:
    """As our issuing does it: the official signs, the number and date stamps, the agency's seal,
    then LTA (validation data and a document timestamp)."""
    seal = pki.identity("seal")
    pdf = sign(make_pdf(), pki, field="Signature1", tsa=True)
    pdf = sign(pdf, pki, who=seal, field="SoKyHieu")
    pdf = sign(pdf, pki, who=seal, field="NgayBanHanh")
    return sign(pdf, pki, who=seal, field="Signature2", lta=True)


def test_capacity_of_each_signature(issued, pki):
    rep = check(issued, pki)
    assert rep.verdict == "valid", rep.problems
    roles = {s.field: (s.role, s.role_label) for s in rep.signatures}
    assert roles["Signature1"] == ("personal", "Chữ ký số cá nhân của người có thẩm quyền")
    assert roles["SoKyHieu"][0] == "number_stamp" and "số, ký hiệu" in roles["SoKyHieu"][1]
    assert roles["NgayBanHanh"][0] == "date_stamp"
    assert roles["Signature2"][0] == "seal"
    ts = [s for s in rep.signatures if s.kind == "document_timestamp"]
    assert ts and ts[0].role == "document_timestamp" and "Dấu thời gian" in ts[0].role_label


def test_vietnam_time_and_trust_anchor(issued, pki):
    from datetime import datetime

    rep = check(issued, pki)
    s = rep.signatures[0]
    vn = datetime.fromisoformat(s.signing_time_vn)
    assert s.signing_time_vn.endswith("+07:00")
    assert vn == datetime.fromisoformat(s.signing_time).replace(microsecond=0)
    assert s.timestamp_vn.endswith("+07:00")
    assert s.trust_anchor == "Root CA thử nghiệm — Ban Cơ yếu Chính phủ (thử nghiệm)"
    assert "Root CA thử nghiệm" in rep.trust and rep.integrity.startswith("Toàn vẹn: mọi")
    d = rep.to_dict()
    assert d["signatures"][0]["role"] == "personal" and "change_regions" in d


def test_change_after_signing_is_not_a_trust_problem(pki):
    signed = sign(make_pdf(), pki)
    pdf = add_annot(signed, "/FreeText", [72, 735, 272, 755],
                    b"1 1 1 rg 0 0 200 20 re f 0 g BT /Helv 10 Tf 2 6 Td (9.000.000) Tj ET")
    rep = check(pdf, pki)
    assert rep.verdict == "modified"
    assert rep.trusted is True and rep.signatures[0].trusted
    assert rep.integrity.startswith("Toàn vẹn: KHÔNG") and rep.trust.startswith("Tin cậy")
    assert not any("tin cậy" in p for p in rep.signatures[0].problems)
    (region,) = rep.change_regions
    assert region["page"] == 1 and region["rect"] == [72.0, 735.0, 272.0, 755.0]
    assert region["permitted"] is False


def test_untrusted_signer_is_a_trust_line_not_integrity(pki):
    rep = check(sign(make_pdf(), pki, who=pki.stranger), pki)
    assert rep.verdict == "valid" and rep.trusted is False
    assert rep.integrity.startswith("Toàn vẹn: mọi") and "Người ký lạ" in rep.trust
    assert rep.signatures[0].trust_anchor is None


def test_two_national_hierarchies_configured_side_by_side(pki):
    """Both the VGCA (Ban Cơ yếu) hierarchy and the Vietnam National Root CA hierarchy configured
    as roots: each signer is labelled with the root its own chain reaches (test stand-ins)."""
    vgca, vgca_ca, national, official, citizen = (
        pki.identity(label) for label in ("vgca-root", "vgca-ca", "national-root", "official",
                                          "citizen"))
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    pdf = make_pdf()
    for who, chain, field in ((official, [vgca_ca, vgca], "ChuKy1"), (citizen, [national], "ChuKy2")):
        w = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        signer = signers.SimpleSigner(signing_cert=who.asn1_cert, signing_key=who.asn1_key,
                                      cert_registry=SimpleCertificateStore.from_certs(
                                          [c.asn1_cert for c in chain]))
        pdf = signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name=field),
                               signer=signer).getvalue()
    rep = validate_pdf(pdf, trust_roots=[vgca.cert, national.cert], isolate=False)
    assert rep.verdict == "valid" and rep.trusted
    anchors = {s.field: s.trust_anchor for s in rep.signatures}
    assert anchors == {"ChuKy1": "VGCA G2 (thử nghiệm) — Ban Cơ yếu Chính phủ",
                       "ChuKy2": "Vietnam National Root CA (thử nghiệm) — Bộ Thông tin và "
                                 "Truyền thông"}
    # only the VGCA root configured: the citizen's signature is valid but not trusted
    rep = validate_pdf(pdf, trust_roots=[vgca.cert], isolate=False)
    assert rep.verdict == "valid" and not rep.trusted
    assert [s.trusted for s in rep.signatures] == [True, False]
