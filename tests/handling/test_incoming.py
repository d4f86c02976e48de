"""Incoming documents through the HTTP API as the demo users: register → assign → pass on →
progress → complete with a reply; deadlines in working days; the follow-up report."""
from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from tests.support.workflow import Demo, problem

from ..conftest import login, make_pdf


def _incoming(upload, **meta):
    values = dict(direction="incoming", doc_type="Công văn", summary="Về việc rà soát hồ sơ hộ tịch",
                  number_symbol="125/STP-HCTP", issuing_body="Sở Tư pháp tỉnh Ninh Bình", issued_date="2026-11-20")
    values.update(meta)
    return upload("vanthu", **values)


def test_full_incoming_flow(client, as_user, upload):
    d = Demo(client, as_user)
    doc = _incoming(upload)
    r = d.post("vanthu", f"/api/v1/documents/{doc['id']}/register", {})
    assert r.status_code in (200, 201), r.text

    # the leader sees it waiting for assignment, due the next working day after arrival
    from ioffice.kernel.workcalendar import add_working_days

    waiting = [t for t in d.tasks("chutich") if t["kind"] == "assign"]
    assert [t["document_id"] for t in waiting] == [doc["id"]]
    assert waiting[0]["due_date"] == add_working_days(date.fromisoformat(r.json()["arrival_date"]), 1).isoformat()

    r = d.post("chutich", f"/api/v1/documents/{doc['id']}/assign", {
        "lead": {"unit_id": d.unit["TP"]}, "co_handlers": [{"unit_id": d.unit["TNMT"]}],
        "info_user_ids": [d.user["vanthu"]], "directions": "Giao Phòng Tư pháp chủ trì, báo cáo trước hạn.",
        "deadline": "2099-12-31"})
    assert r.status_code == 201, r.text
    rows = {a["role"]: a for a in r.json()}
    assert set(rows) == {"lead", "co", "info"}
    lead = rows["lead"]
    assert lead["deadline"] == "2099-12-31" and lead["status"] == "assigned"

    # the unit head of TP has it in "my tasks" and passes it on with an earlier deadline
    assert any(t["kind"] == "pass_on" and t["assignment_id"] == lead["id"] for t in d.tasks("truongphong"))
    too_late = d.post("truongphong", f"/api/v1/assignments/{lead['id']}/pass-on",
                      {"user_id": d.user["chuyenvien"], "deadline": "2100-01-05"})
    assert "hạn" in problem(too_late, 422)["detail"]
    r = d.post("truongphong", f"/api/v1/assignments/{lead['id']}/pass-on",
               {"user_id": d.user["chuyenvien"], "directions": "Đồng chí Bình xử lý.", "deadline": "2099-12-20"})
    assert r.status_code == 201, r.text
    child = r.json()
    assert child["parent_id"] == lead["id"] and child["deadline"] == "2099-12-20"

    # the specialist handles it: progress, then a reply drafted and linked on completion
    mine = [t for t in d.tasks("chuyenvien") if t["kind"] == "handle"]
    assert [t["assignment_id"] for t in mine] == [child["id"]]
    r = d.post("chuyenvien", f"/api/v1/assignments/{child['id']}/progress", {"note": "Đã rà soát 40/52 hồ sơ."})
    assert r.status_code == 201, r.text
    reply = d.draft("chuyenvien", summary="V/v báo cáo kết quả rà soát hồ sơ hộ tịch")
    incoming_again = _incoming(upload, summary="Văn bản đến khác", number_symbol="7/UBND-VP")
    bad = d.post("chuyenvien", f"/api/v1/assignments/{child['id']}/complete",
                 {"reply_document_id": incoming_again["id"]})
    problem(bad, 422)
    r = d.post("chuyenvien", f"/api/v1/assignments/{child['id']}/complete",
               {"note": "Đã hoàn thành rà soát.", "reply_document_id": reply["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed" and r.json()["outcome"] == "on_time"
    assert r.json()["reply_document_id"] == reply["id"]

    # a completed assignment admits no more progress (transition table → 409 problem+json)
    p = problem(d.post("chuyenvien", f"/api/v1/assignments/{child['id']}/progress", {"note": "Thêm"}), 409)
    assert p["current_status"] == "completed" and p["allowed_actions"] == []
    wf = d.workflow(doc["id"])
    assert wf["status"] == "completed"
    assert [n["note"] for n in wf["notes"]] == ["Đã rà soát 40/52 hồ sơ.", "Đã hoàn thành rà soát."]
    assert not [t for t in d.tasks("chuyenvien") if t["kind"] == "handle"]

    # the follow-up report counts it on time for TP and Trần Văn Bình, the co-handling as pending
    rep = d.get("vanthu", "/api/v1/reports/follow-up/details", params={"year": datetime.now(UTC).year}).json()
    by_handler = {c["name"]: c for c in rep["by_handler"]}
    assert by_handler["Trần Văn Bình"]["on_time"] == 1
    by_unit = {c["name"]: c for c in rep["by_unit"]}
    assert by_unit["Phòng Tư pháp"]["on_time"] == 1
    assert by_unit["Phòng Tài nguyên và Môi trường"]["pending"] == 1
    row = next(r for r in rep["rows"] if r["handler_name"] == "Trần Văn Bình")
    assert row["progress"] == "Đã hoàn thành rà soát." and row["outcome_label"] == "Đúng hạn"
    assert row["arrival_number"] == d.get("vanthu", f"/api/v1/documents/{doc['id']}").json()["arrival_number"] == 1

    # everyone involved was told in-app
    notes = d.get("chuyenvien", "/api/v1/notifications").json()
    assert any(n["title"] == "Bạn được giao xử lý văn bản đến" for n in notes["items"])
    assert any(n["kind"] == "assignment.info" for n in d.get("vanthu", "/api/v1/notifications").json()["items"])
    info = [t for t in d.tasks("vanthu") if t["kind"] == "read"]
    assert [t["assignment_id"] for t in info] == [rows["info"]["id"]]
    problem(d.post("chuyenvien", f"/api/v1/assignments/{rows['info']['id']}/read"), 403)
    assert d.post("vanthu", f"/api/v1/assignments/{rows['info']['id']}/read").json()["status"] == "read"
    problem(d.post("vanthu", f"/api/v1/assignments/{rows['info']['id']}/read"), 409)
    assert not [t for t in d.tasks("vanthu") if t["kind"] == "read"]


def test_assign_needs_registration_and_a_leader(client, as_user, upload):
    d = Demo(client, as_user)
    doc = _incoming(upload)
    body = {"lead": {"unit_id": d.unit["TP"]}, "deadline_working_days": 5}
    problem(d.post("truongphong", f"/api/v1/documents/{doc['id']}/assign", body), 403)
    p = problem(d.post("chutich", f"/api/v1/documents/{doc['id']}/assign", body), 409)
    assert "Đã tiếp nhận" in p["detail"] and p["type"].endswith("/conflict")
    # completing what was never assigned to you
    d.post("vanthu", f"/api/v1/documents/{doc['id']}/register", {})
    r = d.post("chutich", f"/api/v1/documents/{doc['id']}/assign", body)
    lead = r.json()[0]
    problem(d.post("chuyenvien", f"/api/v1/assignments/{lead['id']}/complete", {}), 403)


def test_deadline_in_working_days_skips_weekend_and_tet(client, as_user, upload):
    d = Demo(client, as_user)
    doc = _incoming(upload)
    d.post("vanthu", f"/api/v1/documents/{doc['id']}/register", {})
    # Wednesday 3 February 2027, 10:00 in Hà Nội; Tết Đinh Mùi closes Thu 4 – Wed 10 February
    with time_machine.travel(datetime(2027, 2, 3, 3, 0, tzinfo=UTC), tick=False):
        r = d.post("chutich", f"/api/v1/documents/{doc['id']}/assign",
                   {"lead": {"user_id": d.user["truongphong"]}, "deadline_working_days": 3})
        assert r.status_code == 201, r.text
        assert r.json()[0]["deadline"] == "2027-02-15"  # Thu 11, Fri 12, (weekend), Mon 15
    # Friday 12 February: still pending; Tuesday 16th: overdue and first in the unit head's tasks
    with time_machine.travel(datetime(2027, 2, 16, 3, 0, tzinfo=UTC), tick=False):
        tasks = d.tasks("truongphong")
        assert tasks[0]["assignment_id"] == r.json()[0]["id"] and tasks[0]["overdue"] is True
        rep = client.get("/api/v1/reports/follow-up/details", params={"year": 2027}, headers=login(client, "vanthu"))
        assert rep.status_code == 200, rep.text
        rep = rep.json()
        assert rep["by_handler"][0]["overdue"] == 1


def test_late_completion_is_counted_late(client, as_user, upload):
    d = Demo(client, as_user)
    doc = _incoming(upload)
    d.post("vanthu", f"/api/v1/documents/{doc['id']}/register", {})
    with time_machine.travel(datetime(2027, 3, 1, 2, 0, tzinfo=UTC), tick=False):
        lead = d.post("chutich", f"/api/v1/documents/{doc['id']}/assign",
                      {"lead": {"user_id": d.user["chuyenvien"]}, "deadline": "2027-03-02"}).json()[0]
    with time_machine.travel(datetime(2027, 3, 4, 2, 0, tzinfo=UTC), tick=False):
        r = d.post("chuyenvien", f"/api/v1/assignments/{lead['id']}/complete", {"note": "Xong."})
        assert r.json()["outcome"] == "late"
        rep = client.get("/api/v1/reports/follow-up/details", params={"start": "2027-03-01", "end": "2027-03-31"},
                         headers=login(client, "chutich")).json()
        assert [(c["name"], c["late"]) for c in rep["by_handler"]] == [("Trần Văn Bình", 1)]


def test_agency_holidays_from_settings_extend_the_calendar(env):
    """IOFFICE_HOLIDAYS adds days off (e.g. a provincial holiday) to the built-in list."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from ioffice.kernel import workcalendar

    app = create_app(env.settings(holidays="2027-02-11,2027-02-12"))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            with time_machine.travel(datetime(2027, 2, 3, 3, 0, tzinfo=UTC), tick=False):
                d = Demo(client, lambda u: login(client, u))
                doc = client.post("/api/v1/documents", headers=login(client, "vanthu"),
                                  files={"file": ("den.pdf", make_pdf(), "application/pdf")},
                                  data={"metadata": '{"direction": "incoming", "doc_type": "Công văn", '
                                                    '"summary": "Về việc thử lịch nghỉ"}'}).json()
                d.post("vanthu", f"/api/v1/documents/{doc['id']}/register", {})
                r = d.post("chutich", f"/api/v1/documents/{doc['id']}/assign",
                           {"lead": {"user_id": d.user["chuyenvien"]}, "deadline_working_days": 3})
                assert r.status_code == 201, r.text
                assert r.json()[0]["deadline"] == "2027-02-17"  # 11, 12 off too: Mon 15, Tue 16, Wed 17
    finally:
        workcalendar.configure(())


def test_leader_reassigns_and_the_old_handling_is_cancelled(client, as_user, upload):
    d = Demo(client, as_user)
    doc = _incoming(upload)
    d.post("vanthu", f"/api/v1/documents/{doc['id']}/register", {})
    first = d.post("chutich", f"/api/v1/documents/{doc['id']}/assign", {"lead": {"unit_id": d.unit["TP"]}}).json()[0]
    child = d.post("truongphong", f"/api/v1/assignments/{first['id']}/pass-on",
                   {"user_id": d.user["chuyenvien"]}).json()
    lock = d.workflow(doc["id"])["lock_version"]
    r = d.post("chutich", f"/api/v1/documents/{doc['id']}/assign",
               {"lead": {"unit_id": d.unit["TNMT"]}, "directions": "Chuyển Phòng TNMT chủ trì.",
                "expected_lock_version": lock})
    assert r.status_code == 201, r.text
    statuses = {a["id"]: a["status"] for a in d.workflow(doc["id"])["assignments"]}
    assert statuses[first["id"]] == "cancelled" and statuses[child["id"]] == "cancelled"
    assert not [t for t in d.tasks("chuyenvien") if t["kind"] == "handle"]
    problem(d.post("chuyenvien", f"/api/v1/assignments/{child['id']}/complete", {}), 409)
    # a stale view of the document is refused
    problem(d.post("chutich", f"/api/v1/documents/{doc['id']}/assign",
                   {"lead": {"unit_id": d.unit["TP"]}, "expected_lock_version": lock}), 409)
