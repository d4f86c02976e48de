"""Vietnamese for people: 422s name the field and say why; urgency and secrecy in words; issued
files download under their number/symbol, with an ASCII fallback name."""
from __future__ import annotations

import json

import pytest

from api.download import content_disposition, issued_filename
from tests.conftest import make_pdf
from tests.registers.test_issue import issue, outgoing

SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def _upload(client, headers, **meta):
    return client.post("/api/v1/documents", headers=headers,
                       files={"file": ("a.pdf", make_pdf(), "application/pdf")},
                       data={"metadata": json.dumps(meta, ensure_ascii=False)})


@SQLITE
def test_json_body_errors_name_the_field_in_vietnamese(client, as_user):
    r = client.post("/api/v1/users", headers=as_user("admin"),
                    json={"username": "x", "password": "ngan", "roles": [], "chuc_vu": "?"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    p = r.json()
    messages = {e["field"]: e["message"] for e in p["errors"]}
    assert messages["full_name"] == "Họ và tên (full_name): là bắt buộc nhưng chưa được gửi."
    assert messages["username"] == "Tên đăng nhập (username): phải có ít nhất 2 ký tự."
    assert messages["password"] == "Mật khẩu (password): phải có ít nhất 8 ký tự."
    assert messages["roles"] == "Vai trò (roles): cần ít nhất một mục."
    assert "không phải là trường được chấp nhận" in messages["chuc_vu"]
    assert p["detail"].startswith("Dữ liệu gửi lên không hợp lệ.") and "Họ và tên (full_name)" in p["detail"]
    assert "Field required" not in r.text and "at least" not in r.text


@SQLITE
def test_query_and_metadata_errors_are_vietnamese(client, as_user):
    r = client.get("/api/v1/documents", params={"limit": 0, "issued_from": "05/03/2026"},
                   headers=as_user("vanthu"))
    assert r.status_code == 422
    messages = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert messages["limit"] == "Số dòng mỗi trang (limit): phải từ 1 trở lên."
    assert messages["issued_from"].endswith("phải là ngày theo dạng NNNN-TT-NN (ví dụ 2026-03-05).")

    r = _upload(client, as_user("vanthu"), direction="incoming", doc_type="Công văn", summary="",
                urgency="rất khẩn", issued_date="2026-13-01")
    assert r.status_code == 422
    p = r.json()
    messages = {e["field"]: e["message"] for e in p["errors"]}
    assert messages["summary"] == "Trích yếu (summary): không được để trống."
    assert messages["urgency"].startswith("Độ khẩn (urgency): phải là một trong các giá trị: Khẩn, Thượng khẩn, Hỏa tốc")
    assert messages["issued_date"].startswith("Ngày ban hành (issued_date):")
    assert p["detail"].startswith("Thông tin văn bản (metadata) không hợp lệ.")


@SQLITE
def test_urgency_and_secrecy_accept_words_with_or_without_diacritics(client, as_user):
    cases = [("Hỏa tốc", "Tuyệt mật", "hoa_toc", "tuyet_mat"), ("hoa toc", "tuyet mat", "hoa_toc", "tuyet_mat"),
             ("KHẨN", "mật", "khan", "mat"), ("Thượng  khẩn", "toi-mat", "thuong_khan", "toi_mat"),
             ("hoả tốc", "Tối mật", "hoa_toc", "toi_mat")]
    for urgency, secrecy, u_code, s_code in cases:
        r = _upload(client, as_user("vanthu"), direction="incoming", doc_type="Công văn", summary="Về việc khẩn",
                    urgency=urgency, secrecy=secrecy)
        assert r.status_code == 201, (urgency, secrecy, r.text)
        assert (r.json()["urgency"], r.json()["secrecy"]) == (u_code, s_code)


@SQLITE
def test_issued_decision_downloads_under_its_symbol(env, client, as_user, upload):
    doc_id = outgoing(upload, env)
    assert issue(client, as_user, doc_id)["symbol"] == "01/QĐ-UBND"
    r = client.get(f"/api/v1/documents/{doc_id}/content", headers=as_user("vanthu"))
    assert r.status_code == 200
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"01-QD-UBND.pdf\"; filename*=UTF-8''01-Q%C4%90-UBND.pdf")


def test_download_names():
    assert issued_filename("123 / UBND-VP") == "123-UBND-VP.pdf"
    assert content_disposition('Tờ trình "số 5".pdf') == (
        "attachment; filename=\"To trinh _so 5_.pdf\"; filename*=UTF-8''T%E1%BB%9D%20tr%C3%ACnh%20%22s%E1%BB%91%205%22.pdf")
