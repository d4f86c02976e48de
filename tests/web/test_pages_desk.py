"""Pages of the certification desk, the reports, the deadline extension and the administration,
through the in-process client (the browser flows are in test_browser_desk.py)."""
import csv
import io
import json
import re

from tests.conftest import make_pdf
from tests.web.test_pages import _csrf, _receive, page_login


def _png_page(text_colour: int = 0) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1240, 1754), "white")  # A4 at 150 dpi
    ImageDraw.Draw(img).rectangle((100, 100, 1100, 300), outline=(text_colour, 0, 0), width=8)
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(150, 150))
    return buf.getvalue()


def _preview(client, files, **fields):
    form = client.get("/copies").text
    data = {"csrf_token": _csrf(form), "requester_name": "Trần Thị Lan", "requester_id_number": "001190012345",
            "title": "Bằng tốt nghiệp đại học", "copies": "3", **fields}
    return client.post("/copies/preview", data=data, files=files)


def test_certifier_previews_images_sees_the_fee_certifies_downloads_and_revokes(client, as_user):
    page_login(client, "chungthuc")
    assert "Chứng thực bản sao" in client.get("/").text  # in the menu
    # two page images, in order → a 2-page scan: 2 × 2.000 đồng × 3 copies
    r = _preview(client, [("file", ("p1.png", _png_page(), "image/png")), ("file", ("p2.png", _png_page(9), "image/png"))])
    assert r.status_code == 200, r.text
    assert '<strong id="fee">12.000 đồng</strong>' in r.text and "Bản quét (2 trang)" in r.text
    assert "150 dpi" in r.text or "dpi" in r.text  # the scan-quality warning (below 200 dpi) is shown
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', r.text).group(1)
    token = re.search(r'name="token" value="([0-9a-f]+)"', r.text).group(1)
    img = client.get(f"/copies/scan/{sha}/2.png", params={"t": token})
    assert img.status_code == 200 and img.content.startswith(b"\x89PNG")
    assert client.get(f"/copies/scan/{sha}/2.png", params={"t": "0" * 64}).status_code == 422

    # the certify step refuses a scan the certifier did not upload (a forged token)
    fields = {"csrf_token": _csrf(r.text), "requester_name": "Trần Thị Lan", "requester_id_number": "001190012345",
              "title": "Bằng tốt nghiệp đại học", "copies": "3"}
    bad = client.post("/copies/certify", data={**fields, "sha256": sha, "token": "f" * 64})
    assert bad.status_code == 422 and "Bản quét không còn hợp lệ" in bad.text
    done = client.post("/copies/certify", data={**fields, "sha256": sha, "token": token}, follow_redirects=True)
    assert done.status_code == 200 and "Đã chứng thực và ký số bản sao." in done.text
    copy_id = re.search(r'href="/copies/(\w+)/pdf"', done.text).group(1)
    code = re.search(r"<code class=\"hash\">([A-Z2-7]{32})</code>", done.text).group(1)
    pdf = client.get(f"/copies/{copy_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"].startswith("attachment")
    assert client.get(f"/copies/{copy_id}/pdf?inline=1").headers["content-disposition"].startswith("inline")
    assert client.get(f"/copies/{copy_id}/pages/1.png").content.startswith(b"\x89PNG")
    listing = client.get("/copies").text
    assert "Bằng tốt nghiệp đại học" in listing and "12.000 đ" in listing

    # revoke: a reason is required, then the public status changes at once
    page = client.get(f"/copies/{copy_id}").text
    r = client.post(f"/copies/{copy_id}/revoke", data={"csrf_token": _csrf(page), "reason": "   "})
    assert r.status_code == 422 and "Cần nêu lý do thu hồi." in r.text
    r = client.post(f"/copies/{copy_id}/revoke", data={"csrf_token": _csrf(page), "reason": "Cấp nhầm người"},
                    follow_redirects=True)
    assert "Đã thu hồi bản sao." in r.text and "Cấp nhầm người" in r.text
    assert client.get(f"/api/v1/public/copies/{code}").json()["status"] == "revoked"
    r = client.post(f"/copies/{copy_id}/revoke", data={"csrf_token": _csrf(page), "reason": "Lần nữa"})
    assert r.status_code == 409 and "đã bị thu hồi trước đó" in r.text


