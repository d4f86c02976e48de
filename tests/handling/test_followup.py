"""Follow-up register and report fed by the workflow's assignments; delivery status follows the
recipient's handling."""
from __future__ import annotations

from datetime import timedelta

from ioffice.accounts.models import User
from ioffice.kernel.workcalendar import vn_today
from tests.support.agencies import approve, db_session, demo_org, second_agency


def user_id(env, username: str) -> str:
    with db_session(env) as s:
        return s.query(User).filter_by(username=username).one().id


def test_handled_document_in_follow_up_and_delivery_progress(env, client, as_user, upload):
    today = vn_today()
    # The commune sends a report to the district (an agency on the same installation).
    commune_org, commune_clerk = second_agency(env, client)
    with db_session(env) as s:
        district = demo_org(s).id
    import json

    from ..conftest import make_pdf

    r = client.post("/api/v1/documents", headers=commune_clerk,
                    files={"file": ("bc.pdf", make_pdf(), "application/pdf")},
                    data={"metadata": json.dumps({"direction": "outgoing", "doc_type": "Báo cáo",
                                                  "summary": "Báo cáo tình hình thiệt hại do bão số 3"},
                                                 ensure_ascii=False)})
    assert r.status_code == 201, r.text
    sent = r.json()["id"]
    approve(env, sent)
    r = client.post(f"/api/v1/documents/{sent}/issue", headers=commune_clerk,
                    json={"recipient_org_ids": [district]})
    assert r.status_code == 200, r.text
    assert r.json()["symbol"] == "01/BC-UBND"

    [incoming] = client.get("/api/v1/documents", params={"direction": "incoming"},
                            headers=as_user("vanthu")).json()["items"]
    assert incoming["issuing_body"] == "UBND xã Khánh Hòa"
    reg = client.post(f"/api/v1/documents/{incoming['id']}/register", headers=as_user("vanthu")).json()

    def delivery_status() -> int:
        [d] = client.get(f"/api/v1/documents/{sent}/deliveries", headers=commune_clerk).json()
        return d["status"]

    assert delivery_status() == 3
    r = client.post(f"/api/v1/documents/{incoming['id']}/assign", headers=as_user("chutich"),
                    json={"lead": {"user_id": user_id(env, "chuyenvien")}, "directions": "Tổng hợp, báo cáo",
                          "deadline": (today + timedelta(days=7)).isoformat()})
    assert r.status_code == 201, r.text
    lead = next(a for a in r.json() if a["role"] == "lead")
    assert delivery_status() == 4

    # The reply, issued by the district.
    reply = upload("chuyenvien", direction="outgoing", doc_type="Công văn", summary="V/v hỗ trợ khắc phục bão số 3")
    approve(env, reply["id"])
    reply_symbol = client.post(f"/api/v1/documents/{reply['id']}/issue", headers=as_user("vanthu")).json()["symbol"]
    r = client.post(f"/api/v1/assignments/{lead['id']}/complete", headers=as_user("chuyenvien"),
                    json={"note": "Đã trình văn bản hỗ trợ", "reply_document_id": reply["id"]})
    assert r.status_code == 200, r.text
    assert delivery_status() == 6

    book = client.get(f"/api/v1/registers/follow-up/{today.year}", headers=as_user("vanthu")).json()
    [row] = book["rows"]
    assert row["arrival_number"] == reg["arrival_number_display"] == "01"
    with db_session(env) as s:
        handler = s.query(User).filter_by(username="chuyenvien").one()
        handler_name = handler.full_name
    assert row["handler"].startswith(handler_name)
    assert row["reply_number"] == reply_symbol
    assert row["notes"] == "Đúng hạn"
    assert row["deadline"] == (today + timedelta(days=7)).strftime("%d/%m/%Y")

    incoming_book = client.get(f"/api/v1/registers/incoming/{today.year}", headers=as_user("vanthu")).json()
    assert incoming_book["rows"][0]["recipient"]  # the lead handler shows in «Đơn vị hoặc người nhận»

    report = client.get("/api/v1/reports/follow-up", headers=as_user("chutich"),
                        params={"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}).json()
    [h] = report["by_handler"]
    assert (h["on_time"], h["late"], h["overdue"], h["pending"], h["total"]) == (1, 0, 0, 0, 1)
    assert h["handler"] == handler_name
