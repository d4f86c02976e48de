"""Attachments sent as separate files: signed by the clerk at issue with the agency key and a
text-only mark (number/symbol + ISO 8601 time, +07:00) at the top right of page 1."""
import re
import subprocess

from tests.conftest import make_pdf


def test_attachment_is_marked_and_sealed_at_issue(client, as_user, approved_draft, tmp_path):
    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/attachments", headers=as_user("chuyenvien"),
                    files={"file": ("phu luc 1.pdf", make_pdf("Phu luc danh sach", pages=2), "application/pdf")},
                    data={"title": "Phụ lục I: Danh sách đơn vị"})
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["signed_at"] is None and att["page_count"] == 2
    assert client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"),
                       json={"level": "B-B"}).status_code == 201
    issued = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"), json={}).json()

    listed = client.get(f"/api/v1/documents/{doc['id']}/attachments", headers=as_user("vanthu")).json()
    assert listed[0]["signed_at"] is not None and listed[0]["sha256"] != att["sha256"]
    pdf = client.get(f"/api/v1/documents/{doc['id']}/attachments/{att['id']}/content",
                     headers=as_user("vanthu")).content
    path = tmp_path / "pl.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"], capture_output=True, text=True).stdout
    assert issued["symbol"] in text
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", text)
    report = client.post("/api/v1/verify", files={"file": ("pl.pdf", pdf, "application/pdf")}).json()
    assert report["verdict"] == "valid" and report["trusted"]
    assert report["signatures"][0]["signer"] == "UBND huyện Yên Khánh"

    # issued: no more attachments
    r = client.post(f"/api/v1/documents/{doc['id']}/attachments", headers=as_user("chuyenvien"),
                    files={"file": ("x.pdf", make_pdf(), "application/pdf")})
    assert r.status_code == 409


def test_attachments_are_scoped_and_validated(client, as_user, approved_draft, upload):
    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/attachments", headers=as_user("chuyenvien"),
                    files={"file": ("x.pdf", b"not a pdf", "application/pdf")})
    assert r.status_code == 422
    incoming = upload()
    r = client.post(f"/api/v1/documents/{incoming['id']}/attachments", headers=as_user("vanthu"),
                    files={"file": ("x.pdf", make_pdf(), "application/pdf")})
    assert r.status_code == 409
    r = client.post(f"/api/v1/documents/{doc['id']}/attachments/sign", headers=as_user("vanthu"))
    assert r.status_code == 409  # not issued yet