def test_copies_desk_checks_input_and_role(client):
    page_login(client, "chungthuc")
    r = _preview(client, [("file", ("x.pdf", make_pdf("X"), "application/pdf"))], requester_id_number="12")
    assert r.status_code == 422 and "Số CCCD/hộ chiếu" in r.text and "Trần Thị Lan" in r.text  # values kept
    r = _preview(client, [("file", ("x.txt", b"not a scan", "text/plain"))])
    assert r.status_code in (415, 422) and "Không thực hiện được" in r.text
    r = _preview(client, [], title="<script>alert(1)</script>")
    assert r.status_code == 422 and "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    client.cookies.clear()
    page_login(client, "vanthu")
    assert client.get("/copies").status_code == 403
    assert "Chứng thực bản sao" not in client.get("/").text


def test_reports_show_tables_chart_data_and_csv_with_formulas_neutralised(client, as_user):
    admin = as_user("admin")
    units = {u["abbreviation"]: u["id"] for u in client.get("/api/v1/units", headers=admin).json()}
    r = client.post("/api/v1/users", headers=admin, json={"username": "docac", "full_name": "=HYPERLINK(\"x\")",
                                                          "password": "mat-khau-2026", "roles": ["specialist"],
                                                          "unit_id": units["TP"]})
    assert r.status_code == 201, r.text
    handler = r.json()["id"]
    page_login(client, "vanthu")
    doc = _receive(client, "Về việc báo cáo thống kê")
    client.post(f"/documents/{doc}/register", data={"csrf_token": _csrf(client.get(f"/documents/{doc}").text)})
    r = client.post(f"/api/v1/documents/{doc}/assign", headers=as_user("chutich"),
                    json={"lead": {"user_id": handler}, "deadline": "2099-01-31"})
    assert r.status_code == 201, r.text

    client.cookies.clear()
    page_login(client, "chutich")
    page = client.get("/reports")
    assert page.status_code == 200
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in page.text and "https://" not in page.text
    charts = {m.group(1): json.loads(m.group(2).replace("&#34;", '"').replace("&amp;", "&"))
              for m in re.finditer(r'<canvas id="chart-([\w-]+)" data-chart="([^"]+)"', page.text)}
    assert set(charts) >= {"volume", "follow-up"}
    assert "Phòng Tư pháp" in charts["volume"]["labels"]
    assert charts["volume"]["series"][0]["label"] == "Văn bản đến" and sum(charts["volume"]["series"][0]["data"]) >= 1
    assert "Đang xử lý trong hạn" in page.text  # outcomes named in words, not colours only
    body = client.get("/reports/follow-up.csv")
    assert body.status_code == 200 and body.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["Đơn vị", "Người xử lý"]
    assert ["Phòng Tư pháp", "'=HYPERLINK(\"x\")"] in [r[:2] for r in rows]  # not a live formula
    vol = list(csv.reader(io.StringIO(client.get("/reports/volume.csv").content.decode("utf-8-sig"))))
    assert ["Phòng Tư pháp", "Công văn", "1", "0"] in vol
    assert client.get("/reports", params={"date_from": "2026-12-31", "date_to": "2026-01-01"}).status_code == 422
    assert client.get("/reports/unknown.csv").status_code == 422

    client.cookies.clear()
    page_login(client, "chungthuc")  # a certifier sees the copies report only
    text = client.get("/reports").text
    assert "Chứng thực bản sao và lệ phí theo tháng" in text and "Văn bản đến và đi" not in text
    assert client.get("/reports/volume.csv").status_code == 403
    client.cookies.clear()
    page_login(client, "chuyenvien")
    assert client.get("/reports").status_code == 403


