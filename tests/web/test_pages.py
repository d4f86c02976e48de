"""The pages through the in-process client: login and cookie session, CSRF on every form, revocation
by logout and password change, escaping of untrusted metadata, role checks, HTML errors."""
import json
import re

from tests.conftest import DEMO_PASSWORD, make_pdf


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the form"
    return m.group(1)


def page_login(client, username: str, password: str = DEMO_PASSWORD):
    r = client.get("/login")
    token = _csrf(r.text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False)


def test_login_sets_a_protected_session_cookie_and_shows_home(client):
    r = client.get("/login")
    assert r.status_code == 200
    assert 'name="username"' in r.text and 'name="password"' in r.text and "Đăng nhập" in r.text
    r = page_login(client, "chutich")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("ioffice_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    home = client.get("/")
    assert home.status_code == 200 and "Phạm Văn Đức" in home.text and "Việc của tôi" in home.text


def test_secure_cookie_behind_https(env):
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(env.settings(base_url="https://vanban.example.gov.vn")),
                    base_url="https://testserver") as c:
        r = page_login(c, "vanthu")
        cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("ioffice_session=")][0]
        assert "Secure" in cookie


def test_wrong_password_is_refused_in_plain_words(client):
    r = page_login(client, "chutich", "sai-mat-khau")
    assert r.status_code == 401
    assert "ioffice_session" not in r.headers.get("set-cookie", "")
    assert "Tên đăng nhập hoặc mật khẩu" in r.text or "không đúng" in r.text


