"""Browser tests of the certification desk, the reports, the administration pages and the
long-operation progress: Debian's Chromium (headless, Playwright) against the live server;
screenshots of each step at desktop and phone widths under test-artifacts/web."""
import re

import pytest

from tests.conftest import make_pdf
from tests.support.browser import wait_image_decoded

pytestmark = pytest.mark.slow
PHONE = {"width": 390, "height": 844}


def _file(name: str, text: str, pages: int = 1) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": make_pdf(text, pages=pages)}


def _flash(page, text: str) -> None:
    page.get_by_role("status").filter(has_text=text).wait_for()


def _image_shown(page, alt: str) -> None:
    """The page preview image is rendered by the server and decoded by the browser."""
    wait_image_decoded(page.get_by_role("img", name=alt))


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


def test_admin_adds_an_official_with_a_server_key_who_then_signs(browser_for, api):
    import json

    admin = browser_for("admin")
    page = admin.login("admin")
    page.get_by_role("link", name="Người dùng").first.click()
    page.get_by_label("Tên đăng nhập").fill("phochutich")
    page.get_by_label("Họ và tên").fill("Vũ Minh Tuấn")
    page.get_by_label("Chức vụ").fill("Phó Chủ tịch")
    page.get_by_label("Mật khẩu ban đầu (ít nhất 8 ký tự)").fill("mat-khau-2026")
    page.locator("#new-h + form").get_by_label("Lãnh đạo").check()
    page.get_by_label("Phương thức ký số").select_option("server")
    # keyboard access: the focused control shows a visible outline
    page.get_by_label("Phương thức ký số").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Thêm người dùng"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    admin.shot("01-add-official")
    page.get_by_role("button", name="Thêm người dùng").click()
    _flash(page, "Đã thêm người dùng.")
    row = page.locator(".userlist > li").filter(has_text="Vũ Minh Tuấn")
    assert "Ký số: Khóa ký lưu trên máy chủ" in row.inner_text()
    admin.shot("02-added")

    # a draft routed to the new official for approval (only the approving leader signs it)
    uid = next(u["id"] for u in api.client.get("/api/v1/users", headers=api.as_user("admin")).json()
               if u["username"] == "phochutich")
    r = api.client.post("/api/v1/documents", headers=api.as_user("chuyenvien"),
                        files={"file": ("du-thao.pdf", make_pdf("Du thao", pages=1), "application/pdf")},
                        data={"metadata": json.dumps({"direction": "outgoing", "doc_type": "Quyết định",
                                                      "summary": "Quyết định do Phó Chủ tịch ký"})})
    doc = r.json()
    r = api.client.post(f"/api/v1/documents/{doc['id']}/submit", headers=api.as_user("chuyenvien"),
                        json={"stages": [{"name": "Phó Chủ tịch phê duyệt", "reviewer_ids": [uid]}]})
    assert r.status_code == 201, r.text
    official = browser_for("phochutich")
    page = official.login("phochutich", "mat-khau-2026")
    page.goto(f"/documents/{doc['id']}")
    page.get_by_role("button", name="Đồng ý").click()
    _flash(page, "Đã đồng ý dự thảo.")
    page.get_by_role("button", name="Ký số văn bản").click()
    _flash(page, "Đã ký số văn bản.")
    assert "Đã ký" in page.locator(".doc-head").inner_text()
    page.locator("#signature-panel .verdict-line").wait_for()
    panel = page.locator("#signature-panel").inner_text()
    assert "Vũ Minh Tuấn" in panel
    official.shot("03-signed")
    for b in (admin, official):
        assert b.foreign_requests() == [] and b.console_errors == []


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_reports_draw_charts_and_export_csv(browser_for, api, width, tmp_path):
    # a certified copy this month, for the copies chart
    r = api.client.post("/api/v1/copies", headers=api.as_user("chungthuc"),
                        files={"file": ("scan.pdf", make_pdf("Ban chinh", pages=2), "application/pdf")},
                        data={"metadata": '{"requester_name": "Lê Văn Tám", "requester_id_number": "001200001111", '
                                          '"title": "Sổ hộ khẩu", "copies": 2}'})
    assert r.status_code == 201, r.text
    leader = browser_for(f"chutich-{width}", viewport=PHONE if width == "phone" else None)
    page = leader.login("chutich")
    page.get_by_role("link", name="Báo cáo").first.click()
    page.get_by_role("heading", name=re.compile("^Báo cáo từ")).wait_for()
    # a locator wait, not wait_for_function: a string predicate is eval'd in the page, which our CSP forbids
    page.locator("canvas[data-drawn]").first.wait_for(state="attached")
    assert page.locator("#table-copies").inner_text().count("8.000") == 1  # 2 pages × 2.000 × 2 copies
    leader.shot("reports")
    if width == "phone":
        assert _fits(page)
    with page.expect_download() as dl:
        page.locator("#cp-h").locator("xpath=..").get_by_role("link", name="Tải CSV").click()
    path = tmp_path / "copies.csv"
    dl.value.save_as(path)
    text = path.read_bytes().decode("utf-8-sig")
    assert text.startswith("Tháng,Số yêu cầu,Số bản sao,Số trang,Lệ phí (đồng)") and ",1,2,2,8000" in text
    assert leader.foreign_requests() == [] and leader.console_errors == []


def test_large_upload_shows_progress_and_admin_pages_load(browser_for):
    clerk = browser_for("vanthu")
    page = clerk.login("vanthu")
    page.goto("/documents/new?direction=incoming")
    page.get_by_label("Tệp PDF").set_input_files(_file("lon.pdf", "Van ban dai", pages=120))
    page.get_by_label("Loại văn bản").fill("Công văn")
    page.get_by_label("Trích yếu nội dung").fill("Về việc gửi hồ sơ dài")
    page.get_by_role("button", name="Tải lên để kiểm tra và vào sổ").click()
    _flash(page, "Đã tải lên văn bản.")
    # the progress bar went to 100 % before the answer replaced the page
    assert page.evaluate("document.querySelector('progress') === null")
    assert re.search(r"/documents/\w+\?msg=created$", page.url)
    page.locator("#signature-panel .verdict-line").wait_for()  # htmx still works on the new page
    clerk.shot("uploaded")
    admin = browser_for("admin", viewport=PHONE)
    page = admin.login("admin")
    for label, url, heading in (("agency", "/admin", "Quản trị:"), ("delegations", "/admin/delegations", "Ủy quyền ký"),
                                ("routes", "/admin/route-templates", "Quy trình trình duyệt dự thảo"),
                                ("users", "/admin/users", "Người dùng của cơ quan")):
        page.goto(url)
        assert heading.lower() in page.locator("h1").inner_text().lower()
        admin.shot(f"phone-{label}")
        assert _fits(page), url
    desk = browser_for("chungthuc", viewport=PHONE)
    page = desk.login("chungthuc")
    page.goto("/copies")
    desk.shot("phone-desk")
    assert _fits(page)
    for b in (clerk, admin, desk):
        assert b.foreign_requests() == [] and b.console_errors == []
