"""Incoming checked at the door: every uploaded incoming PDF has its signatures validated; one
changed after signing is held at registration; a genuine one registers straight away."""
from __future__ import annotations

import io

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from tests.conftest import make_pdf
from tests.validation.builders import first_page, generic, incremental, pdf_name, stream

INCOMING = dict(direction="incoming", doc_type="Công văn", issuing_body="Sở Tài chính tỉnh Ninh Bình",
                issued_date="2026-03-02")


def signed_by_sender(settings, text: str) -> bytes:
    """A PDF signed with a personal key of the development PKI (which the installation trusts)."""
    from certs.keys import load_signer

    signer = load_signer(str(settings.pki_dir / "personal" / "chutich.p12"), passphrase=settings.pki_passphrase)
    w = IncrementalPdfFileWriter(io.BytesIO(make_pdf(text)), strict=False)
    return signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name="ChuKy1"), signer=signer).getvalue()


def changed_after_signing(pdf: bytes) -> bytes:
    """An incremental update that paints new text over page 1 (the signed bytes stay intact)."""
    def edit(w):
        page = first_page(w)
        overlay = stream(w, b"BT /F1 24 Tf 72 600 Td (So tien: 900.000.000 dong) Tj ET")
        contents = page["/Contents"]
        items = list(contents) if isinstance(contents, generic.ArrayObject) else [page.raw_get("/Contents")]
        page[pdf_name("/Contents")] = generic.ArrayObject(items + [overlay])
        w.update_container(page)

    return incremental(pdf, edit)


def test_incoming_pdf_changed_after_signing_is_held_at_registration(client, as_user, upload, settings):
    tampered = changed_after_signing(signed_by_sender(settings, "Cong van so 12/STC-NS"))
    doc = upload(pdf=tampered, summary="Về việc cấp kinh phí", number_symbol="12/STC-NS", **INCOMING)
    check = doc["signature_check"]
    assert check["verdict"] == "modified", check
    assert check["trusted"] is True  # the signer is known; what was signed is not what is shown
    assert check["checked_at"] and "sửa đổi sau khi ký" in check["summary"]
    # the detail shows it too
    detail = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()
    assert detail["signature_check"]["verdict"] == "modified"

    r = client.post(f"/api/v1/documents/{doc['id']}/register", headers=as_user("vanthu"))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert "chữ ký số" in problem["detail"] and "sửa đổi sau khi ký" in problem["detail"]
    assert problem["signature_check"]["verdict"] == "modified"
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()["status"] == "received"

    r = client.post(f"/api/v1/documents/{doc['id']}/register", headers=as_user("vanthu"),
                    json={"confirm_signature_problem": True})
    assert r.status_code == 200, r.text
    assert r.json()["arrival_number"] == 1


def test_returning_a_tampered_document_carries_the_reason(client, as_user, upload, settings):
    tampered = changed_after_signing(signed_by_sender(settings, "Cong van so 13/STC-NS"))
    doc = upload(pdf=tampered, summary="Về việc quyết toán", number_symbol="13/STC-NS", **INCOMING)
    r = client.post(f"/api/v1/documents/{doc['id']}/return", headers=as_user("vanthu"),
                    json={"reason": "Văn bản không hợp lệ"})
    assert r.status_code == 200, r.text
    reason = r.json()["reason"]
    assert reason.startswith("Văn bản không hợp lệ") and "sửa đổi sau khi ký" in reason
    # with no reason typed, the finding is the reason
    other = upload(pdf=changed_after_signing(signed_by_sender(settings, "Cong van so 14/STC-NS")),
                   summary="Về việc khác", number_symbol="14/STC-NS", **INCOMING)
    r = client.post(f"/api/v1/documents/{other['id']}/return", headers=as_user("vanthu"), json={})
    assert r.status_code == 200, r.text
    assert "Kiểm tra chữ ký số" in r.json()["reason"]


