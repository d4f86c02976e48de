"""Certified electronic copies over HTTP, on SQLite and PostgreSQL: certify → download → pdfsig →
QR → verify by upload and by code → revoke → tamper; image intake; numbering and books; the
register and report; 403s and bad codes; the agency's own copies (sao y)."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
from datetime import UTC, datetime

import pytest

from tests.conftest import db_session, make_pdf

META = {"requester_name": "Nguyễn Thị Hoa", "requester_id_number": "001190012345",
        "title": "Bằng tốt nghiệp đại học", "copies": 1}


def scan_pdf(pages: int = 5) -> bytes:
    """A scan-like PDF whose text runs from the very top to the very bottom edge of each page."""
    from tests.support.pdfs import make_pdf

    return make_pdf(pages, lines=[(10, 832, "TOP EDGE page {page}"),
                                  (10, 4, "BOTTOM EDGE page {page}")])


def certify(client, headers, *, files=None, meta=None, status=201):
    files = files or [("file", ("scan.pdf", scan_pdf(), "application/pdf"))]
    r = client.post("/api/v1/copies", headers=headers, files=files,
                    data={"metadata": json.dumps(meta or META, ensure_ascii=False)})
    assert r.status_code == status, r.text
    return r.json()


def run(cmd, tmp_path, pdf: bytes, name="copy.pdf") -> str:
    p = tmp_path / name
    p.write_bytes(pdf)
    tail = ["-"] if cmd[0] == "pdftotext" else []
    return subprocess.run([*cmd, str(p), *tail], capture_output=True, text=True, timeout=120).stdout


def qr_of_page_1(tmp_path, pdf: bytes) -> str:
    p = tmp_path / "qr.pdf"
    p.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(p),
                    str(tmp_path / "page1")], check=True, timeout=120)
    out = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "page1.png")], capture_output=True,
                         text=True, timeout=60)
    return out.stdout.strip()


def test_round_trip_certify_verify_revoke_tamper(env, client, as_user, settings, tmp_path):
    h = as_user("chungthuc")
    out = certify(client, h, meta={**META, "copies": 2})
    assert out["number"] == 1 and out["book"] == "01-SCTĐT/BS"
    assert out["pages"] == 5 and out["fee"] == 2 * 7_000 and out["status"] == "active"
    assert re.fullmatch(r"[A-Z2-7]{32}", out["code"]) and out["warnings"] == []

    pdf = client.get(f"/api/v1/copies/{out['id']}/content", headers=h)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    data = pdf.content
    if os.environ.get("IOFFICE_KEEP_COPY"):
        open(os.environ["IOFFICE_KEEP_COPY"], "wb").write(data)

    # pdfsig: the certifier's and the agency's signatures, both valid
    report = run(["pdfsig"], tmp_path, data)
    assert report.count("Signature is Valid") == 2 and "Invalid" not in report, report
    assert "Đỗ Thị Ánh" in report  # the certifier's personal certificate
    # the certification block, the mark, and the scan's own text all present
    text = run(["pdftotext", "-layout"], tmp_path, data, "t.pdf")
    for expected in ("Chứng thực bản sao đúng với bản chính.", "Số chứng thực: 01", "Quyển số: 01-SCTĐT/BS",
                     "BẢN SAO ĐIỆN TỬ", "TOP EDGE page 1", "BOTTOM EDGE page 5", out["code"]):
        assert expected in text, expected

    # the QR code opens the public page of this copy
    url = qr_of_page_1(tmp_path, data)
    assert url == f"{settings.base_url.rstrip('/')}/verify/{out['code']}"

    # verify by upload: valid, trusted, copy active
    v = client.post("/api/v1/verify", files={"file": ("c.pdf", data, "application/pdf")}).json()
    assert v["verdict"] == "valid" and v["trusted"] is True, v
    assert v["copy"]["status"] == "active" and v["copy"]["number"] == 1 and v["copy"]["book"] == "01-SCTĐT/BS"
    html = client.post("/verify", files={"file": ("c.pdf", data, "application/pdf")})
    assert html.status_code == 200 and "CÒN HIỆU LỰC" in html.text and "N*** T** H**" in html.text
    # by code: JSON and the page the QR opens
    pub = client.get(f"/api/v1/public/copies/{out['code']}")
    assert pub.status_code == 200
    p = pub.json()
    assert p["status"] == "active" and p["requester"] == "N*** T** H**" and p["pages"] == 5
    assert p["agency"] == "UBND huyện Yên Khánh" and p["title"] == META["title"]
    assert "001190012345" not in pub.text and "Nguyễn Thị Hoa" not in pub.text
    page = client.get(f"/verify/{out['code']}")
    assert page.status_code == 200 and "CÒN HIỆU LỰC" in page.text and "001190012345" not in page.text
    assert "N*** T** H**" in page.text and "Nguyễn Thị Hoa" not in page.text

    # revoke: a reason is required; then both sides say revoked
    assert client.post(f"/api/v1/copies/{out['id']}/revoke", headers=h, json={"reason": ""}).status_code == 422
    r = client.post(f"/api/v1/copies/{out['id']}/revoke", headers=h,
                    json={"reason": "Bản chính bị phát hiện là giả mạo"})
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert client.post(f"/api/v1/copies/{out['id']}/revoke", headers=h, json={"reason": "lần nữa"}).status_code == 409
    p = client.get(f"/api/v1/public/copies/{out['code']}").json()
    assert p["status"] == "revoked" and p["revoked_at"]
    page = client.get(f"/verify/{out['code']}")
    assert "ĐÃ BỊ THU HỒI" in page.text and "ngày thu hồi" in page.text
    v = client.post("/api/v1/verify", files={"file": ("c.pdf", data, "application/pdf")}).json()
    assert v["copy"]["status"] == "revoked"

    # a tampered copy: one byte of the signed content changed
    i = data.index(b"stream", data.index(b"/Contents")) + 40
    tampered = data[:i] + bytes([data[i] ^ 0x55]) + data[i + 1:]
    v = client.post("/api/v1/verify", files={"file": ("t.pdf", tampered, "application/pdf")}).json()
    assert v["verdict"] in ("modified", "invalid"), v["verdict"]
    assert v["copy"]["status"] == "revoked" and v["copy"]["matched_by"] == "code"  # found by its embedded code

    # every action is in the audit chain
    with db_session(env) as s:
        from ioffice.audit.models import AuditEvent

        actions = [a for (a,) in s.query(AuditEvent.action).filter(AuditEvent.object_id == out["id"])]
    assert {"copy.certify", "copy.download", "copy.revoke"} <= set(actions)


def test_jpeg_and_png_pages_become_a_pdf_at_real_size_with_warnings(client, as_user, tmp_path):
    from PIL import Image
    from pypdf import PdfReader

    jpeg = io.BytesIO()
    Image.new("RGB", (1240, 1754), (250, 245, 235)).save(jpeg, "JPEG", dpi=(150, 150), quality=90)
    png = io.BytesIO()
    Image.new("L", (2480, 3508), 240).save(png, "PNG", dpi=(300, 300))
    files = [("file", ("p1.jpg", jpeg.getvalue(), "image/jpeg")), ("file", ("p2.png", png.getvalue(), "image/png"))]
    h = as_user("chungthuc")
    out = certify(client, h, files=files)
    assert out["pages"] == 2 and out["fee"] == 4_000
    assert any("Trang 1" in w and "150 dpi" in w for w in out["warnings"]), out["warnings"]
    assert any("Trang 2" in w and "xám" in w for w in out["warnings"]), out["warnings"]
    assert not any("Trang 1" in w and "xám" in w for w in out["warnings"])
    data = client.get(f"/api/v1/copies/{out['id']}/content", headers=h).content
    assert jpeg.getvalue() in data  # the JPEG is embedded as is (lossless)
    reader = PdfReader(io.BytesIO(data))
    w1 = float(reader.pages[0].mediabox.width)
    w2 = float(reader.pages[1].mediabox.width)
    assert w1 == pytest.approx(1240 / 150 * 72, abs=0.5)  # 8.27 in: A4 width at the scan's real size
    assert w2 == pytest.approx(2480 / 300 * 72, abs=0.5)
    assert run(["pdfsig"], tmp_path, data).count("Signature is Valid") == 2
    # a file that is neither PDF nor image
    bad = certify(client, h, files=[("file", ("x.txt", b"hello", "text/plain"))], status=422)
    assert bad["detail"]


def test_numbering_books_register_and_report(client, as_user):
    h = as_user("chungthuc")
    one = certify(client, h, files=[("file", ("a.pdf", make_pdf(pages=1), "application/pdf"))])
    two = certify(client, h, files=[("file", ("b.pdf", make_pdf(pages=3), "application/pdf"))],
                  meta={**META, "copies": 2})
    r = client.post("/api/v1/copies/books", headers=h)
    assert r.status_code == 201 and r.json()["book"] == "02-SCTĐT/BS"
    three = certify(client, h, files=[("file", ("c.pdf", make_pdf(pages=2), "application/pdf"))])
    assert [one["number"], two["number"], three["number"]] == [1, 2, 3]  # a new book continues the sequence
    assert three["book"] == "02-SCTĐT/BS" and one["book"] == "01-SCTĐT/BS"
    assert len({one["code"], two["code"], three["code"]}) == 3

    listed = client.get("/api/v1/copies", headers=h).json()
    assert {c["id"] for c in listed} == {one["id"], two["id"], three["id"]}
    assert client.get(f"/api/v1/copies/{one['id']}", headers=as_user("vanthu")).json()["number"] == 1

    year = one["certified_date"][:4]
    book = client.get(f"/api/v1/registers/copies/{year}", headers=h).json()
    rows = [r for r in book["rows"] if not r.get("subtotal")]
    assert [r["number"] for r in rows] == ["01", "02", "03"]
    assert rows[1]["requester"] == "Nguyễn Thị Hoa" and rows[1]["copies"] == "2" and rows[1]["fee"] == "10.000"
    subtotal = [r for r in book["rows"] if r.get("subtotal")]
    assert len(subtotal) == 1 and subtotal[0]["fee_total"] == 2_000 + 10_000 + 4_000
    csv = client.get(f"/api/v1/registers/copies/{year}?format=csv", headers=h)
    assert csv.status_code == 200 and "Nguyễn Thị Hoa" in csv.content.decode("utf-8-sig")
    pdf = client.get(f"/api/v1/registers/copies/{year}?format=pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    rep = client.get(f"/api/v1/reports/copies?from={year}-01-01&to={year}-12-31", headers=h).json()
    assert rep["total_requests"] == 3 and rep["total_copies"] == 4 and rep["total_fee"] == 16_000
    assert rep["periods"][0]["period"] == one["certified_date"][:7]


def test_only_certifiers_certify_and_revoke(client, as_user):
    files = [("file", ("a.pdf", make_pdf(), "application/pdf"))]
    for user in ("vanthu", "chutich", "chuyenvien", "admin"):
        r = client.post("/api/v1/copies", headers=as_user(user), files=files,
                        data={"metadata": json.dumps(META, ensure_ascii=False)})
        assert r.status_code == 403, (user, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    out = certify(client, as_user("chungthuc"), files=files)
    for user in ("vanthu", "chuyenvien", "chutich"):
        r = client.post(f"/api/v1/copies/{out['id']}/revoke", headers=as_user(user), json={"reason": "thử"})
        assert r.status_code == 403, (user, r.text)
    assert client.get(f"/api/v1/public/copies/{out['code']}").json()["status"] == "active"
    assert client.post("/api/v1/copies", files=files, data={"metadata": "{}"}).status_code == 401
    # bad metadata → 422 with a plain message
    r = client.post("/api/v1/copies", headers=as_user("chungthuc"), files=files, data={"metadata": "{not json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    r = client.post("/api/v1/copies", headers=as_user("chungthuc"), files=files,
                    data={"metadata": json.dumps({**META, "copies": 0})})
    assert r.status_code == 422


def test_bad_and_unknown_codes(client):
    for code in ("abc", "A" * 31, "0" * 32):
        r = client.get(f"/api/v1/public/copies/{code}")
        assert r.status_code == 422 and "định dạng" in r.json()["detail"], r.text
        page = client.get(f"/verify/{code}")
        assert page.status_code == 422 and "định dạng" in page.text
    unknown = "A" * 32
    r = client.get(f"/api/v1/public/copies/{unknown}")
    assert r.status_code == 404 and "Không tìm thấy" in r.json()["detail"]
    page = client.get(f"/verify/{unknown}")
    inline_scripts = re.findall(r"<script(?![^>]*\bsrc=)", page.text.lower())  # the app's own files only
    assert page.status_code == 404 and "Không tìm thấy" in page.text and inline_scripts == []


def test_public_lookups_are_rate_limited(env, as_user):
    import time_machine
    from fastapi.testclient import TestClient

    from api.app import create_app

    # The limiter counts per clock minute: hold the wall clock still so the four look-ups share one
    # window however slowly a loaded machine runs them.
    with time_machine.travel(datetime.now(UTC).replace(second=5), tick=False), \
            TestClient(create_app(env.settings(public_rate_limit_per_minute=3)), raise_server_exceptions=False) as c:
        codes = [c.get(f"/api/v1/public/copies/{'B' * 32}").status_code for _ in range(4)]
    assert codes[:3] == [404, 404, 404] and codes[3] == 429


def test_agency_copy_sao_y_from_document_and_from_scan(client, as_user, upload, tmp_path):
    h = as_user("vanthu")
    doc = upload("vanthu", pdf=make_pdf(pages=2))
    r = client.post("/api/v1/agency-copies", headers=h, data={"form": "SAO Y", "document_id": doc["id"]})
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["kind"] == "SY" and a["number"] == 1 and a["book"] == "01/SY-UBND" and a["pages"] == 2
    data = client.get(f"/api/v1/copies/{a['id']}/content", headers=h).content
    assert run(["pdfsig"], tmp_path, data).count("Signature is Valid") == 1
    text = run(["pdftotext", "-f", "1", "-l", "1"], tmp_path, data, "t.pdf")
    assert "SAO Y" in text and "UBND huyện Yên Khánh" in text
    r = client.post("/api/v1/agency-copies", headers=h, data={"form": "TRÍCH SAO", "title": "Trích sao biên bản"},
                    files=[("file", ("s.pdf", make_pdf(), "application/pdf"))])
    assert r.status_code == 201 and r.json()["book"] == "01/TrS-UBND"
    r = client.post("/api/v1/agency-copies", headers=h, data={"form": "SAO Y", "title": "x"},
                    files=[("file", ("s.pdf", make_pdf(), "application/pdf"))])
    assert r.json()["number"] == 2  # its own series per form
    # the certifier may not make agency copies, a clerk may not certify
    assert client.post("/api/v1/agency-copies", headers=as_user("chungthuc"),
                       data={"form": "SAO Y", "document_id": doc["id"]}).status_code == 403
    assert client.get(f"/api/v1/public/copies/{a['code']}").json()["kind_label"] == "Bản sao y"
