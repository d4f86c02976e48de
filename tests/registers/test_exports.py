"""The registers as JSON, CSV (same rows) and printable PDF (Vietnamese text intact)."""
from __future__ import annotations

import csv
import io
import subprocess
from datetime import date, timedelta

from ioffice.kernel.workcalendar import vn_today
from tests.support.agencies import approve

INCOMING = dict(direction="incoming", doc_type="Công văn", issuing_body="Sở Tài nguyên và Môi trường tỉnh Ninh Bình",
                issued_date="2026-03-02")


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "register.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_incoming_register_json_csv_pdf(client, as_user, upload, tmp_path):
    year = vn_today().year
    ids = []
    for i, summary in enumerate(["Về việc đo đạc địa chính xã Khánh Thủy", "Về việc cấp giấy chứng nhận quyền sử dụng đất"]):
        doc = upload(summary=summary, number_symbol=f"{120 + i}/STNMT-ĐĐBĐ", **INCOMING)
        ids.append(doc["id"])
        assert client.post(f"/api/v1/documents/{doc['id']}/register", headers=as_user("vanthu"),
                           json={"recipient": "Phòng Tài nguyên và Môi trường"}).status_code == 200

    book = client.get(f"/api/v1/registers/incoming/{year}", headers=as_user("chutich")).json()
    assert book["title"] == f"SỔ ĐĂNG KÝ VĂN BẢN ĐẾN — Năm {year}"
    assert [c["label"] for c in book["columns"]] == ["Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng",
                                                     "Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận",
                                                     "Ký nhận", "Ghi chú"]
    assert [r["arrival_number"] for r in book["rows"]] == ["01", "02"]
    assert [r["document_id"] for r in book["rows"]] == ids
    assert book["rows"][0]["type_summary"] == "Công văn: Về việc đo đạc địa chính xã Khánh Thủy"
    assert book["rows"][0]["document_date"] == "02/03/2026"

    r = client.get(f"/api/v1/registers/incoming/{year}", params={"format": "csv"}, headers=as_user("vanthu"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = csv_rows(r.content)
    keys = [c["key"] for c in book["columns"]]
    assert rows[0] == [c["label"] for c in book["columns"]]
    assert rows[1:] == [[row[k] for k in keys] for row in book["rows"]]

    r = client.get(f"/api/v1/registers/incoming/{year}", params={"format": "pdf"}, headers=as_user("vanthu"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = pdf_text(r.content, tmp_path)
    for needle in (f"SỔ ĐĂNG KÝ VĂN BẢN ĐẾN — Năm {year}", "UBND HUYỆN YÊN KHÁNH", "Số đến", "Tác giả",
                   "đo đạc địa chính", "Sở Tài nguyên", "Phòng Tài nguyên"):
        assert needle in text, needle

    # Search ignores case and diacritics.
    found = client.get(f"/api/v1/registers/incoming/{year}", params={"q": "CHUNG NHAN QUYEN"},
                       headers=as_user("vanthu")).json()
    assert [r["document_id"] for r in found["rows"]] == [ids[1]]
    assert client.get(f"/api/v1/registers/incoming/{year - 1}", headers=as_user("vanthu")).json()["rows"] == []


def test_outgoing_register_and_empty_copies_register(env, client, as_user, upload, tmp_path):
    year = vn_today().year
    doc = upload("chuyenvien", direction="outgoing", doc_type="Quyết định", summary="Về việc thành lập tổ công tác",
                 signer_competence="KT.", signer_position="Phó Chủ tịch", signer_name="Phạm Thị Hương",
                 recipients=["Như Điều 3", "Lưu: VT"])
    approve(env, doc["id"])
    assert client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"),
                       json={"copies": 5}).status_code == 200
    book = client.get(f"/api/v1/registers/outgoing/{year}", headers=as_user("vanthu")).json()
    assert book["title"] == f"SỔ ĐĂNG KÝ VĂN BẢN ĐI — Năm {year}"
    [row] = book["rows"]
    assert row["number_symbol"] == "01/QĐ-UBND"
    # The register names who actually signed (the approving chairman), not what the draft declared.
    assert row["signer"] == "Chủ tịch Phạm Văn Đức"
    assert row["recipients"] == "Như Điều 3; Lưu: VT"
    assert row["copies"] == "5"
    assert row["file_copy"] == "Phòng Tư pháp"  # the drafting unit keeps the file copy
    assert "Số, ký hiệu văn bản" in [c["label"] for c in book["columns"]]
    rows = csv_rows(client.get(f"/api/v1/registers/outgoing/{year}?format=csv", headers=as_user("vanthu")).content)
    assert rows[1] == [row[c["key"]] for c in book["columns"]]
    text = pdf_text(client.get(f"/api/v1/registers/outgoing/{year}?format=pdf", headers=as_user("vanthu")).content,
                    tmp_path)
    assert f"SỔ ĐĂNG KÝ VĂN BẢN ĐI — Năm {year}" in text and "thành lập tổ công tác" in text

    copies = client.get(f"/api/v1/registers/copies/{year}", headers=as_user("vanthu"))
    assert copies.status_code == 200 and copies.json()["rows"] == []
    assert client.get(f"/api/v1/registers/copies/{year}?format=pdf", headers=as_user("vanthu")).status_code == 200
    # Registers are for clerks and leaders; unknown kinds are rejected.
    assert client.get(f"/api/v1/registers/outgoing/{year}", headers=as_user("chuyenvien")).status_code == 403
    assert client.get(f"/api/v1/registers/nonsense/{year}", headers=as_user("vanthu")).status_code == 422


def test_follow_up_register_and_report(client, as_user, upload, tmp_path):
    today = vn_today()
    year = today.year
    late = upload(summary="Về việc báo cáo quá hạn", number_symbol="9/STNMT-VP",
                  due_date=(today - timedelta(days=3)).isoformat(), **INCOMING)
    fresh = upload(summary="Về việc còn trong hạn", number_symbol="10/STNMT-VP",
                   due_date=(today + timedelta(days=10)).isoformat(), **INCOMING)
    for d in (late, fresh):
        assert client.post(f"/api/v1/documents/{d['id']}/register", headers=as_user("vanthu")).status_code == 200
    book = client.get(f"/api/v1/registers/follow-up/{year}", headers=as_user("chutich")).json()
    assert [r["arrival_number"] for r in book["rows"]] == ["01", "02"]
    assert [r["notes"] for r in book["rows"]] == ["Quá hạn", "Đang xử lý"]
    assert [r["handler"] for r in book["rows"]] == ["Chưa giao xử lý"] * 2
    assert book["rows"][0]["deadline"] == (today - timedelta(days=3)).strftime("%d/%m/%Y")
    text = pdf_text(client.get(f"/api/v1/registers/follow-up/{year}?format=pdf", headers=as_user("vanthu")).content,
                    tmp_path)
    assert "SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN" in text

    r = client.get("/api/v1/reports/follow-up", headers=as_user("chutich"),
                   params={"from": date(year, 1, 1).isoformat(), "to": today.isoformat()})
    assert r.status_code == 200, r.text
    report = r.json()
    total = {k: sum(u[k] for u in report["by_unit"]) for k in ("on_time", "late", "overdue", "pending")}
    assert total == {"on_time": 0, "late": 0, "overdue": 1, "pending": 1}
    assert client.get("/api/v1/reports/follow-up", headers=as_user("chuyenvien"),
                      params={"from": "2026-01-01", "to": "2026-12-31"}).status_code == 403
