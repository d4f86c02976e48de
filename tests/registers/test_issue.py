"""Issuing outgoing documents: series, Decree 30 symbols, finality, sealing, roles."""
from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter

from ioffice import registers
from ioffice.accounts.models import User
from ioffice.documents.models import Document, DocumentVersion
from ioffice.kernel.caller import Caller
from ioffice.kernel.workcalendar import vn_today
from tests.support.agencies import approve, db_session, set_org_settings, unit_id


def outgoing(upload, env, doc_type="Quyết định", summary="Về việc ban hành quy chế", **meta):
    doc = upload("chuyenvien", direction="outgoing", doc_type=doc_type, summary=summary,
                 signer_competence="KT.", signer_position="Phó Chủ tịch", signer_name="Nguyễn Văn An",
                 recipients=["Các phòng chuyên môn", "Lưu: VT"], **meta)
    approve(env, doc["id"])
    return doc["id"]


def issue(client, as_user, doc_id, **body):
    r = client.post(f"/api/v1/documents/{doc_id}/issue", headers=as_user("vanthu"), json=body or None)
    assert r.status_code == 200, r.text
    return r.json()


def test_issue_numbers_decision_and_official_letter_from_the_shared_series(env, client, as_user, upload):
    qd = issue(client, as_user, outgoing(upload, env))
    assert (qd["number"], qd["number_display"], qd["symbol"]) == (1, "01", "01/QĐ-UBND")
    assert qd["issued_date"] == vn_today().isoformat()
    assert qd["status"] == "issued"

    cv = issue(client, as_user, outgoing(upload, env, doc_type="Công văn", summary="V/v báo cáo số liệu",
                                          drafting_unit_id=unit_id(env, "VP")))
    assert cv["symbol"] == "02/UBND-VP"

    doc = client.get(f"/api/v1/documents/{qd['document_id']}", headers=as_user("vanthu")).json()
    assert doc["number_symbol"] == "01/QĐ-UBND"
    assert doc["number"] == 1
    assert doc["issuing_body"] == "UBND huyện Yên Khánh"
    # Without a seal callback the approved version itself becomes the final one.
    assert doc["versions"][-1]["is_final"] is True
    assert doc["sha256"] == qd["sha256"]


def test_secret_documents_have_their_own_series(env, client, as_user, upload):
    assert issue(client, as_user, outgoing(upload, env))["symbol"] == "01/QĐ-UBND"
    secret = issue(client, as_user, outgoing(upload, env, secrecy="mat", summary="Về công tác bảo vệ bí mật"))
    assert secret["symbol"] == "01/QĐ-UBND"
    assert secret["series"] == "mat"
    assert issue(client, as_user, outgoing(upload, env, doc_type="Thông báo"))["symbol"] == "02/TB-UBND"


def test_per_type_series_when_configured(env, client, as_user, upload):
    set_org_settings(env, {"outgoing_series": {"NQ": "NQ", "QĐ": "QĐ-QPPL"}})
    assert issue(client, as_user, outgoing(upload, env, doc_type="Thông báo"))["symbol"] == "01/TB-UBND"
    assert issue(client, as_user, outgoing(upload, env, doc_type="Nghị quyết"))["symbol"] == "01/NQ-UBND"
    qd = issue(client, as_user, outgoing(upload, env))
    assert (qd["symbol"], qd["series"]) == ("01/QĐ-UBND", "QĐ-QPPL")
    assert issue(client, as_user, outgoing(upload, env, doc_type="Kế hoạch"))["symbol"] == "02/KH-UBND"
    assert issue(client, as_user, outgoing(upload, env, doc_type="Nghị quyết"))["symbol"] == "02/NQ-UBND"


