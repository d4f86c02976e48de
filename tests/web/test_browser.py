"""Browser tests: Debian's Chromium (headless, driven by Playwright) against the live server.

Each person uses their own browser context; screenshots of every step are saved as artifacts; no
page may request another host."""
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


def _open_task(page, summary: str, kind: str) -> None:
    page.goto("/")
    task = page.locator("#task-list li").filter(has_text=summary)
    assert kind in task.text_content()
    task.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/documents/\w+"))


def test_incoming_clerk_registers_leader_assigns_specialist_completes(browser_for):
    summary = "Về việc báo cáo kết quả chuyển đổi số quý IV"
    clerk = browser_for("vanthu")
    page = clerk.login("vanthu")
    clerk.shot("01-home")
    page.get_by_role("link", name="Tiếp nhận văn bản đến").first.click()
    page.get_by_label("Tệp PDF").set_input_files(_file("cv-den.pdf", "Cong van den", pages=2))
    page.get_by_label("Loại văn bản").fill("Công văn")
    page.get_by_label("Số, ký hiệu").fill("125/UBND-VP")
    page.get_by_label("Cơ quan ban hành").fill("UBND tỉnh Ninh Bình")
    page.get_by_label("Trích yếu nội dung").fill(summary)
    clerk.shot("02-receive-form")
    page.get_by_role("button", name="Tải lên để kiểm tra và vào sổ").click()
    _flash(page, "Đã tải lên văn bản.")
    page.locator("#signature-panel .verdict-line").wait_for()  # the signature check result, loaded by htmx
    assert "Không có chữ ký số" in page.locator("#signature-panel").inner_text()
    page.locator("img[alt='Trang 2 của văn bản']").wait_for()
    clerk.shot("03-received")
    page.get_by_role("button", name="Vào sổ văn bản đến").click()
    _flash(page, "Đã vào sổ văn bản đến.")
    assert "Số đến" in page.locator("dl.meta").inner_text()
    assert "Đã vào sổ" in page.locator(".doc-head").inner_text()
    clerk.shot("04-registered")

    leader = browser_for("chutich")
    page = leader.login("chutich")
    _open_task(page, summary, "Cho ý kiến chỉ đạo, giao xử lý")
    page.get_by_label("Ý kiến chỉ đạo (bút phê)").fill("Giao Phòng Tư pháp chủ trì, báo cáo trước ngày 15.")
    page.get_by_label("Hạn xử lý").fill("2099-12-15")
    page.get_by_label("Trần Văn Bình").select_option("lead")
    page.get_by_label("Lê Thị Thu Hà").select_option("info")
    leader.shot("05-assign-form")
    page.get_by_role("button", name="Giao xử lý").click()
    _flash(page, "Đã giao xử lý.")
    text = page.locator("main").inner_text()
    assert "Xử lý chính" in text and "Giao Phòng Tư pháp chủ trì" in text and "15/12/2099" in text
    leader.shot("06-assigned")

    specialist = browser_for("chuyenvien")
    page = specialist.login("chuyenvien")
    _open_task(page, summary, "Xử lý văn bản đến")
    page.get_by_label("Tiến độ").fill("Đã tổng hợp số liệu của các xã.")
    page.get_by_role("button", name="Ghi tiến độ").click()
    _flash(page, "Đã ghi nhận tiến độ.")
    page.get_by_label("Kết quả xử lý").fill("Đã gửi báo cáo cho UBND tỉnh.")
    page.get_by_role("button", name="Hoàn thành").click()
    _flash(page, "Đã hoàn thành xử lý.")
    assert "Đã hoàn thành" in page.locator(".doc-head").inner_text()
    history = page.locator("#hist-h + ol").inner_text()
    for step in ("Tải lên văn bản", "Vào sổ văn bản đến", "Giao xử lý (bút phê)", "Cập nhật tiến độ",
                 "Hoàn thành xử lý"):
        assert step in history
    specialist.shot("07-completed")
    for b in (clerk, leader, specialist):
        assert b.foreign_requests() == []
        assert b.console_errors == []


