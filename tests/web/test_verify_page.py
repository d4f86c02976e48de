"""The citizen's /verify page in a real browser (issue 9 "a report people can act on", issue 12
"Citizen: /verify"): an issued PDF says what document it is (from the outgoing register), who
signed in what capacity, integrity and trust on separate lines, with page previews; a copy of it
changed after issuing shows the changed region on the page preview."""
import re

import pytest

from tests.signing_api.conftest import approved_draft_factory
from tests.support.browser import wait_image_decoded
from tests.validation.test_false_alarms import add_annot

pytestmark = pytest.mark.slow
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def issued_pdf(client, as_user) -> tuple[bytes, dict]:
    """An outgoing decision signed by the chairman and issued by the clerk, through the API."""
    doc = approved_draft_factory(client, as_user)()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"), json={})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"), json={})
    assert r.status_code in (200, 201), r.text
    issued = r.json()
    r = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu"))
    assert r.status_code == 200
    return r.content, issued


def _upload(page, path) -> None:
    page.goto("/verify")
    page.get_by_label("Chọn tệp PDF đã ký số cần kiểm tra").set_input_files(str(path))
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    page.locator("#result .verdict").wait_for()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_citizen_sees_what_document_who_signed_and_the_pages(browser_for, issued_pdf, tmp_path):
    pdf, issued = issued_pdf
    path = tmp_path / "quyet-dinh.pdf"
    path.write_bytes(pdf)
    citizen = browser_for("nguoidan")
    page = citizen.page
    _upload(page, path)

    document = page.locator("#document").inner_text()
    assert issued["symbol"] in document and "UBND huyện Yên Khánh" in document
    assert "Theo sổ văn bản đi" in document and "đúng tệp đã phát hành" in document
    assert re.search(r"Ngày ban hành\s+\d\d/\d\d/\d{4}", document), document

    signers = page.locator("#signers").inner_text()
    assert "Chữ ký số cá nhân của Phạm Văn Đức, Chủ tịch" in signers
    assert "con dấu điện tử" in signers and "cấp số, ký hiệu văn bản" in signers
    assert "SoKyHieu" not in page.locator("main").inner_text()  # no raw field names
    assert re.search(r"Ký lúc: \d\d/\d\d/\d{4} \d\d:\d\d \(giờ Việt Nam\)", signers), signers

    integrity, trust = page.locator("#integrity").inner_text(), page.locator("#trust").inner_text()
    assert integrity.startswith("✔ Toàn vẹn") and trust.startswith("✔ Tin cậy")
    previews = page.locator("#previews img")
    assert previews.count() >= 1
    assert previews.first.get_attribute("src").startswith("data:image/png;base64,")
    wait_image_decoded(previews.first, 100)
    citizen.shot("01-issued")

    # Someone pastes a different amount over the signed page after it was issued.
    tampered = tmp_path / "quyet-dinh-sua.pdf"
    tampered.write_bytes(add_annot(pdf, "/FreeText", [72, 700, 300, 730],
                                   b"1 1 1 rg 0 0 228 30 re f 0 g BT /Helv 12 Tf 4 10 Td (9.000.000) Tj ET"))
    _upload(page, tampered)
    assert "Đã bị sửa đổi sau khi ký" in page.locator("#result .verdict").inner_text()
    integrity, trust = page.locator("#integrity").inner_text(), page.locator("#trust").inner_text()
    assert "KHÔNG" in integrity and "thay đổi sau khi ký" in integrity
    assert trust.startswith("✔ Tin cậy")  # a change after signing is not a trust problem
    document = page.locator("#document").inner_text()
    assert issued["symbol"] in document and "kèm phần được thêm vào sau đó" in document
    region = page.locator("#previews figure").filter(has_text="Vùng 1")
    assert "KHÔNG được phép" in region.inner_text()
    assert "✖ Toàn vẹn: KHÔNG" in page.locator("#signers li").first.inner_text()
    assert "vùng thay đổi sau khi ký được đánh số 1" in region.locator("img").get_attribute("alt")
    citizen.shot("02-tampered")

    phone = browser_for("dienthoai", viewport=PHONE)
    _upload(phone.page, tampered)
    assert phone.page.locator("#previews img").count() >= 1
    assert phone.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.shot("03-phone")
    for b in (citizen, phone):
        assert b.foreign_requests() == []
        assert b.console_errors == []


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_certified_copy_code_page_shows_the_pages(browser_for, client, as_user):
    from tests.copies.test_copies_api import META, certify

    out = certify(client, as_user("chungthuc"), meta={**META, "copies": 1})
    citizen = browser_for("nguoidan")
    page = citizen.page
    page.goto(f"/verify/{out['code']}")
    assert "CÒN HIỆU LỰC" in page.locator("#copy").inner_text()
    imgs = page.locator("#previews img")
    assert imgs.count() == 4
    wait_image_decoded(imgs.first, 100)
    assert "Nguyễn Thị Hoa" not in page.locator("main").inner_text()
    citizen.shot("copy-code")
    assert citizen.foreign_requests() == [] and citizen.console_errors == []