def test_issue_needs_an_approved_document_and_the_clerk(env, client, as_user, upload):
    draft = upload("chuyenvien", direction="outgoing", doc_type="Quyết định", summary="Dự thảo")["id"]
    r = client.post(f"/api/v1/documents/{draft}/issue", headers=as_user("vanthu"))
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    approved = outgoing(upload, env)
    from datetime import timedelta

    tomorrow = (vn_today() + timedelta(days=1)).isoformat()
    r = client.post(f"/api/v1/documents/{approved}/issue", headers=as_user("vanthu"), json={"issued_date": tomorrow})
    assert r.status_code == 422
    for user in ("chuyenvien", "chutich", "truongphong"):
        assert client.post(f"/api/v1/documents/{approved}/issue", headers=as_user(user)).status_code == 403
    assert issue(client, as_user, approved)["number"] == 1
    # Issued once only; the failed attempts used no number.
    assert client.post(f"/api/v1/documents/{approved}/issue", headers=as_user("vanthu")).status_code == 409
    assert issue(client, as_user, outgoing(upload, env))["number"] == 2


def test_seal_callback_makes_a_new_final_version(env, client, as_user, upload):
    from storage import open_blob_store

    doc_id = outgoing(upload, env)
    seen = {}

    def seal(pdf: bytes, info: registers.IssueInfo) -> bytes:
        seen["info"] = info
        reader = PdfReader(io.BytesIO(pdf))
        writer = PdfWriter()
        writer.append(reader)
        writer.add_metadata({"/Subject": info.symbol})
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    store = open_blob_store(env.settings().blob_url)
    with db_session(env) as s:
        clerk = s.query(User).filter_by(username="vanthu").one()
        caller = Caller(user_id=clerk.id, username=clerk.username, org_id=clerk.org_id)
        before = s.get(Document, doc_id).current_version_id
        res = registers.issue_outgoing(s, store, caller=caller, document_id=doc_id, seal=seal)
        version = s.get(DocumentVersion, res.version_id)
        assert version.id != before and version.kind == "issued" and version.is_final
        assert store.is_final(version.sha256)
    info = seen["info"]
    assert info.symbol == "01/QĐ-UBND" and info.number_display == "01"
    assert info.date_line.startswith("Yên Khánh, ngày ") or info.date_line.startswith("Ngày ")
    content = client.get(f"/api/v1/documents/{doc_id}/content", headers=as_user("vanthu"))
    assert PdfReader(io.BytesIO(content.content)).metadata["/Subject"] == "01/QĐ-UBND"


def test_date_line_and_symbol_rules():
    from datetime import date

    from ioffice.registers.numbering import build_symbol

    assert registers.date_line("Yên Ninh", date(2024, 3, 5)) == "Yên Ninh, ngày 05 tháng 3 năm 2024"
    assert registers.date_line("Yên Ninh", date(2024, 2, 15)) == "Yên Ninh, ngày 15 tháng 02 năm 2024"
    assert build_symbol(5, doc_type="QĐ", body_abbr="UBND") == "05/QĐ-UBND"
    assert build_symbol(123, doc_type="", body_abbr="UBND", unit_abbr="VP") == "123/UBND-VP"


def test_issued_file_downloads_under_its_number_and_marks_accept_vietnamese_words(env, client, as_user, upload):
    doc_id = outgoing(upload, env, doc_type="Công văn", summary="V/v phòng chống bão", urgency="thượng khẩn",
                      secrecy="Tối mật", drafting_unit_id=unit_id(env, "TP"))
    got = client.get(f"/api/v1/documents/{doc_id}", headers=as_user("vanthu")).json()
    assert (got["urgency"], got["secrecy"]) == ("thuong_khan", "toi_mat")
    issued = issue(client, as_user, doc_id)
    assert issued["symbol"] == "01/UBND-TP"
    r = client.get(f"/api/v1/documents/{doc_id}/content", headers=as_user("vanthu"))
    assert r.headers["content-disposition"] == "attachment; filename=\"01-UBND-TP.pdf\"; filename*=UTF-8''01-UBND-TP.pdf"