def test_outgoing_draft_review_sign_issue_and_citizen_verifies(browser_for, tmp_path):
    summary = "Quyết định phê duyệt kế hoạch cải cách hành chính năm 2027"
    drafter = browser_for("chuyenvien")
    page = drafter.login("chuyenvien")
    page.get_by_role("link", name="Soạn dự thảo").first.click()
    page.get_by_label("Tệp PDF").set_input_files(_file("du-thao.pdf", "Du thao quyet dinh", pages=2))
    page.get_by_label("Loại văn bản").fill("Quyết định")
    page.get_by_label("Trích yếu nội dung").fill(summary)
    page.get_by_label("Nơi nhận (mỗi dòng một nơi)").fill("Như Điều 3;\nLưu: VT.")
    page.get_by_role("button", name="Lưu dự thảo").click()
    _flash(page, "Đã tải lên văn bản.")
    page.get_by_label("Trưởng đơn vị xem xét, lãnh đạo phê duyệt").check()
    page.get_by_label("Ghi chú khi trình").fill("Kính trình phòng xem xét.")
    drafter.shot("01-draft")
    page.get_by_role("button", name="Trình duyệt").click()
    _flash(page, "Đã trình duyệt dự thảo.")
    assert "Đang trình duyệt" in page.locator(".doc-head").inner_text()

    head = browser_for("truongphong")
    page = head.login("truongphong")
    _open_task(page, summary, "Xem xét dự thảo")
    page.get_by_label("Ý kiến").fill("Đồng ý, trình Chủ tịch.")
    head.shot("02-review")
    page.get_by_role("button", name="Đồng ý").click()
    _flash(page, "Đã đồng ý dự thảo.")

    leader = browser_for("chutich")
    page = leader.login("chutich")
    _open_task(page, summary, "Xem xét dự thảo")
    page.get_by_role("button", name="Đồng ý").click()
    _flash(page, "Đã đồng ý dự thảo.")
    assert "Đã phê duyệt" in page.locator(".doc-head").inner_text()
    # The official previews the signed pages first (nothing signed yet), then signs from there.
    page.get_by_role("link", name="Xem trước khi ký").click()
    page.get_by_role("heading", name="Xem trước chữ ký số").wait_for()
    preview = page.get_by_role("img", name=re.compile("Trang 1 sau khi ký"))
    wait_image_decoded(preview, 200)
    leader.shot("03a-sign-preview")
    page.get_by_role("button", name="Ký số văn bản").click()
    _flash(page, "Đã ký số văn bản.")
    assert "Đã ký" in page.locator(".doc-head").inner_text()
    page.locator("#signature-panel .verdict-line").wait_for()
    assert "Phạm Văn Đức" in page.locator("#signature-panel").inner_text()
    leader.shot("03-signed")

    clerk = browser_for("vanthu")
    page = clerk.login("vanthu")
    _open_task(page, summary, "Phát hành văn bản")
    page.get_by_label("Số lượng bản giấy").fill("5")
    page.get_by_role("button", name="Cấp số và phát hành…").click()
    page.get_by_role("heading", name="Xác nhận phát hành").wait_for()
    # The stamp preview: the number it would get, and the page as it will be issued.
    assert re.search(r"\d+/QĐ-UBND", page.locator("#preview-h + p").inner_text())
    preview = page.get_by_role("img", name=re.compile("Trang 1 của bản phát hành"))
    wait_image_decoded(preview, 200)
    clerk.shot("04-issue-confirm")
    page.get_by_role("button", name="Xác nhận phát hành").click()
    _flash(page, "Đã phát hành văn bản.")
    head_text = page.locator(".doc-head").inner_text()
    assert "Đã ban hành" in head_text and re.search(r"số \d+/QĐ-UBND", head_text), head_text
    clerk.shot("05-issued")
    with page.expect_download() as dl:
        page.locator("ol.versions li").first.get_by_role("link", name=re.compile("^Tải về")).click()
    issued = tmp_path / "issued.pdf"
    dl.value.save_as(issued)
    assert issued.read_bytes().startswith(b"%PDF")

    citizen = browser_for("nguoidan")
    page = citizen.page
    page.goto("/verify")
    page.get_by_label("Chọn tệp PDF đã ký số cần kiểm tra").set_input_files(str(issued))
    page.get_by_role("button", name="Kiểm tra", exact=True).click()
    verdict = page.locator("#result .verdict")
    verdict.wait_for()
    assert "ok" in verdict.get_attribute("class")
    assert "Phạm Văn Đức" in page.locator("main").inner_text()
    citizen.shot("06-verified")
    for b in (drafter, head, leader, clerk, citizen):
        assert b.foreign_requests() == []
        assert b.console_errors == []


def test_script_in_metadata_is_text_in_the_browser(browser_for):
    evil = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'
    clerk = browser_for("vanthu")
    page = clerk.login("vanthu")
    page.goto("/documents/new?direction=incoming")
    page.get_by_label("Tệp PDF").set_input_files(_file("x.pdf", "X"))
    page.get_by_label("Loại văn bản").fill("Công văn")
    page.get_by_label("Cơ quan ban hành").fill(evil)
    page.get_by_label("Trích yếu nội dung").fill(evil)
    page.get_by_role("button", name="Tải lên để kiểm tra và vào sổ").click()
    _flash(page, "Đã tải lên văn bản.")
    assert evil in page.locator(".doc-head .lead").inner_text()
    page.goto("/documents?q=pwned")
    assert evil in page.locator("#results").inner_text()
    page.goto("/")
    assert page.evaluate("window.__pwned === undefined")
    assert clerk.foreign_requests() == []