def test_pages_need_a_session(client):
    r = client.get("/documents?q=abc", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fdocuments")
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303


def test_every_form_post_checks_the_csrf_token(client):
    # Before login: the login form itself.
    client.get("/login")
    r = client.post("/login", data={"username": "chutich", "password": DEMO_PASSWORD, "csrf_token": "forged"},
                    follow_redirects=False)
    assert r.status_code == 403 and "ioffice_session" not in r.headers.get("set-cookie", "")
    assert page_login(client, "chuyenvien").status_code == 303
    # Signed in: a forged or missing token changes nothing.
    pdf = make_pdf("Du thao")
    r = client.post("/documents/new", data={"direction": "outgoing", "doc_type": "Công văn", "summary": "X"},
                    files={"file": ("a.pdf", pdf, "application/pdf")}, follow_redirects=False)
    assert r.status_code == 403 and "Biểu mẫu đã hết hạn" in r.text
    r = client.post("/logout", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert r.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in


def test_logout_and_password_change_revoke_the_session(client, as_user):
    page_login(client, "truongphong")
    stolen = client.cookies.get("ioffice_session")
    token = _csrf(client.get("/").text)
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    client.cookies.set("ioffice_session", stolen)
    assert client.get("/", follow_redirects=False).status_code == 303  # the old cookie opens nothing

    client.cookies.clear()
    page_login(client, "chuyenvien")
    assert client.get("/", follow_redirects=False).status_code == 200
    users = client.get("/api/v1/users", headers=as_user("admin")).json()
    uid = [u for u in users if u["username"] == "chuyenvien"][0]["id"]
    r = client.patch(f"/api/v1/users/{uid}", headers=as_user("admin"), json={"password": "mat-khau-moi-2026"})
    assert r.status_code == 200
    assert client.get("/", follow_redirects=False).status_code == 303


def test_untrusted_metadata_is_shown_as_text(client, as_user):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    r = client.post("/api/v1/documents", headers=as_user("vanthu"),
                    files={"file": ("cv.pdf", make_pdf("Cong van"), "application/pdf")},
                    data={"metadata": json.dumps({"direction": "incoming", "doc_type": "Công văn", "summary": evil,
                                                  "issuing_body": evil, "number_symbol": "1/<b>X</b>"})})
    assert r.status_code == 201, r.text
    doc_id = r.json()["id"]
    page_login(client, "vanthu")
    for url in ("/documents", f"/documents/{doc_id}", "/documents?q=script"):
        html = client.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>X</b>" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_roles_and_organisation_scope_on_pages(client, as_user):
    page_login(client, "chuyenvien")
    r = client.get("/documents/new?direction=incoming")
    assert r.status_code == 403 and "Chỉ văn thư" in r.text and "<html" in r.text
    r = client.get("/documents/does-not-exist")
    assert r.status_code == 404 and "<html" in r.text
    # The JSON API keeps problem+json.
    r = client.get("/api/v1/documents/does-not-exist", headers=as_user("chuyenvien"))
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_search_ignores_diacritics(client, as_user):
    for summary in ("Về việc tổ chức Hội nghị tổng kết", "Báo cáo tài chính quý"):
        r = client.post("/api/v1/documents", headers=as_user("vanthu"),
                        files={"file": ("cv.pdf", make_pdf("Cong van"), "application/pdf")},
                        data={"metadata": json.dumps({"direction": "incoming", "doc_type": "Công văn",
                                                      "summary": summary})})
        assert r.status_code == 201
    page_login(client, "vanthu")
    html = client.get("/documents", params={"q": "hoi nghi tong ket"}).text
    assert "Hội nghị tổng kết" in html and "Báo cáo tài chính" not in html
    assert "1 văn bản" in html


def _receive(client, summary: str, number: str = "88/STP-VP") -> str:
    form = client.get("/documents/new?direction=incoming").text
    r = client.post("/documents/new", data={"csrf_token": _csrf(form), "direction": "incoming", "doc_type": "Công văn",
                                            "summary": summary, "number_symbol": number,
                                            "issuing_body": "Sở Tư pháp", "issued_date": "2026-11-20"},
                    files={"file": ("cv.pdf", make_pdf("Cong van"), "application/pdf")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"].split("/documents/")[1].split("?")[0]


def test_clerk_duplicate_warning_then_confirm_and_return_to_sender(client):
    page_login(client, "vanthu")
    first = _receive(client, "Về việc hướng dẫn chứng thực")
    page = client.get(f"/documents/{first}").text
    r = client.post(f"/documents/{first}/register", data={"csrf_token": _csrf(page)}, follow_redirects=True)
    assert "Đã vào sổ văn bản đến." in r.text and "Số đến" in r.text

    second = _receive(client, "Về việc hướng dẫn chứng thực (bản gửi lại)")
    page = client.get(f"/documents/{second}").text
    r = client.post(f"/documents/{second}/register", data={"csrf_token": _csrf(page)})
    assert r.status_code == 409
    assert "Có thể trùng văn bản đã vào sổ" in r.text and f'href="/documents/{first}"' in r.text
    assert "Đã tiếp nhận" in r.text  # not registered
    r = client.post(f"/documents/{second}/register", data={"csrf_token": _csrf(r.text), "confirm_duplicate": "1"},
                    follow_redirects=True)
    assert "Đã vào sổ văn bản đến." in r.text

    third = _receive(client, "Văn bản gửi nhầm cơ quan", number="99/XYZ")
    page = client.get(f"/documents/{third}").text
    r = client.post(f"/documents/{third}/return", data={"csrf_token": _csrf(page), "reason": " "})
    assert r.status_code == 422 and "lý do" in r.text
    r = client.post(f"/documents/{third}/return", data={"csrf_token": _csrf(page), "reason": "Gửi nhầm địa chỉ"},
                    follow_redirects=True)
    assert "Đã trả lại nơi gửi" in r.text and "Lý do: Gửi nhầm địa chỉ" in r.text


def test_registers_are_browsed_printed_and_exported(client):
    page_login(client, "vanthu")
    doc = _receive(client, "Về việc kiểm tra công tác văn thư", number="7/UBND-VP")
    client.post(f"/documents/{doc}/register", data={"csrf_token": _csrf(client.get(f"/documents/{doc}").text)})
    from ioffice.kernel.workcalendar import vn_today

    year = vn_today().year
    page = client.get("/registers")
    assert page.status_code == 200 and "Sổ đăng ký văn bản đến" in page.text
    book = client.get(f"/registers/incoming/{year}")
    assert book.status_code == 200 and "Về việc kiểm tra công tác văn thư" in book.text
    assert "Về việc" not in client.get(f"/registers/incoming/{year}", params={"q": "khong co"}).text.split("<tbody>")[-1]
    pdf = client.get(f"/registers/incoming/{year}?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    csv = client.get(f"/registers/incoming/{year}?format=csv")
    assert csv.status_code == 200 and "Về việc kiểm tra công tác văn thư" in csv.content.decode("utf-8-sig")
    assert page_login(client, "chuyenvien").status_code == 303  # switching user while signed in
    assert client.get("/registers").status_code == 403


def test_pages_have_no_inline_script_or_style(client):
    """Ready for a strict Content-Security-Policy: no inline <script>, style attributes, <style>
    blocks or on* handlers on any page."""
    page_login(client, "vanthu")
    doc = _receive(client, "Kiểm tra CSP")
    urls = ["/", "/documents", f"/documents/{doc}", f"/documents/{doc}/signatures", "/documents/new?direction=incoming",
            "/documents/new?direction=outgoing", "/registers", "/verify"]
    for url in urls:
        html = client.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert not re.search(r"<style|\sstyle=", html), url
        assert not re.search(r"\son[a-z]+=", html), url
    client.cookies.clear()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=", client.get("/login").text)


def test_leader_assigns_a_unit_unit_head_passes_on_specialist_completes(client, as_user):
    page_login(client, "vanthu")
    doc = _receive(client, "Về việc tuyên truyền pháp luật", number="31/STP-PBGDPL")
    client.post(f"/documents/{doc}/register", data={"csrf_token": _csrf(client.get(f"/documents/{doc}").text)})
    units = {u["abbreviation"]: u["id"] for u in client.get("/api/v1/units", headers=as_user("chutich")).json()}
    users = {u["username"]: u["id"] for u in client.get("/api/v1/users", headers=as_user("chutich")).json()}

    client.cookies.clear()
    page_login(client, "chutich")
    page = client.get(f"/documents/{doc}").text
    assert "Bút phê, giao xử lý" in page
    r = client.post(f"/documents/{doc}/assign", data={"csrf_token": _csrf(page), "directions": "Phòng Tư pháp chủ trì",
                                                      "deadline": "2099-01-10", f"role_unit_{units['TP']}": "lead"},
                    follow_redirects=True)
    assert "Đã giao xử lý." in r.text and "Phòng Tư pháp chủ trì" in r.text
    # Two leads are refused in plain words.
    r = client.post(f"/documents/{doc}/assign", data={"csrf_token": _csrf(page), f"role_unit_{units['TP']}": "lead",
                                                      f"role_user_{users['chuyenvien']}": "lead"})
    assert r.status_code == 422 and "Chọn đúng một người hoặc một đơn vị xử lý chính" in r.text

    client.cookies.clear()
    page_login(client, "truongphong")
    home = client.get("/").text
    assert "Phân công xử lý trong đơn vị" in home and "Về việc tuyên truyền pháp luật" in home
    page = client.get(f"/documents/{doc}").text
    aid = re.search(r'action="/assignments/(\w+)/pass-on"', page).group(1)
    r = client.post(f"/assignments/{aid}/pass-on", data={"csrf_token": _csrf(page), "user_id": users["chuyenvien"],
                                                         "directions": "Đồng chí Bình xử lý"}, follow_redirects=True)
    assert "Đã chuyển cho người xử lý." in r.text

    client.cookies.clear()
    page_login(client, "chuyenvien")
    page = client.get(f"/documents/{doc}").text
    aid = re.search(r'action="/assignments/(\w+)/complete"', page).group(1)
    r = client.post(f"/assignments/{aid}/complete", data={"csrf_token": _csrf(page), "note": "Đã tổ chức tuyên truyền"},
                    follow_redirects=True)
    assert "Đã hoàn thành xử lý." in r.text and "Đúng hạn" in r.text


def test_admin_adds_an_official_who_signs_in_and_a_role_change_ends_the_session(client, as_user):
    from fastapi.testclient import TestClient

    page_login(client, "admin")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "Nguyễn Thị Hoa" in page.text
    r = client.post("/admin/users", data={"csrf_token": _csrf(page.text), "username": "phochutich",
                                          "full_name": "Vũ Minh Tuấn", "position": "Phó Chủ tịch",
                                          "password": "mat-khau-2026", "roles": ["leader"]}, follow_redirects=True)
    assert "Đã thêm người dùng." in r.text and "Vũ Minh Tuấn" in r.text
    r = client.post("/admin/users", data={"csrf_token": _csrf(page.text), "username": "phochutich",
                                          "full_name": "Trùng tên", "password": "mat-khau-2026", "roles": ["leader"]})
    assert r.status_code == 409 and "đã tồn tại" in r.text

    with TestClient(client.app) as official:
        assert page_login(official, "phochutich", "mat-khau-2026").status_code == 303
        home = official.get("/")
        assert "Vũ Minh Tuấn" in home.text and "Ký hàng loạt" in home.text
        users = client.get("/admin/users").text
        target = [u["id"] for u in client.get("/api/v1/users", headers=as_user("admin")).json()
                  if u["username"] == "phochutich"][0]
        r = client.post(f"/admin/users/{target}", data={"csrf_token": _csrf(users), "action": "roles",
                                                         "roles": ["specialist"]}, follow_redirects=True)
        assert "Đã cập nhật vai trò." in r.text
        assert official.get("/", follow_redirects=False).status_code == 303  # signed out by the change
    page_login(client, "chuyenvien")
    assert client.get("/admin/users").status_code == 403


def test_page_previews_are_png_for_readers_only(client, as_user):
    r = client.post("/api/v1/documents", headers=as_user("vanthu"),
                    files={"file": ("cv.pdf", make_pdf("Cong van", pages=2), "application/pdf")},
                    data={"metadata": json.dumps({"direction": "incoming", "doc_type": "Công văn", "summary": "Ảnh"})})
    doc = r.json()
    version = doc["versions"][0]["id"]
    url = f"/documents/{doc['id']}/versions/{version}/pages/2.png"
    assert client.get(url, follow_redirects=False).status_code == 303  # no session
    page_login(client, "vanthu")
    png = client.get(url)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert client.get(f"/documents/{doc['id']}/versions/{version}/pages/3.png").status_code == 422
    client.cookies.clear()
    page_login(client, "chungthuc")  # certifier: not a reader of the document registers
    assert client.get(url).status_code == 403


def test_reviewer_returns_with_a_comment_drafter_uploads_a_new_version_and_resubmits(client):
    page_login(client, "chuyenvien")
    form = client.get("/documents/new?direction=outgoing").text
    r = client.post("/documents/new", data={"csrf_token": _csrf(form), "direction": "outgoing", "doc_type": "Tờ trình",
                                            "summary": "Tờ trình xin kinh phí số hóa"},
                    files={"file": ("tt.pdf", make_pdf("To trinh"), "application/pdf")}, follow_redirects=False)
    doc = r.headers["location"].split("/documents/")[1].split("?")[0]
    page = client.get(f"/documents/{doc}").text
    r = client.post(f"/documents/{doc}/submit", data={"csrf_token": _csrf(page), "route": "leader"},
                    follow_redirects=True)
    assert "Đã trình duyệt dự thảo." in r.text

    client.cookies.clear()
    page_login(client, "chutich")
    page = client.get(f"/documents/{doc}").text
    step = re.search(r'name="step_id" value="(\w+)"', page).group(1)
    r = client.post(f"/documents/{doc}/review", data={"csrf_token": _csrf(page), "decision": "return", "step_id": step,
                                                      "comment": "Bổ sung dự toán chi tiết"}, follow_redirects=True)
    assert "Đã trả lại dự thảo kèm ý kiến." in r.text and "Bị trả lại" in r.text

    client.cookies.clear()
    page_login(client, "chuyenvien")
    home = client.get("/").text
    assert "Sửa dự thảo bị trả lại" in home and "Tờ trình xin kinh phí số hóa" in home
    page = client.get(f"/documents/{doc}").text
    assert "Bổ sung dự toán chi tiết" in page
    r = client.post(f"/documents/{doc}/versions", data={"csrf_token": _csrf(page)},
                    files={"file": ("tt-v2.pdf", make_pdf("To trinh v2"), "application/pdf")}, follow_redirects=True)
    assert "Đã tải lên phiên bản mới." in r.text and "Phiên bản 2" in r.text
    r = client.post(f"/documents/{doc}/submit", data={"csrf_token": _csrf(r.text), "route": "leader"},
                    follow_redirects=True)
    assert "Đã trình duyệt dự thảo." in r.text and "Lần trình 2" in r.text
