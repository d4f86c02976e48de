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