def test_leader_batch_signs_with_progress_per_document(browser_for, api):
    from tests.signing_api.conftest import approved_draft_factory

    make = approved_draft_factory(api.client, api.as_user)
    docs = [make(summary=f"Quyết định số hóa hồ sơ đợt {n}") for n in (1, 2, 3)]
    leader = browser_for("chutich")
    page = leader.login("chutich")
    page.get_by_role("link", name="Ký hàng loạt").click()
    rows = page.locator("#batch-sign tbody tr")
    assert rows.count() == 3
    page.get_by_label("Quyết định số hóa hồ sơ đợt 2").uncheck()
    leader.shot("01-batch")
    page.get_by_role("button", name="Ký các văn bản đã chọn").click()
    page.get_by_text("Đã xong: ký được 2/2 văn bản.").wait_for(timeout=120000)
    leader.shot("02-batch-done")
    statuses = {d["summary"]: api.client.get(f"/api/v1/documents/{d['id']}", headers=api.as_user("chutich")).json()
                ["status"] for d in docs}
    assert statuses == {"Quyết định số hóa hồ sơ đợt 1": "signed", "Quyết định số hóa hồ sơ đợt 2": "approved",
                        "Quyết định số hóa hồ sơ đợt 3": "signed"}
    assert page.locator(".batch-status").filter(has_text="Đã ký").count() == 2
    assert leader.foreign_requests() == [] and leader.console_errors == []


def test_pages_on_a_phone(browser_for, api):
    r = api.client.post("/api/v1/documents", headers=api.as_user("vanthu"),
                        files={"file": ("cv.pdf", make_pdf("Cong van den"), "application/pdf")},
                        data={"metadata": '{"direction": "incoming", "doc_type": "Công văn", "number_symbol": '
                                          '"45/SNV-TCBC", "issuing_body": "Sở Nội vụ tỉnh Ninh Bình", "summary": '
                                          '"Về việc rà soát vị trí việc làm năm 2027"}'})
    assert r.status_code == 201, r.text
    phone = browser_for("vanthu-phone", viewport=PHONE)
    phone.page.goto("/login")
    phone.shot("login")
    page = phone.login("vanthu")
    phone.shot("home")
    page.goto(f"/documents/{r.json()['id']}")
    page.locator("#signature-panel .verdict-line").wait_for()
    phone.shot("document")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.goto("/documents/new?direction=incoming")
    phone.shot("receive-form")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name="Văn bản", exact=True).click()
    phone.shot("documents-all")
    assert "Về việc rà soát vị trí việc làm năm 2027" in page.locator("#results").inner_text()
    page.get_by_label(re.compile("^Tìm kiếm")).fill("khong co van ban nao")
    page.get_by_role("button", name="Lọc").click()
    page.get_by_text("Không có văn bản nào phù hợp.").wait_for()
    phone.shot("documents")
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.foreign_requests() == []


def test_every_other_page_loads_cleanly(browser_for):
    """Login, registers, forms, administration and an error page: no console error, no failed or
    foreign request (screenshots for review)."""
    anon = browser_for("anon")
    anon.page.goto("/login")
    anon.shot("login")
    anon.page.goto("/verify")
    anon.shot("verify")
    clerk = browser_for("vanthu")
    page = clerk.login("vanthu")
    for label, url, heading in (("registers", "/registers", "Sổ văn bản năm"),
                                ("register-incoming", "/registers/incoming/2026", "Sổ đăng ký văn bản đến"),
                                ("new-outgoing", "/documents/new?direction=outgoing", "Soạn dự thảo văn bản đi")):
        page.goto(url)
        assert heading.lower() in page.locator("h1").inner_text().lower()
        clerk.shot(label)
    admin = browser_for("admin")
    page = admin.login("admin")
    page.get_by_role("link", name="Người dùng").click()
    page.get_by_label("Tên đăng nhập").fill("phochutich")
    page.get_by_label("Họ và tên").fill("Vũ Minh Tuấn")
    page.get_by_label("Chức vụ").fill("Phó Chủ tịch")
    page.get_by_label("Mật khẩu ban đầu (ít nhất 8 ký tự)").fill("mat-khau-2026")
    page.locator("#new-h + form").get_by_label("Lãnh đạo").check()
    page.get_by_role("button", name="Thêm người dùng").click()
    _flash(page, "Đã thêm người dùng.")
    admin.shot("users")
    official = browser_for("phochutich")
    official.login("phochutich", "mat-khau-2026")
    assert "Vũ Minh Tuấn" in official.page.locator("header").inner_text()
    for b in (anon, clerk, admin, official):
        assert b.foreign_requests() == [] and b.console_errors == []
