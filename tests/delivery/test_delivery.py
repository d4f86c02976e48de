"""Delivery to another agency on the same installation, and the acknowledgement back."""
from __future__ import annotations

from tests.support.agencies import approve, second_agency


def test_issued_document_reaches_the_second_agency_and_is_acknowledged(env, client, as_user, upload):
    other_org, other_clerk = second_agency(env, client)
    doc = upload("chuyenvien", direction="outgoing", doc_type="Kế hoạch", summary="Kế hoạch phòng chống lụt bão",
                 signer_position="Chủ tịch", signer_name="Lê Văn Bình", signer_competence="TM.",
                 recipients=["UBND xã Khánh Hòa", "Sở Nội vụ tỉnh Ninh Bình", "Lưu: VT"])
    approve(env, doc["id"])
    issued = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu")).json()
    assert issued["symbol"] == "01/KH-UBND"
    [d] = issued["deliveries"]  # the provincial department is not on this installation
    assert (d["recipient_org_id"], d["status"], d["status_label"]) == (other_org, 1, "Đã đến")
    assert d["received_at"] and d["acknowledged_at"] is None

    inbox = client.get("/api/v1/documents", params={"direction": "incoming"}, headers=other_clerk).json()
    [received] = inbox["items"]
    assert received["status"] == "received"
    assert received["number_symbol"] == "01/KH-UBND"
    assert received["issuing_body"] == "UBND huyện Yên Khánh"
    assert received["sha256"] == issued["sha256"]  # the same final bytes
    content = client.get(f"/api/v1/documents/{received['id']}/content", headers=other_clerk)
    sender_content = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu"))
    assert content.content == sender_content.content

    # The sender cannot reach the recipient's copy, and vice versa.
    assert client.get(f"/api/v1/documents/{received['id']}", headers=as_user("vanthu")).status_code == 404
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=other_clerk).status_code == 404

    reg = client.post(f"/api/v1/documents/{received['id']}/register", headers=other_clerk)
    assert reg.status_code == 200, reg.text
    assert reg.json()["arrival_number"] == 1

    [d] = client.get(f"/api/v1/documents/{doc['id']}/deliveries", headers=as_user("chuyenvien")).json()
    assert (d["status"], d["status_label"]) == (3, "Đã tiếp nhận")
    assert d["acknowledged_at"] is not None


def test_explicit_recipient_and_rejection(env, client, as_user, upload):
    other_org, other_clerk = second_agency(env, client, name="Phòng Giáo dục huyện", code="000.00.32.H41",
                                           clerk="vanthu_gd")
    doc = upload("chuyenvien", direction="outgoing", doc_type="Công văn", summary="V/v tổng kết năm học",
                 recipients=["Như trên"])
    approve(env, doc["id"])
    r = client.post(f"/api/v1/documents/{doc['id']}/issue", headers=as_user("vanthu"),
                    json={"recipient_org_ids": [other_org]})
    assert r.status_code == 200, r.text
    assert [d["recipient_org_id"] for d in r.json()["deliveries"]] == [other_org]

    [received] = client.get("/api/v1/documents", params={"direction": "incoming"}, headers=other_clerk).json()["items"]
    r = client.post(f"/api/v1/documents/{received['id']}/return", headers=other_clerk,
                    json={"reason": "Không thuộc thẩm quyền giải quyết"})
    assert r.status_code == 200
    [d] = client.get(f"/api/v1/documents/{doc['id']}/deliveries", headers=as_user("vanthu")).json()
    assert (d["status"], d["note"]) == (2, "Không thuộc thẩm quyền giải quyết")

    unknown = upload("chuyenvien", direction="outgoing", doc_type="Công văn", summary="V/v khác")
    approve(env, unknown["id"])
    r = client.post(f"/api/v1/documents/{unknown['id']}/issue", headers=as_user("vanthu"),
                    json={"recipient_org_ids": ["nosuchorg"]})
    assert r.status_code == 404
