"""Uploading, listing and downloading documents through the HTTP API (both databases)."""
import io
import json

import pytest
from pypdf import PdfWriter
from sqlalchemy import func, select

from tests.conftest import make_pdf

PROBLEM = "application/problem+json"


def _post(client, headers, pdf, metadata, filename="van-ban.pdf"):
    return client.post("/api/v1/documents", headers=headers,
                       files={"file": (filename, pdf, "application/pdf")},
                       data={"metadata": metadata if isinstance(metadata, str) else json.dumps(metadata)})


def _counts(env):
    from ioffice.documents.models import Document, DocumentVersion
    from ioffice.kernel.db import make_engine

    engine = make_engine(env.database_url)
    with engine.connect() as conn:
        n = conn.scalar(select(func.count()).select_from(Document)), conn.scalar(
            select(func.count()).select_from(DocumentVersion))
    engine.dispose()
    return n


def _blob_files(env):
    return sorted(p for p in (env.data_dir / "blobs").rglob("*") if p.is_file())


def test_upload_records_decree30_metadata_and_lists_with_filters(client, as_user, upload):
    h = as_user("vanthu")
    a = upload(summary="Về việc phê duyệt Kế hoạch phòng chống lụt bão", doc_type="QĐ",
               number_symbol="15/QĐ-UBND", issuing_body="UBND tỉnh Ninh Bình", issued_date="2026-03-05",
               signer_competence="kt", signer_position="Phó Chủ tịch", signer_name="Nguyễn Văn Ánh",
               recipients=["UBND huyện Yên Khánh"], urgency="khan", due_date="2026-03-20")
    assert a["doc_type"] == "QĐ" and a["doc_type_name"] == "Quyết định"
    assert a["signer_competence"] == "KT." and a["urgency"] == "khan" and a["status"] == "received"
    upload(summary="Báo cáo tình hình kinh tế xã hội", doc_type="Báo cáo")
    upload("chuyenvien", direction="outgoing", doc_type="Công văn", summary="Về việc cử cán bộ dự tập huấn")

    def ids(**params):
        r = client.get("/api/v1/documents", headers=h, params=params)
        assert r.status_code == 200, r.text
        return r.json()

    assert ids()["total"] == 3
    assert ids(direction="outgoing")["items"][0]["summary"] == "Về việc cử cán bộ dự tập huấn"
    assert ids(doc_type="Quyết định")["total"] == 1
    assert ids(doc_type="QD")["total"] == 1
    # Case- and diacritics-insensitive search in summary and number/symbol.
    assert ids(q="LUT BAO")["total"] == 1
    assert ids(q="15/QĐ")["items"][0]["id"] == a["id"]
    assert ids(status="draft")["total"] == 1
    assert ids(date_from="2000-01-01", date_to="2999-01-01")["total"] == 3
    assert ids(date_to="2000-01-01")["total"] == 0
    assert ids(issued_from="2026-03-01", issued_to="2026-03-31")["total"] == 1
    page = ids(limit=2, offset=0)
    assert len(page["items"]) == 2 and page["total"] == 3
    last = ids(limit=2, offset=2)
    assert len(last["items"]) == 1 and last["total"] == 3
    # a page past the end has no row but still tells how many there are
    past = ids(limit=2, offset=10)
    assert past["items"] == [] and past["total"] == 3
    assert ids(q="không có văn bản nào như thế") == {"items": [], "total": 0, "limit": 50, "offset": 0}