def test_genuine_and_unsigned_incoming_register_straight_away(client, as_user, upload, settings):
    genuine = upload(pdf=signed_by_sender(settings, "Cong van so 20/STC-NS"), summary="Về việc hướng dẫn",
                     number_symbol="20/STC-NS", **INCOMING)
    assert genuine["signature_check"]["verdict"] == "valid", genuine["signature_check"]
    unsigned = upload(summary="Về việc mời họp", number_symbol="21/STC-NS", **INCOMING)
    assert unsigned["signature_check"]["verdict"] == "no_signature"
    assert unsigned["signature_check"]["summary"] == "Tài liệu PDF này không có chữ ký số."
    for doc in (genuine, unsigned):
        r = client.post(f"/api/v1/documents/{doc['id']}/register", headers=as_user("vanthu"))
        assert r.status_code == 200, r.text
    # outgoing drafts are not checked at the door
    draft = upload("chuyenvien", direction="outgoing", doc_type="Công văn", summary="Dự thảo")
    assert draft["signature_check"] is None


def test_web_form_upload_is_checked_too(client, as_user, settings):
    from tests.web.test_pages import _csrf, page_login

    page_login(client, "vanthu")
    form = client.get("/documents/new?direction=incoming").text
    tampered = changed_after_signing(signed_by_sender(settings, "Cong van so 30/STC-NS"))
    r = client.post("/documents/new", data={"csrf_token": _csrf(form), "direction": "incoming", "doc_type": "Công văn",
                                            "summary": "Về việc tạm ứng", "number_symbol": "30/STC-NS",
                                            "issuing_body": "Sở Tài chính", "issued_date": "2026-03-02"},
                    files={"file": ("cv.pdf", tampered, "application/pdf")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    doc_id = r.headers["location"].split("/documents/")[1].split("?")[0]
    got = client.get(f"/api/v1/documents/{doc_id}", headers=as_user("vanthu")).json()
    assert got["signature_check"]["verdict"] == "modified"
    page = client.get(f"/documents/{doc_id}").text
    r = client.post(f"/documents/{doc_id}/register", data={"csrf_token": _csrf(page)})
    assert r.status_code == 409 and "chữ ký số có vấn đề" in r.text
    # The clerk sees the finding on the page, in words, and can still register after confirming.
    assert "Kiểm tra chữ ký số khi tiếp nhận" in page and "Văn bản đã bị thay đổi sau khi ký" in page
    assert 'name="confirm_signature_problem"' in page
    r = client.post(f"/documents/{doc_id}/register",
                    data={"csrf_token": _csrf(page), "confirm_signature_problem": "1"}, follow_redirects=True)
    assert r.status_code == 200 and "Đã vào sổ văn bản đến." in r.text
    got = client.get(f"/api/v1/documents/{doc_id}", headers=as_user("vanthu")).json()
    assert got["status"] == "registered"


def test_web_return_of_a_tampered_document_needs_no_typed_reason(client, as_user, settings):
    from tests.web.test_pages import _csrf, page_login

    page_login(client, "vanthu")
    form = client.get("/documents/new?direction=incoming").text
    tampered = changed_after_signing(signed_by_sender(settings, "Cong van so 31/STC-NS"))
    r = client.post("/documents/new", data={"csrf_token": _csrf(form), "direction": "incoming", "doc_type": "Công văn",
                                            "summary": "Về việc quyết toán", "number_symbol": "31/STC-NS",
                                            "issuing_body": "Sở Tài chính", "issued_date": "2026-03-02"},
                    files={"file": ("cv.pdf", tampered, "application/pdf")}, follow_redirects=False)
    doc_id = r.headers["location"].split("/documents/")[1].split("?")[0]
    page = client.get(f"/documents/{doc_id}").text
    r = client.post(f"/documents/{doc_id}/return", data={"csrf_token": _csrf(page), "reason": ""},
                    follow_redirects=True)
    assert r.status_code == 200 and "Đã trả lại nơi gửi" in r.text and "Kiểm tra chữ ký số" in r.text
