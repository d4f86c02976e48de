"""The verification report says what document it is and who signed in what capacity (issue 9):
from the outgoing register when this installation issued the file (or the file holds the issued
revision), else from the document itself; certified copies' code page shows their pages."""
from __future__ import annotations

import re

import pytest

from tests.copies.test_copies_api import META, certify
from tests.signing_api.conftest import approved_draft_factory
from tests.validation.test_false_alarms import add_annot

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _verify(client, pdf: bytes) -> dict:
    r = client.post("/api/v1/verify", files={"file": ("x.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_issued_document_is_named_from_the_register(client, as_user):
    doc = approved_draft_factory(client, as_user)(summary="Về việc kiểm kê tài sản công năm 2026")
    assert client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={}).status_code == 201
    issued = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"), json={}).json()
    pdf = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu")).content

    report = _verify(client, pdf)
    d = report["document"]
    assert d["source"] == "register" and d["matched"] == "same_file"
    assert d["number_symbol"] == issued["symbol"] and d["issuing_body"] == "UBND huyện Yên Khánh"
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", d["issued_date_text"]) and d["recalled"] is False
    assert d["summary"] == "Về việc kiểm kê tài sản công năm 2026"
    caps = [s["capacity"] for s in report["signatures"] if s["kind"] == "signature"]
    assert caps[0] == "Chữ ký số cá nhân của Phạm Văn Đức, Chủ tịch"
    assert any("cấp số, ký hiệu" in c for c in caps) and any("con dấu điện tử" in c for c in caps)
    assert not any("SoKyHieu" in c or "NgayBanHanh" in c for c in caps)
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", s["signing_time_text"])
               for s in report["signatures"] if s["kind"] == "signature")

    # changed after issuing: still recognised (its issued revision is inside), and modified
    tampered = add_annot(pdf, "/FreeText", [72, 700, 300, 730], b"0 g 0 0 228 30 re f")
    report = _verify(client, tampered)
    assert report["verdict"] == "modified"
    assert report["document"]["source"] == "register" and report["document"]["matched"] == "revision"
    assert report["document"]["number_symbol"] == issued["symbol"]
    assert report["integrity"].startswith("Toàn vẹn: KHÔNG") and report["trust"].startswith("Tin cậy")

    # the clerk recalls it: the citizen is told
    r = client.post(f"/api/v1/documents/{doc['id']}/recall", headers=as_user("vanthu"),
                    json={"reason": "Sai thẩm quyền ban hành"})
    assert r.status_code == 200, r.text
    page = client.post("/verify", files={"file": ("x.pdf", pdf, "application/pdf")})
    assert "Văn bản này ĐÃ BỊ THU HỒI" in page.text and "Sai thẩm quyền" not in page.text


def _vietnamese_pdf() -> bytes:
    from tests.support.pdfs import make_pdf

    return make_pdf(font=FONT, lines=[(72, 760, "UBND XÃ YÊN MẠC"), (72, 740, "Số: 15/TB-UBND"),
                                      (300, 740, "Yên Mạc, ngày 5 tháng 3 năm 2026"),
                                      (72, 700, "THÔNG BÁO về lịch tiếp công dân")])


def test_other_documents_are_named_from_their_own_text(client):
    from tests.validation.builders import sign
    from tests.validation.pki import build_pki

    pki = build_pki()
    report = _verify(client, sign(_vietnamese_pdf(), pki, field="DauCoQuan"))
    d = report["document"]
    assert d["source"] == "file"
    assert d["number_symbol"] == "15/TB-UBND" and d["issued_date_text"] == "05/03/2026"
    assert d["issuing_body"] == report["signatures"][0]["signer"]  # the seal's certificate
    assert report["signatures"][0]["capacity"].startswith("Chữ ký số của cơ quan (con dấu điện tử)")
    page = client.post("/verify", files={"file": ("x.pdf", sign(_vietnamese_pdf(), pki), "application/pdf")})
    assert "Đọc từ chính tệp" in page.text and "15/TB-UBND" in page.text
    assert 'src="data:image/png;base64,' in page.text

    plain = _verify(client, b"%PDF-1.4\n%%EOF\n")
    assert plain["document"]["source"] == "unknown"
    junk = client.post("/verify", files={"file": ("x.pdf", b"not a pdf at all", "application/pdf")})
    assert junk.status_code == 200 and "Không đọc được tệp" in junk.text
    assert 'id="document"' not in junk.text and 'id="previews"' not in junk.text


def test_certified_copy_code_page_shows_its_pages(client, as_user):
    out = certify(client, as_user("chungthuc"), meta={**META, "copies": 1})
    page = client.get(f"/verify/{out['code']}")
    assert page.status_code == 200 and "CÒN HIỆU LỰC" in page.text
    imgs = re.findall(r'<img src="(data:image/png;base64,[^"]+)" alt="(Trang \d+/5[^"]*)"', page.text)
    assert len(imgs) == 4  # the first pages of the five
    assert "001190012345" not in page.text and "Nguyễn Thị Hoa" not in page.text
