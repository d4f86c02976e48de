"""Recall and replace: the issuer recalls an issued document with a reason; it is frozen, marked in
the outgoing register, and the recipient agency on this installation sees it recalled; a
replacement links to the document it replaces."""
from __future__ import annotations

import json

from ioffice.kernel.workcalendar import vn_today
from tests.conftest import make_pdf
from tests.support.agencies import approve, second_agency


def test_recall_freezes_marks_the_register_and_reaches_the_recipient(env, client, as_user, upload):
    other_org, other_clerk = second_agency(env, client)
    doc = upload("chuyenvien", direction="outgoing", doc_type="Công văn", summary="V/v kiểm tra đê điều",
                 recipients=["Như trên"])
    approve(env, doc["id"])
    r = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"),
                    json={"recipient_org_ids": [other_org]})
    assert r.status_code == 200, r.text
    symbol = r.json()["symbol"]

    # Only the issuing agency's clerk recalls, and only with a reason.
    assert client.post(f"/api/v1/documents/{doc['id']}/recall", headers=as_user("chuyenvien"),
                       json={"reason": "Sai số liệu"}).status_code == 403
    assert client.post(f"/api/v1/documents/{doc['id']}/recall", headers=as_user("vanthu"),
                       json={"reason": ""}).status_code == 422
    r = client.post(f"/api/v1/documents/{doc['id']}/recall", headers=as_user("vanthu"),
                    json={"reason": "Sai số liệu tại phụ lục"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "recalled"

    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()
    assert got["status"] == "recalled" and got["recall"]["reason"] == "Sai số liệu tại phụ lục"
    # Frozen: no second recall, no new signature, no new version.
    assert client.post(f"/api/v1/documents/{doc['id']}/recall", headers=as_user("vanthu"),
                       json={"reason": "lại"}).status_code == 409
    assert client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"),
                       json={}).status_code == 409

    book = client.get(f"/api/v1/registers/outgoing/{vn_today().year}", headers=as_user("vanthu")).json()
    [row] = [x for x in book["rows"] if x["number_symbol"] == symbol]
    assert "Đã thu hồi" in json.dumps(row, ensure_ascii=False)

    [received] = client.get("/api/v1/documents", params={"direction": "incoming"},
                            headers=other_clerk).json()["items"]
    seen = client.get(f"/api/v1/documents/{received['id']}", headers=other_clerk).json()
    assert seen["recall"]["reason"] == "Sai số liệu tại phụ lục"
    assert seen["recall"]["number_symbol"] == symbol

    # The replacement links to the recalled document, and back.
    r = client.post("/api/v1/documents", headers=as_user("chuyenvien"),
                    files={"file": ("thay-the.pdf", make_pdf("Thay the"), "application/pdf")},
                    data={"metadata": json.dumps({"direction": "outgoing", "doc_type": "Công văn",
                                                  "summary": "V/v kiểm tra đê điều (thay thế)",
                                                  "replaces_id": doc["id"]}, ensure_ascii=False)})
    assert r.status_code == 201, r.text
    assert r.json()["replaces_id"] == doc["id"]
    again = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("vanthu")).json()
    assert again["replaced_by_id"] == r.json()["id"]
