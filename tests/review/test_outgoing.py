"""Outgoing drafts through the HTTP API as the demo users: submit → return → new version →
approve → approve → issue; what was approved is what is issued; templates, conditions, withdrawal,
delegation; invalid transitions are 409 problem+json."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import select

from ioffice.audit.models import AuditEvent
from ioffice.audit.services import verify_chains
from tests.support.workflow import Demo, db_session, problem

from ..conftest import DEMO_PASSWORD, make_pdf


def _review(d: Demo, username: str, doc_id: str, decision: str = "approve", **kw):
    return d.post(username, f"/api/v1/documents/{doc_id}/review", {"decision": decision, **kw})


def test_full_outgoing_flow(client, as_user, env):
    d = Demo(client, as_user)
    doc = d.draft("chuyenvien", recipients=["UBND xã Khánh Hòa"])
    doc_id = doc["id"]
    r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
    assert r.status_code == 201, r.text
    rnd = r.json()
    assert [s["stage_name"] for s in rnd["steps"]] == ["Trưởng phòng xem xét", "Lãnh đạo phê duyệt"]
    assert [s["status"] for s in rnd["steps"]] == ["pending", "waiting"]
    assert rnd["sha256"] == doc["sha256"]

    # the leader cannot jump the queue; the unit head returns it with comments
    assert "lượt" in problem(_review(d, "chutich", doc_id), 409)["detail"]
    problem(_review(d, "truongphong", doc_id, "return"), 422)  # a return needs comments
    r = _review(d, "truongphong", doc_id, "return", comment="Bổ sung số liệu quý IV.")
    assert r.status_code == 200, r.text
    assert r.json()["document_status"] == "returned"
    revise = [t for t in d.tasks("chuyenvien") if t["kind"] == "revise"]
    assert [t["document_id"] for t in revise] == [doc_id]
    returned = [n for n in d.get("chuyenvien", "/api/v1/notifications").json()["items"] if n["kind"] == "review.returned"]
    assert "Bổ sung số liệu quý IV." in returned[0]["body"]

    # only the drafter uploads a new version; then resubmits
    problem(d.new_version("truongphong", doc_id, "Du thao v2"), 403)
    v2 = make_pdf("Du thao v2")
    r = client.post(f"/api/v1/documents/{doc_id}/versions", headers=as_user("chuyenvien"),
                    files={"file": ("du-thao-v2.pdf", v2, "application/pdf")})
    assert r.status_code == 201, r.text
    v2_sha = r.json()["sha256"]
    assert v2_sha == hashlib.sha256(v2).hexdigest() and r.json()["seq"] == 2
    r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
    assert r.status_code == 201 and r.json()["sha256"] == v2_sha

    # unit head approves, then the leader; the approval binds v2's hash
    r = _review(d, "truongphong", doc_id, expected_sha256=v2_sha)
    assert r.json()["step"]["sha256"] == v2_sha and r.json()["document_status"] == "in_review"
    assert any(t["kind"] == "review" and t["document_id"] == doc_id for t in d.tasks("chutich"))
    r = _review(d, "chutich", doc_id)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["document_status"] == "approved" and out["approved_sha256"] == v2_sha
    full = d.get("vanthu", f"/api/v1/documents/{doc_id}").json()
    assert (full["signer_name"], full["signer_position"], full["signer_competence"]) == ("Phạm Văn Đức", "Chủ tịch", None)

    # a second approval of a settled round is an invalid transition
    p = problem(_review(d, "chutich", doc_id), 409)
    assert p["type"].endswith("/conflict") and "Đã đồng ý" in p["detail"]

    # not yet signed by the leader: nothing to issue, and issuing is refused naming who must sign
    assert not any(t["kind"] == "issue" and t["document_id"] == doc_id for t in d.tasks("vanthu"))
    assert "Phạm Văn Đức" in problem(d.post("vanthu", f"/api/v1/documents/{doc_id}/issue", {}), 409)["detail"]
    r = d.post("chutich", f"/api/v1/documents/{doc_id}/sign", {"level": "B-B"})
    assert r.status_code == 201, r.text
    # the clerk sees it waiting for issue, and issues it to a second agency on this installation
    assert any(t["kind"] == "issue" and t["document_id"] == doc_id for t in d.tasks("vanthu"))
    from tests.support.agencies import second_agency

    other_org, other_clerk = second_agency(env, client)
    r = d.post("vanthu", f"/api/v1/documents/{doc_id}/issue", {"recipient_org_ids": [other_org]})
    assert r.status_code in (200, 201), r.text
    issued = r.json()
    assert issued["status"] == "issued" and issued["symbol"].endswith("/UBND-TP")
    inbox = client.get("/api/v1/documents", params={"direction": "incoming"}, headers=other_clerk).json()["items"]
    assert [x["number_symbol"] for x in inbox] == [issued["symbol"]]

    # the audit trail names the version hash of every workflow transition and the chain holds
    with db_session(env) as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.object_id == doc_id,
                                                    AuditEvent.action.like("workflow.%")).order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["workflow.submit", "workflow.review.return", "workflow.new_version",
                                             "workflow.submit", "workflow.review.approve", "workflow.review.approve"]
        assert all(e.details["sha256"] for e in events)
        assert [e.details["sha256"] for e in events][-3:] == [v2_sha] * 3
        assert verify_chains(s)[1] == []


def test_new_version_after_approval_resets_approvals(client, as_user, env):
    d = Demo(client, as_user)
    doc_id = d.draft()["id"]
    d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
    _review(d, "truongphong", doc_id)
    approved = _review(d, "chutich", doc_id).json()["approved_sha256"]
    assert d.workflow(doc_id)["approved_sha256"] == approved

    r = d.new_version("chuyenvien", doc_id, "Du thao sua sau khi duyet")
    assert r.status_code == 201, r.text
    wf = d.workflow(doc_id)
    assert wf["status"] == "draft" and wf["approved_sha256"] is None
    assert [s["status"] for s in wf["rounds"][0]["steps"]] == ["superseded", "superseded"]
    assert wf["rounds"][0]["status"] == "superseded"
    # nothing to issue any more: the clerk cannot issue the unapproved draft
    assert not [t for t in d.tasks("vanthu") if t["document_id"] == doc_id]
    problem(d.post("vanthu", f"/api/v1/documents/{doc_id}/issue", {}), 409)
    # in review, no new version may be slipped in
    d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
    problem(d.new_version("chuyenvien", doc_id, "Lén thay"), 409)


def test_withdraw_and_invalid_transitions(client, as_user):
    d = Demo(client, as_user)
    doc_id = d.draft()["id"]
    problem(d.post("chuyenvien", f"/api/v1/documents/{doc_id}/review", {"decision": "approve"}), 409)
    problem(d.post("truongphong", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()}), 403)
    r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
    lock = d.workflow(doc_id)["lock_version"]
    problem(d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()}), 409)
    # a stale expected_lock_version is refused
    p = problem(d.post("chuyenvien", f"/api/v1/documents/{doc_id}/withdraw", {"expected_lock_version": lock - 1}), 409)
    assert "tải lại" in p["detail"]
    problem(d.post("truongphong", f"/api/v1/documents/{doc_id}/withdraw", {}), 403)
    r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/withdraw", {"expected_lock_version": lock})
    assert r.status_code == 200 and r.json()["status"] == "draft"
    wf = d.workflow(doc_id)
    assert wf["rounds"][0]["status"] == "withdrawn"
    assert [s["status"] for s in wf["rounds"][0]["steps"]] == ["cancelled", "cancelled"]
    assert not [t for t in d.tasks("truongphong") if t["document_id"] == doc_id]
    problem(d.post("truongphong", f"/api/v1/documents/{doc_id}/review", {"decision": "approve"}), 409)
    r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/withdraw", {})
    assert r.json()["status"] == "withdrawn"
    p = problem(d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()}), 409)
    assert p["current_status"] == "withdrawn"


def test_route_templates_with_conditions(client, as_user):
    d = Demo(client, as_user)
    body = {
        "name": "Công văn: phòng → lãnh đạo", "doc_type": "Công văn",
        "stages": [{"name": "Trưởng phòng xem xét", "roles": ["unit_head"], "same_unit": True},
                   {"name": "Chủ tịch phê duyệt", "roles": ["leader"]}],
        "conditions": [{"if": {"secrecy": ["mat", "toi_mat", "tuyet_mat"]},
                        "add_stage": {"name": "Văn phòng kiểm tra thể thức, bảo mật", "mode": "any",
                                      "reviewer_ids": [d.user["vanthu"], d.user["admin"]]}}],
    }
    problem(d.post("chuyenvien", "/api/v1/route-templates", body), 403)
    r = d.post("admin", "/api/v1/route-templates", body)
    assert r.status_code == 201, r.text
    tpl = r.json()
    assert tpl["doc_type"] == "" and tpl["conditions"][0]["if"]["secrecy"] == ["mat", "toi_mat", "tuyet_mat"]
    assert tpl["id"] in [t["id"] for t in d.get("chuyenvien", "/api/v1/route-templates").json()]

    plain = d.draft()["id"]
    r = d.post("chuyenvien", f"/api/v1/documents/{plain}/submit", {"template_id": tpl["id"]})
    assert [s["name"] for s in r.json()["stages"]] == ["Trưởng phòng xem xét", "Chủ tịch phê duyệt"]
    secret = d.draft(secrecy="mat")["id"]
    r = d.post("chuyenvien", f"/api/v1/documents/{secret}/submit", {"template_id": tpl["id"]})
    assert [s["name"] for s in r.json()["stages"]] == [
        "Trưởng phòng xem xét", "Văn phòng kiểm tra thể thức, bảo mật", "Chủ tịch phê duyệt"]
    # parallel optional review, mode any: one of the two office reviewers is enough
    _review(d, "truongphong", secret)
    r = _review(d, "admin", secret)
    assert r.status_code == 200, r.text
    assert r.json()["document_status"] == "in_review"
    steps = d.workflow(secret)["rounds"][0]["steps"]
    assert sorted(s["status"] for s in steps if s["stage_index"] == 1) == ["approved", "skipped"]
    assert problem(_review(d, "vanthu", secret), 409)["current_status"] == "skipped"
    assert _review(d, "chutich", secret).json()["document_status"] == "approved"

    # edit and delete (deactivate)
    body["stages"] = body["stages"][1:]
    r = client.put(f"/api/v1/route-templates/{tpl['id']}", json=body, headers=as_user("admin"))
    assert r.status_code == 200 and len(r.json()["stages"]) == 1 and r.json()["lock_version"] == 2
    r = client.put(f"/api/v1/route-templates/{tpl['id']}", json=body, headers=as_user("admin"),
                   params={"expected_lock_version": 1})
    problem(r, 409)
    assert client.delete(f"/api/v1/route-templates/{tpl['id']}", headers=as_user("admin")).status_code == 204
    assert tpl["id"] not in [t["id"] for t in d.get("chuyenvien", "/api/v1/route-templates").json()]
    problem(d.post("chuyenvien", f"/api/v1/documents/{d.draft()['id']}/submit", {"template_id": tpl["id"]}), 409)
    # with every template deactivated, a submission needs its stages
    for t in d.get("admin", "/api/v1/route-templates").json():
        assert client.delete(f"/api/v1/route-templates/{t['id']}", headers=as_user("admin")).status_code == 204
    problem(d.post("chuyenvien", f"/api/v1/documents/{d.draft()['id']}/submit", {}), 422)
    bad = dict(body, stages=[{"name": "X", "roles": ["nobody"]}])
    problem(d.post("admin", "/api/v1/route-templates", bad), 422)


def test_demo_agency_submits_with_no_hand_written_stages(client, as_user):
    """The demo agency has a route for each common type: the specialist just submits."""
    d = Demo(client, as_user)
    names = {t["name"]: t for t in d.get("chuyenvien", "/api/v1/route-templates").json()}
    assert "Công văn: Trưởng phòng → Chủ tịch" in names and "Quyết định: Trưởng phòng → Văn phòng → Chủ tịch" in names
    assert any(t["doc_type"] is None for t in names.values())  # a route for any other type

    doc_id = d.draft()["id"]
    r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {})
    assert r.status_code == 201, r.text
    assert [s["stage_name"] for s in r.json()["steps"]] == ["Trưởng phòng xem xét", "Chủ tịch phê duyệt"]
    assert [t["document_id"] for t in d.tasks("truongphong")].count(doc_id) == 1
    assert _review(d, "truongphong", doc_id).status_code == 200
    assert _review(d, "chutich", doc_id).json()["document_status"] == "approved"

    decision = d.draft(doc_type="Quyết định", summary="Quyết định về việc thành lập tổ công tác")["id"]
    r = d.post("chuyenvien", f"/api/v1/documents/{decision}/submit", {})
    assert r.status_code == 201, r.text
    assert [s["stage_name"] for s in r.json()["steps"]] == [
        "Trưởng phòng xem xét", "Văn phòng kiểm tra thể thức, bảo mật", "Chủ tịch phê duyệt"]
    plan = d.draft(doc_type="Giấy mời", summary="Giấy mời họp")["id"]  # no route of its own: the general one
    r = d.post("chuyenvien", f"/api/v1/documents/{plan}/submit", {})
    assert r.status_code == 201 and len(r.json()["steps"]) == 2


def test_delegation_lets_a_deputy_approve_with_kt(client, as_user, env):
    d = Demo(client, as_user)
    r = d.post("admin", "/api/v1/users", {"username": "phochutich", "full_name": "Vũ Minh Khang",
                                          "password": DEMO_PASSWORD, "roles": ["leader"], "position": "Phó Chủ tịch"})
    assert r.status_code == 201, r.text
    deputy = r.json()["id"]
    doc_id = d.draft()["id"]
    d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
    _review(d, "truongphong", doc_id)
    # without a delegation the deputy has nothing to decide
    problem(_review(d, "phochutich", doc_id), 403)
    today = date.today()
    problem(d.post("chuyenvien", "/api/v1/delegations", {"delegate_id": deputy, "start_date": str(today),
                                                         "end_date": str(today)}), 403)
    past = d.post("chutich", "/api/v1/delegations", {"delegate_id": deputy, "competence": "KT.",
                                                     "start_date": str(today - timedelta(days=30)),
                                                     "end_date": str(today - timedelta(days=10))})
    assert past.status_code == 201
    problem(_review(d, "phochutich", doc_id), 403)  # expired
    r = d.post("chutich", "/api/v1/delegations", {"delegate_id": deputy, "competence": "KT.",
                                                  "start_date": str(today - timedelta(days=1)),
                                                  "end_date": str(today + timedelta(days=7)),
                                                  "note": "Chủ tịch đi công tác"})
    assert r.status_code == 201 and r.json()["competence"] == "KT."
    active = r.json()
    tasks = d.tasks("phochutich")
    assert [(t["kind"], t["on_behalf_of"]) for t in tasks] == [("review", d.user["chutich"])]
    r = _review(d, "phochutich", doc_id)
    assert r.status_code == 200, r.text
    assert r.json()["step"]["acted_by"] == deputy and r.json()["step"]["reviewer_id"] == d.user["chutich"]
    full = d.get("vanthu", f"/api/v1/documents/{doc_id}").json()
    assert (full["signer_competence"], full["signer_position"], full["signer_name"]) == (
        "KT.", "Phó Chủ tịch", "Vũ Minh Khang")
    from ioffice import review as routing
    from ioffice.accounts.models import User
    from ioffice.documents.models import Document

    with db_session(env) as s:
        document, deputy_user = s.get(Document, doc_id), s.get(User, deputy)
        assert document.extra["signer_authority"] == "KT. CHỦ TỊCH"
        assert routing.signing_capacity(s, user=deputy_user, document=document) == ("KT.", "Phó Chủ tịch")
        assert routing.approved_sha256(s, document) == full["sha256"]
    # revoked by the leader: the deputy no longer sees the leader's reviews
    problem(d.post("phochutich", f"/api/v1/delegations/{active['id']}/revoke"), 403)
    r = d.post("chutich", f"/api/v1/delegations/{active['id']}/revoke")
    assert r.status_code == 200 and r.json()["revoked_at"]
    problem(d.post("chutich", f"/api/v1/delegations/{active['id']}/revoke"), 409)
    other = d.draft()["id"]
    d.post("chuyenvien", f"/api/v1/documents/{other}/submit", {"stages": d.two_stage()[1:]})
    assert d.tasks("phochutich") == []
    problem(_review(d, "phochutich", other), 403)
    assert len(d.get("phochutich", "/api/v1/delegations", params={"mine": True}).json()) == 2


def test_other_agencies_see_and_touch_nothing(client, as_user, env):
    from tests.support.agencies import second_agency

    d = Demo(client, as_user)
    other_org, other_clerk = second_agency(env, client)
    doc_id = d.draft()["id"]
    foreign = next(u for u in client.get("/api/v1/users", headers=other_clerk).json())
    stages = [{"name": "Người ngoài", "reviewer_ids": [foreign["id"]]}]
    problem(d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": stages}), 404)
    r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": d.two_stage()})
    assert r.status_code == 201
    problem(client.get(f"/api/v1/documents/{doc_id}/workflow", headers=other_clerk), 404)
    problem(client.post(f"/api/v1/documents/{doc_id}/review", headers=other_clerk, json={"decision": "approve"}), 404)
    assert client.get("/api/v1/tasks", headers=other_clerk).json()["items"] == []
    assert client.get("/api/v1/route-templates", headers=other_clerk).json() == []


def test_stage_due_in_working_days(client, as_user):
    from ioffice.kernel.workcalendar import add_working_days, vn_today

    d = Demo(client, as_user)
    doc_id = d.draft()["id"]
    stages = [{"name": "Trưởng phòng xem xét", "roles": ["unit_head"], "same_unit": True, "due_working_days": 2}]
    r = d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": stages})
    assert r.json()["steps"][0]["due_date"] == add_working_days(vn_today(), 2).isoformat()
    assert d.tasks("truongphong")[0]["due_date"] == add_working_days(vn_today(), 2).isoformat()
