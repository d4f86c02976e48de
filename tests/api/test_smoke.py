from tests.conftest import make_pdf


def test_clerk_uploads_and_downloads_identical_bytes(client, as_user, upload):
    pdf = make_pdf("Cong van so 1", pages=2)
    doc = upload("vanthu", pdf=pdf, summary="Về việc tổ chức hội nghị")
    r = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu"))
    assert r.status_code == 200
    assert r.content == pdf
    assert doc["page_count"] == 2
