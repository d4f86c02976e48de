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