def test_handler_extends_a_deadline_with_a_reason(client, as_user):
    users = {u["username"]: u["id"] for u in client.get("/api/v1/users", headers=as_user("chutich")).json()}
    page_login(client, "vanthu")
    doc = _receive(client, "Về việc rà soát thủ tục hành chính", number="77/STP-HCTP")
    client.post(f"/documents/{doc}/register", data={"csrf_token": _csrf(client.get(f"/documents/{doc}").text)})
    r = client.post(f"/api/v1/documents/{doc}/assign", headers=as_user("chutich"),
                    json={"lead": {"user_id": users["chuyenvien"]}, "deadline": "2099-03-10"})
    assert r.status_code == 201, r.text
    assignment = r.json()[0]["id"]

    client.cookies.clear()
    page_login(client, "chuyenvien")
    page = client.get(f"/documents/{doc}").text
    assert f'action="/assignments/{assignment}/extend"' in page and "Gia hạn xử lý" in page
    r = client.post(f"/assignments/{assignment}/extend", data={"csrf_token": _csrf(page), "deadline": "2099-03-20",
                                                               "reason": ""})
    assert r.status_code == 422 and "Cần nêu lý do gia hạn." in r.text
    r = client.post(f"/assignments/{assignment}/extend", data={"csrf_token": _csrf(page), "deadline": "2099-03-01",
                                                               "reason": "Chờ số liệu"})
    assert r.status_code == 422 and "Hạn mới phải sau hạn hiện tại (10/03/2099)" in r.text
    r = client.post(f"/assignments/{assignment}/extend", data={"csrf_token": _csrf(page), "deadline": "2099-03-20",
                                                               "reason": "Chờ số liệu của các xã"}, follow_redirects=True)
    assert "Đã gia hạn xử lý." in r.text and "20/03/2099" in r.text
    assert "Gia hạn xử lý đến 20/03/2099 (hạn cũ 10/03/2099). Lý do: Chờ số liệu của các xã" in r.text
    # the leader who assigned it is told
    notes = client.get("/api/v1/notifications", headers=as_user("chutich")).json()
    assert any("Chờ số liệu của các xã" in (n.get("body") or "") for n in notes["items"])
    # the JSON API: someone else may not extend it
    r = client.post(f"/api/v1/assignments/{assignment}/deadline", headers=as_user("truongphong"),
                    json={"deadline": "2099-04-01", "reason": "Thử"})
    assert r.status_code == 403
    r = client.post(f"/api/v1/assignments/{assignment}/deadline", headers=as_user("chuyenvien"),
                    json={"deadline": "2099-04-01", "reason": "Thêm thời gian tổng hợp"})
    assert r.status_code == 200 and r.json()["deadline"] == "2099-04-01"