@pytest.mark.parametrize("case", ["empty", "not_pdf", "truncated", "encrypted", "unparseable"])
def test_bad_upload_is_422_and_stores_nothing(client, as_user, env, case):
    pdf = make_pdf()
    if case == "empty":
        data, word = b"", "rỗng"
    elif case == "not_pdf":
        data, word = b"PK\x03\x04 this is a zip file" * 10, "không phải là PDF"
    elif case == "truncated":
        data, word = pdf[: len(pdf) // 2], "cắt cụt"
    elif case == "encrypted":
        w = PdfWriter(clone_from=io.BytesIO(pdf))
        w.encrypt("secret")
        buf = io.BytesIO()
        w.write(buf)
        data, word = buf.getvalue(), "mã hóa"
    else:
        data, word = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R >> garbage\ntrailer <<>>\n%%EOF\n", "hỏng"
    before = _counts(env)
    r = _post(client, as_user("vanthu"), data, {"direction": "incoming", "doc_type": "CV", "summary": "x"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert word in r.json()["detail"]
    assert _counts(env) == before
    assert _blob_files(env) == []


@pytest.mark.parametrize("metadata,field", [
    ({"direction": "incoming", "doc_type": "QĐ", "summary": "x", "colour": "red"}, "colour"),
    ({"direction": "sideways", "doc_type": "QĐ", "summary": "x"}, "direction"),
    ({"direction": "incoming", "doc_type": "QĐ", "summary": 42}, "summary"),
    ({"direction": "incoming", "doc_type": "QĐ", "summary": "x", "recipients": "UBND"}, "recipients"),
    ({"direction": "incoming", "doc_type": "Thư tình", "summary": "x"}, "Loại văn bản"),
    ({"direction": "incoming", "summary": "x"}, "doc_type"),
    ("{not json", "JSON"),
    ("[1, 2]", "đối tượng"),
])
def test_bad_metadata_is_422_problem(client, as_user, env, metadata, field):
    r = _post(client, as_user("vanthu"), make_pdf(), metadata)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert field in r.json()["detail"]
    assert _blob_files(env) == []


def test_too_large_upload_is_413_and_stores_nothing(env, as_user):
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(env.settings(max_upload_mb=1))
    with TestClient(app) as c:
        h = {"Authorization": c.post("/api/v1/auth/token", data={"username": "vanthu", "password":
             "demo-password-123"}).json()["access_token"].join(["Bearer ", ""])}
        big = make_pdf() + b"%" + b"x" * (3 * 1024 * 1024) + b"\n%%EOF\n"
        r = c.post("/api/v1/documents", headers=h, files={"file": ("big.pdf", big, "application/pdf")},
                   data={"metadata": json.dumps({"direction": "incoming", "doc_type": "CV", "summary": "x"})})
        assert r.status_code == 413
        assert r.headers["content-type"].startswith(PROBLEM)
        assert "MB" in r.json()["detail"]
    assert _blob_files(env) == []
    assert _counts(env) == (0, 0)


def test_file_name_is_sanitised(client, as_user, upload):
    doc = upload(filename="../../etc/Quyết định số 5\x00<script>.pdf")
    name = doc["filename"]
    assert name.startswith("Quyết định số 5") and name.endswith(".pdf")
    assert not any(ch in name for ch in "/\\<>\x00")
    r = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu"))
    assert "/" not in r.headers["content-disposition"].split("''", 1)[1].replace("%2F", "/").strip("/")


def test_identical_content_is_stored_once(client, as_user, upload, env):
    pdf = make_pdf("same bytes")
    a = upload(pdf=pdf)
    b = upload(pdf=pdf, summary="Bản thứ hai")
    assert a["id"] != b["id"] and a["sha256"] == b["sha256"]
    assert len(_blob_files(env)) == 1


def test_another_agency_cannot_see_documents(client, as_user, upload, env):
    from ioffice import accounts
    from ioffice.kernel.caller import Caller
    from ioffice.kernel.db import make_engine, make_session_factory

    doc = upload()
    engine = make_engine(env.database_url)
    with make_session_factory(engine)() as s, s.begin():
        org = accounts.create_organisation(s, caller=Caller(), name="UBND huyện Kim Sơn", abbreviation="UBND")
        accounts.create_user(s, caller=Caller(), org_id=org.id, username="vanthu.kimson", full_name="Hà Văn Sơn",
                             password="kimson-password", roles=["clerk"])
    engine.dispose()
    r = client.post("/api/v1/auth/token", data={"username": "vanthu.kimson", "password": "kimson-password"})
    other = {"Authorization": f"Bearer {r.json()['access_token']}"}
    for path in (f"/api/v1/documents/{doc['id']}", f"/api/v1/documents/{doc['id']}/content"):
        r = client.get(path, headers=other)
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM)
    assert client.get("/api/v1/documents", headers=other).json()["total"] == 0


def test_routes_require_login_and_role(client, as_user, upload):
    r = client.get("/api/v1/documents")
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    r = client.get("/api/v1/documents", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    r = client.get("/api/v1/documents", headers=as_user("admin"))
    assert r.status_code == 403 and r.headers["content-type"].startswith(PROBLEM)
    r = client.post("/api/v1/users", headers=as_user("vanthu"),
                    json={"username": "x1", "full_name": "X", "password": "12345678", "roles": ["clerk"]})
    assert r.status_code == 403
    r = client.get("/api/v1/documents/doesnotexist", headers=as_user("vanthu"))
    assert r.status_code == 404 and r.json()["type"].endswith("/not-found")


def test_corrupted_blob_is_detected_never_served(client, as_user, upload, env):
    doc = upload()
    (path,) = _blob_files(env)
    path.chmod(0o644)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    r = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu"))
    assert r.status_code == 503
    assert r.headers["content-type"].startswith(PROBLEM)
    assert "hỏng" in r.json()["detail"]
    assert r.json()["type"].endswith("/blob-corrupted")
