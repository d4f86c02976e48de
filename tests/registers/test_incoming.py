"""Incoming registration: arrival numbers, duplicates, returns, roles and organisation scoping."""
from __future__ import annotations

from datetime import UTC, datetime

import time_machine

from ioffice import registers
from ioffice.accounts.models import User
from ioffice.kernel.caller import Caller
from tests.support.agencies import db_session, demo_org, second_agency

INCOMING = dict(direction="incoming", doc_type="Công văn", issuing_body="Sở Tư pháp tỉnh Ninh Bình",
                issued_date="2026-03-02")


def test_arrival_numbers_are_sequential_and_zero_padded(client, as_user, upload):
    ids = [upload(summary=f"Về việc số {i}", number_symbol=f"{i}/STP-VP", **INCOMING)["id"] for i in range(1, 4)]
    results = []
    for doc_id in ids:
        r = client.post(f"/api/v1/documents/{doc_id}/register", headers=as_user("vanthu"))
        assert r.status_code == 200, r.text
        results.append(r.json())
    assert [r["arrival_number"] for r in results] == [1, 2, 3]
    assert [r["arrival_number_display"] for r in results] == ["01", "02", "03"]
    assert all(r["status"] == "registered" for r in results)
    doc = client.get(f"/api/v1/documents/{ids[0]}", headers=as_user("vanthu")).json()
    assert doc["status"] == "registered"
    # Secret documents are entered in their own series.
    secret = upload(summary="Tài liệu mật", number_symbol="4/STP-VP", secrecy="mat", **INCOMING)["id"]
    r = client.post(f"/api/v1/documents/{secret}/register", headers=as_user("vanthu")).json()
    assert (r["arrival_number"], r["series"]) == (1, "mat")
    # Registering twice is an invalid transition.
    again = client.post(f"/api/v1/documents/{ids[0]}/register", headers=as_user("vanthu"))
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_duplicate_is_flagged_then_registered_on_confirmation(client, as_user, upload):
    first = upload(summary="Về việc kiểm tra", number_symbol="15/QĐ-STP", **INCOMING)["id"]
    # Same issuer, number/symbol and date, written differently.
    dup_meta = dict(INCOMING, issuing_body="  sở tư pháp tỉnh  NINH BÌNH ")
    second = upload(summary="Về việc kiểm tra (bản fax)", number_symbol="15 / QĐ-STP", **dup_meta)["id"]
    assert client.post(f"/api/v1/documents/{first}/register", headers=as_user("vanthu")).status_code == 200

    r = client.post(f"/api/v1/documents/{second}/register", headers=as_user("vanthu"))
    assert r.status_code == 409
    problem = r.json()
    assert problem["duplicate_of"] == first
    assert "trùng" in problem["detail"]
    # Nothing was registered: the document is still waiting.
    assert client.get(f"/api/v1/documents/{second}", headers=as_user("vanthu")).json()["status"] == "received"

    r = client.post(f"/api/v1/documents/{second}/register", headers=as_user("vanthu"),
                    json={"confirm_duplicate": True})
    assert r.status_code == 200, r.text
    assert r.json()["arrival_number"] == 2
    assert r.json()["duplicate_of"] == first

    # A different date is not a duplicate.
    other = upload(summary="Về việc kiểm tra", number_symbol="15/QĐ-STP", **dict(INCOMING, issued_date="2026-03-03"))
    assert client.post(f"/api/v1/documents/{other['id']}/register", headers=as_user("vanthu")).status_code == 200


def test_return_with_reason(client, as_user, upload):
    doc_id = upload(summary="Gửi nhầm địa chỉ", number_symbol="7/UBND-VP", **INCOMING)["id"]
    r = client.post(f"/api/v1/documents/{doc_id}/return", headers=as_user("vanthu"), json={"reason": "   "})
    assert r.status_code == 422
    r = client.post(f"/api/v1/documents/{doc_id}/return", headers=as_user("vanthu"),
                    json={"reason": "Gửi nhầm cơ quan, đề nghị gửi Phòng Giáo dục"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "returned_to_sender"
    assert client.post(f"/api/v1/documents/{doc_id}/register", headers=as_user("vanthu")).status_code == 409


def test_only_the_clerk_registers(client, as_user, upload):
    doc_id = upload(summary="Về việc phân quyền", **INCOMING)["id"]
    for user in ("chuyenvien", "chutich"):
        r = client.post(f"/api/v1/documents/{doc_id}/register", headers=as_user(user))
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
    assert client.post(f"/api/v1/documents/{doc_id}/return", headers=as_user("chuyenvien"),
                       json={"reason": "x"}).status_code == 403


def test_another_agencys_document_is_not_found(env, client, as_user, upload):
    doc_id = upload(summary="Văn bản của huyện", **INCOMING)["id"]
    _, other_clerk = second_agency(env, client)
    for path, body in (("register", None), ("return", {"reason": "không phải của tôi"})):
        r = client.post(f"/api/v1/documents/{doc_id}/{path}", headers=other_clerk, json=body)
        assert r.status_code == 404, r.text
    assert client.get(f"/api/v1/documents/{doc_id}/deliveries", headers=other_clerk).status_code == 404
    assert client.get(f"/api/v1/documents/{doc_id}", headers=as_user("vanthu")).json()["status"] == "received"


def test_arrival_numbers_restart_on_first_of_january(env, upload):
    ids = [upload(summary=f"Cuối năm {i}", number_symbol=f"{i}/TB-STP", **INCOMING)["id"] for i in range(3)]
    with db_session(env) as s:
        clerk = s.query(User).filter_by(username="vanthu").one()
        caller = Caller(user_id=clerk.id, username=clerk.username, org_id=clerk.org_id)
        # 23:30 on 31 December in Vietnam (16:30 UTC).
        with time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), tick=False):
            a = registers.register_incoming(s, caller=caller, document_id=ids[0])
            b = registers.register_incoming(s, caller=caller, document_id=ids[1])
        # 00:10 on 1 January in Vietnam is still 31 December in UTC.
        with time_machine.travel(datetime(2026, 12, 31, 17, 10, tzinfo=UTC), tick=False):
            c = registers.register_incoming(s, caller=caller, document_id=ids[2])
        assert (a.entry.year, a.entry.arrival_number) == (2026, 1)
        assert (b.entry.year, b.entry.arrival_number) == (2026, 2)
        assert (c.entry.year, c.entry.arrival_number, c.arrival_number_display) == (2027, 1, "01")
        assert str(c.entry.arrival_date) == "2027-01-01"
        assert demo_org(s).id == clerk.org_id