def test_admin_pages_settings_seal_delegation_route_template_and_signing_method(client, as_user):
    page_login(client, "admin")
    page = client.get("/admin")
    assert page.status_code == 200 and "Gốc tin cậy khi kiểm tra chữ ký số" in page.text
    assert "ioffice Development" in page.text or "Root" in page.text  # the development root is listed
    r = client.post("/admin/settings", data={"csrf_token": _csrf(page.text), "signature_level": "B-LT",
                                             "outgoing_series": "QĐ=QĐ-QPPL", "number_page": "1",
                                             "personal_box": "300, 80, 540, 200"}, follow_redirects=True)
    assert "Đã lưu cấu hình cơ quan." in r.text
    settings = client.get("/api/v1/organisation", headers=as_user("admin")).json()["settings"]
    assert settings["signature_level"] == "B-LT" and settings["outgoing_series"] == {"QĐ": "QĐ-QPPL"}
    assert settings["personal_box"] == [300, 80, 540, 200] and settings["number_page"] == 0
    r = client.post("/admin/settings", data={"csrf_token": _csrf(page.text), "personal_box": "1, 2, 3"})
    assert r.status_code == 422 and "bốn số" in r.text
    r = client.post("/admin/seal", data={"csrf_token": _csrf(page.text)},
                    files={"file": ("seal.png", _png_page(), "image/png")}, follow_redirects=True)
    assert "Đã cập nhật ảnh con dấu." in r.text
    seal = re.search(r'src="(/admin/images/[0-9a-f]{64}\.png)"', r.text).group(1)
    assert client.get(seal).content.startswith(b"\x89PNG")
    assert client.get("/admin/images/" + "0" * 64 + ".png").status_code == 404
    r = client.post("/admin/seal", data={"csrf_token": _csrf(page.text)},
                    files={"file": ("seal.png", b"GIF89a", "image/png")})
    assert r.status_code == 422 and "PNG" in r.text

    users = {u["username"]: u["id"] for u in client.get("/api/v1/users", headers=as_user("admin")).json()}
    page = client.get("/admin/delegations").text
    r = client.post("/admin/delegations", data={"csrf_token": _csrf(page), "delegator_id": users["chutich"],
                                                "delegate_id": users["truongphong"], "competence": "KT.",
                                                "start_date": "2026-01-01", "end_date": "2099-12-31"},
                    follow_redirects=True)
    assert "Đã ghi nhận ủy quyền ký." in r.text and "Có hiệu lực" in r.text
    did = re.search(r'action="/admin/delegations/(\w+)/revoke"', r.text).group(1)
    r = client.post(f"/admin/delegations/{did}/revoke", data={"csrf_token": _csrf(page)}, follow_redirects=True)
    assert "Đã chấm dứt ủy quyền." in r.text and "Đã chấm dứt" in r.text

    page = client.get("/admin/route-templates").text
    r = client.post("/admin/route-templates", data={"csrf_token": _csrf(page), "name": "Quyết định <b>cá biệt</b>",
                                                    "doc_type": "Quyết định", "stage1_name": "Trưởng phòng xem xét",
                                                    "stage1_roles": "unit_head", "stage1_same_unit": "1",
                                                    "stage2_name": "Chủ tịch phê duyệt", "stage2_roles": "leader"},
                    follow_redirects=True)
    assert "Đã thêm quy trình trình duyệt." in r.text and "Quyết định &lt;b&gt;cá biệt&lt;/b&gt;" in r.text
    assert "Trưởng phòng xem xét — Trưởng đơn vị (cùng đơn vị)" in r.text
    r = client.post("/admin/route-templates", data={"csrf_token": _csrf(page), "name": "Thiếu vai trò",
                                                    "stage1_name": "Bước một"})
    assert r.status_code == 422 and "Bước 1" in r.text

    # a new official with the server-key method gets a key on the development PKI at once
    page = client.get("/admin/users").text
    r = client.post("/admin/users", data={"csrf_token": _csrf(page), "username": "phochutich2",
                                          "full_name": "Hoàng Văn Nam", "position": "Phó Chủ tịch",
                                          "password": "mat-khau-2026", "roles": ["leader"],
                                          "signing_method": "server"}, follow_redirects=True)
    assert "Đã thêm người dùng." in r.text and "Ký số: Khóa ký lưu trên máy chủ" in r.text
    uid = [u["id"] for u in client.get("/api/v1/users", headers=as_user("admin")).json()
           if u["username"] == "phochutich2"][0]
    got = client.get(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin")).json()
    assert got["method"] == "server"
    r = client.post(f"/admin/users/{uid}", data={"csrf_token": _csrf(page), "action": "profile",
                                                 "full_name": "Hoàng Văn Nam", "position": "Chủ tịch"},
                    follow_redirects=True)
    assert "Đã cập nhật thông tin người dùng." in r.text and "Chủ tịch" in r.text
    r = client.post(f"/admin/users/{uid}", data={"csrf_token": _csrf(page), "action": "signature"},
                    files={"file": ("sig.png", _png_page(), "image/png")}, follow_redirects=True)
    assert "Đã cập nhật ảnh chữ ký." in r.text
    client.cookies.clear()
    page_login(client, "chutich")
    assert client.get("/admin").status_code == 403 and client.get("/admin/delegations").status_code == 403


def test_new_pages_have_no_inline_script_or_style(client):
    """Ready for the strict CSP: the desk, the reports and the administration pages."""
    for who, urls in (("chungthuc", ["/copies", "/reports"]), ("chutich", ["/reports"]),
                      ("admin", ["/admin", "/admin/users", "/admin/delegations", "/admin/route-templates"])):
        client.cookies.clear()
        page_login(client, who)
        for url in urls:
            r = client.get(url)
            assert r.status_code == 200, url
            assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), url
            assert not re.search(r"<style|\sstyle=", r.text), url
            assert not re.search(r"\son[a-z]+=", r.text), url
            assert "script-src 'self'" in r.headers["content-security-policy"]


def test_batch_progress_page_shows_each_document_and_stops_polling_when_done(client, as_user):
    from tests.signing_api.conftest import approved_draft_factory

    make = approved_draft_factory(client, as_user)
    docs = [make(summary=f"Quyết định đợt {n}") for n in (1, 2)]
    r = client.post("/api/v1/signing-batches", headers=as_user("chutich"),
                    json={"document_ids": [d["id"] for d in docs] + ["khong-co"], "kind": "personal"})
    assert r.status_code == 202, r.text  # a background job signs them
    bid = r.json()["id"]
    page_login(client, "chutich")
    page = client.get(f"/sign-batch/{bid}").text
    assert "hx-get" in page.split('id="batch-status"')[1].split(">")[0]  # running: the page polls
    assert client.app.state.container.jobs.run_pending() == 1  # the worker's turn
    page = client.get(f"/sign-batch/{bid}").text
    assert "Đã xong: ký được 2/3 văn bản." in page and "Quyết định đợt 2" in page
    assert page.count("Đã ký</span>") == 2 and "Không ký được" in page
    assert "hx-get" not in page.split('id="batch-status"')[1].split(">")[0]  # finished: no more polling
    fragment = client.get(f"/sign-batch/{bid}", headers={"HX-Request": "true"}).text
    assert fragment.lstrip().startswith('<div id="batch-status"') and "<html" not in fragment
    client.cookies.clear()
    page_login(client, "truongphong")  # someone else's batch
    assert client.get(f"/sign-batch/{bid}").status_code == 404
