"""A page of GET /api/v1/documents costs a constant number of SQL statements, not one per row."""
from sqlalchemy import event

from tests.conftest import make_pdf


def test_document_page_query_count_does_not_grow_with_rows(client, app, upload, as_user):
    for i in range(50):
        upload(pdf=make_pdf(f"doc {i}"), summary=f"Văn bản số {i}")
    headers = as_user("vanthu")
    engine = app.state.container.engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    counts = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for rows in (10, 50):
            statements.clear()
            r = client.get(f"/api/v1/documents?limit={rows}", headers=headers)
            assert r.status_code == 200 and len(r.json()["items"]) == rows, r.text
            assert all(item["sha256"] for item in r.json()["items"])
            counts[rows] = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert counts[10] == counts[50], counts


def test_a_listed_document_reads_as_its_detail(client, upload, as_user):
    """The page's rows (read without ORM objects) carry what GET /documents/{id} says of each
    document: the current file, the arrival number once registered, the check at the door."""
    headers = as_user("vanthu")
    registered = upload(summary="Về việc đã vào sổ", number_symbol="7/STP-VP", issuing_body="Sở Tư pháp",
                        issued_date="2026-03-02")["id"]
    assert client.post(f"/api/v1/documents/{registered}/register", headers=headers).status_code == 200
    upload(summary="Về việc chưa vào sổ", recipients=["Phòng Tư pháp"])
    items = client.get("/api/v1/documents", headers=headers).json()["items"]
    assert len(items) == 2
    for item in items:
        detail = client.get(f"/api/v1/documents/{item['id']}", headers=headers).json()
        detail.pop("versions")
        assert item == detail
    by_id = {i["id"]: i for i in items}
    assert by_id[registered]["arrival_number"] == 1 and by_id[registered]["arrival_date"]
    assert all(i["sha256"] and i["size"] and i["filename"] == "van-ban.pdf" for i in items)
    assert all(i["signature_check"]["verdict"] == "no_signature" for i in items)


def test_the_page_is_written_exactly_as_the_schema_would_write_it():
    """The list writes its JSON with orjson (api.routes.documents.page_json); for every kind of
    value a row can hold — recall, replacement, the check at the door, arrival, dates, times with
    and without microseconds, empty fields — the bytes are those pydantic writes for DocumentPage."""
    from datetime import UTC, date, datetime

    from api.routes.documents import extra_fields, page_json
    from api.schemas import DocumentPage

    full = {
        "id": "a" * 32, "direction": "incoming", "doc_type": "QĐ", "doc_type_name": "Quyết định",
        "status": "recalled", "summary": "Về việc thu hồi — “Ủy ban” ấp ủ", "number": 15, "number_symbol": "15/QĐ-UBND",
        "issuing_body": "UBND tỉnh Ninh Bình", "issuing_body_code": "H44", "parent_body": "Bộ Nội vụ",
        "place": "Ninh Bình", "issued_date": date(2026, 3, 2), "signer_competence": "KT.",
        "signer_position": "Phó Chủ tịch", "signer_name": "Nguyễn Văn Ánh", "recipients": ["Sở Tư pháp", "VP"],
        "urgency": "khan", "secrecy": None, "due_date": date(2026, 3, 20), "page_count": 3,
        "current_version_id": "b" * 32, "created_by": "c" * 32,
        "created_at": datetime(2026, 3, 2, 7, 5, 9, 120, tzinfo=UTC),
        "updated_at": datetime(2026, 3, 3, 0, 0, 0, tzinfo=UTC),
        "sha256": "d" * 64, "size": 12345, "filename": "van-ban.pdf", "total_count": 2,
        "extra": {"arrival_number": 7, "arrival_date": "2026-03-02", "replaces_id": "e" * 32,
                  "replaced_by_id": None,
                  "recall": {"reason": "Sai thể thức", "at": "2026-03-04T01:02:03.5+00:00", "by": "f" * 32,
                             "issuer": "UBND", "number_symbol": "16/QĐ-UBND"},
                  "signature_check": {"verdict": "valid", "trusted": True, "checked_at": "2026-03-02T07:05:09Z",
                                      "summary": "Chữ ký hợp lệ.", "ignored": 1}},
    }
    bare = {**{k: None for k in full}, "id": "9" * 32, "direction": "outgoing", "doc_type": "CV",
            "doc_type_name": "Công văn", "status": "draft", "summary": "", "recipients": [],
            "created_at": datetime(2026, 1, 1, tzinfo=UTC), "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
            "extra": None, "total_count": 2}
    rows = [dict(full), dict(bare)]
    expected = DocumentPage.model_validate(
        {"items": [{**r, **extra_fields(r["extra"])} for r in rows], "total": 2, "limit": 50, "offset": 0})
    assert page_json([dict(full), dict(bare)], 2, limit=50, offset=0) == expected.model_dump_json().encode()
