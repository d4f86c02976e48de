"""Browser tests of the certification desk, the reports, the administration pages and the
long-operation progress: Debian's Chromium (headless, Playwright) against the live server;
screenshots of each step at desktop and phone widths under test-artifacts/web."""
import re

import pytest

from tests.conftest import make_pdf

pytestmark = pytest.mark.slow
PHONE = {"width": 390, "height": 844}


def _file(name: str, text: str, pages: int = 1) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": make_pdf(text, pages=pages)}


def _flash(page, text: str) -> None:
    page.get_by_role("status").filter(has_text=text).wait_for()


def _image_shown(page, alt: str) -> None:
    """The page preview image is rendered by the server and decoded by the browser."""
    img = page.get_by_role("img", name=alt)
    img.scroll_into_view_if_needed()
    page.wait_for_function("a => { const i = document.querySelector(`img[alt='${a}']`); "
                           "return i && i.complete && i.naturalWidth > 0; }", arg=alt)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_certifier_certifies_a_copy_citizen_verifies_it_then_sees_it_revoked(browser_for, tmp_path):
    desk = browser_for("chungthuc")
    page = desk.login("chungthuc")
    page.on("dialog", lambda d: d.accept())  # the confirmation of the revocation
    page.get_by_role("link", name="Chứng thực bản sao").click()
    page.get_by_label(re.compile("^Bản quét bản chính")).set_input_files(
        _file("giay-khai-sinh.pdf", "Giay khai sinh ban chinh", pages=3))
    page.get_by_label("Họ tên người yêu cầu").fill("Nguyễn Thị Hoa")
    page.get_by_label("Số CCCD/hộ chiếu").fill("037190001234")
    page.get_by_label("Tên giấy tờ, văn bản (bản chính)").fill("Giấy khai sinh <b>bản chính</b>")
    page.get_by_label("Số bản sao").fill("2")
    desk.shot("01-desk")
    page.get_by_role("button", name="Xem trước và tính phí").click()
    page.get_by_role("heading", name="Xem trước trước khi chứng thực").wait_for()
    # 3 pages: 2 × 2.000 + 1 × 1.000 = 5.000 đồng per copy, two copies
    assert page.locator("#fee").inner_text() == "10.000 đồng"
    assert "Giấy khai sinh <b>bản chính</b>" in page.locator("main").inner_text()  # shown as text
    _image_shown(page, "Trang 3 của bản quét")
    desk.shot("02-preview")
    page.get_by_role("button", name="Chứng thực và ký số").click()
    _flash(page, "Đã chứng thực và ký số bản sao.")
    assert "Còn hiệu lực" in page.locator("#copy-status").inner_text()
    code = page.locator("dd code").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", code)
    _image_shown(page, "Trang 3 của bản sao")
    desk.shot("03-certified")
    with page.expect_download() as dl:
        page.get_by_role("link", name="Tải về (PDF)").click()
    signed = tmp_path / "ban-sao.pdf"
    dl.value.save_as(signed)
    assert signed.read_bytes().startswith(b"%PDF") and b"/ByteRange" in signed.read_bytes()

    citizen = browser_for("nguoidan", viewport=PHONE)
    citizen.page.goto(f"/verify/{code}")
    text = citizen.page.locator("main").inner_text().lower()
    assert "còn hiệu lực" in text and "giấy khai sinh" in text
    assert "037190001234" not in text and "nguyễn thị hoa" not in text  # nothing personal
    citizen.shot("04-citizen-valid")

    page.get_by_text("Thu hồi bản sao", exact=True).first.click()  # opens the <details>
    page.get_by_label("Lý do thu hồi").fill("Bản chính xuất trình là giả mạo.")
    page.get_by_role("button", name="Thu hồi bản sao").click()
    _flash(page, "Đã thu hồi bản sao.")
    assert "Đã thu hồi" in page.locator("#copy-status").inner_text()
    assert "Bản chính xuất trình là giả mạo." in page.locator("dl.meta").inner_text()
    desk.shot("05-revoked")

    citizen.page.reload()
    text = citizen.page.locator("main").inner_text().lower()
    assert "thu hồi" in text and "còn hiệu lực" not in text
    citizen.shot("06-citizen-revoked")
    for b in (desk, citizen):
        assert b.foreign_requests() == [] and b.console_errors == []
