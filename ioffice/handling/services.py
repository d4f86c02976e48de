"""Workflow steps as explicit state machines, and the handling of incoming documents.

``STEP_TRANSITIONS`` is the one table of every per-step status change (review steps and review
rounds of outgoing drafts, assignments of incoming documents); :func:`step_transition` applies it
and raises Conflict (409) for anything it does not list. The document's own status moves only
through :func:`ioffice.lifecycle.transition`.

Incoming: the leader assigns a registered document (:func:`assign`): a lead unit or person (chủ
trì), co-handlers (phối hợp), people for information (nhận để biết), directions and a deadline;
the unit head passes a unit's assignment on to a specialist (:func:`pass_on`); the handler records
progress (:func:`record_progress`) and completes it (:func:`complete`), optionally linking the
outgoing reply. :func:`followup_rows` feeds the follow-up register and report.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Unit, User
from ioffice.audit import services as audit
from ioffice.documents import lifecycle
from ioffice.documents import services as documents
from ioffice.documents.models import Document
from ioffice.documents.rules import check_expected, doc_title, touch, version_ref
from ioffice.documents.steps import step_transition
from ioffice.handling.followup import outcome
from ioffice.handling.models import Assignment, AssignmentNote
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import get_scoped, utcnow
from ioffice.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ioffice.notify.services import notify

# --------------------------------------------------------------------------- incoming handling

ROLE_LABELS = {"lead": "Chủ trì", "co": "Phối hợp", "info": "Nhận để biết"}


@dataclass(frozen=True)
class Target:
    """A unit or a person (exactly one)."""

    unit_id: str | None = None
    user_id: str | None = None


def resolve_deadline(*, deadline: date | None, working_days: int | None, today: date | None = None) -> date | None:
    """An explicit date, or ``working_days`` working days after today (Vietnam, holidays skipped).
    Raises InvalidInput when both are given, the count is not positive or the date is past."""
    from ioffice.kernel.workcalendar import add_working_days, vn_today

    today = today or vn_today()
    if deadline is not None and working_days is not None:
        raise InvalidInput("Chỉ nhập hạn xử lý theo ngày hoặc theo số ngày làm việc, không nhập cả hai.")
    if working_days is not None:
        if working_days < 1 or working_days > 365:
            raise InvalidInput("Số ngày làm việc của hạn xử lý phải từ 1 đến 365.")
        return add_working_days(today, working_days)
    if deadline is not None and deadline < today:
        raise InvalidInput("Hạn xử lý không được trước ngày hôm nay.")
    return deadline


def _user_in_org(session: Session, org_id: str, user_id: str) -> User:
    u = session.get(User, user_id)
    if u is None or u.org_id != org_id or not u.is_active:
        raise NotFound("Không tìm thấy người nhận trong cơ quan.")
    return u


def _unit_in_org(session: Session, org_id: str, unit_id: str) -> Unit:
    u = get_scoped(session, Unit, unit_id, org_id, not_found="Không tìm thấy đơn vị trong cơ quan.")
    return u


def unit_heads(session: Session, *, org_id: str, unit_id: str) -> list[User]:
    rows = session.scalars(select(User).where(User.org_id == org_id, User.unit_id == unit_id,
                                              User.is_active.is_(True)))
    return [u for u in rows if u.has_role("unit_head")]


def _target_users(session: Session, org_id: str, t: Target) -> list[str]:
    if t.user_id:
        return [t.user_id]
    return [u.id for u in unit_heads(session, org_id=org_id, unit_id=t.unit_id or "")]


def _check_target(session: Session, org_id: str, t: Target) -> None:
    if bool(t.unit_id) == bool(t.user_id):
        raise InvalidInput("Mỗi nơi nhận xử lý phải là một đơn vị hoặc một người (không cả hai).")
    if t.user_id:
        _user_in_org(session, org_id, t.user_id)
    else:
        _unit_in_org(session, org_id, t.unit_id or "")


def open_assignments(session: Session, doc: Document) -> list[Assignment]:
    return list(session.scalars(select(Assignment).where(
        Assignment.document_id == doc.id, Assignment.status.in_(("assigned", "in_progress", "passed_on", "informed")))))


def assign(
    session: Session, *, caller: Caller, document_id: str, lead: Target, co_handlers: list[Target],
    info_user_ids: list[str], directions: str, deadline: date | None, expected_lock_version: int | None = None,
) -> list[Assignment]:
    """The leader assigns a registered (or re-assigns an assigned) incoming document.

    Raises PermissionDenied (not a leader), NotFound, InvalidInput, Conflict (wrong status/stale).
    """
    user = caller.person
    if not user.has_role("leader"):
        raise PermissionDenied("Chỉ lãnh đạo mới giao xử lý văn bản đến.")
    doc = documents.get_document(session, org_id=user.org_id, document_id=document_id)
    check_expected(doc, expected_lock_version)
    if doc.direction != "incoming":
        raise Conflict("Chỉ văn bản đến mới được giao xử lý.")
    _check_target(session, doc.org_id, lead)
    for t in co_handlers:
        _check_target(session, doc.org_id, t)
    for uid in info_user_ids:
        _user_in_org(session, doc.org_id, uid)
    before = doc.status
    lifecycle.transition(doc, "assign")
    touch(doc)
    for old in open_assignments(session, doc):  # re-assignment replaces the previous one
        step_transition(old, "cancel")
    ref = version_ref(session, doc)
    rows: list[Assignment] = []
    for role, t in [("lead", lead)] + [("co", t) for t in co_handlers]:
        rows.append(Assignment(org_id=doc.org_id, document_id=doc.id, role=role, assignee_user_id=t.user_id,
                               assignee_unit_id=t.unit_id, assigned_by=user.id, directions=directions,
                               deadline=deadline, status="assigned", sha256=ref["sha256"]))
    for uid in dict.fromkeys(info_user_ids):
        rows.append(Assignment(org_id=doc.org_id, document_id=doc.id, role="info", assignee_user_id=uid,
                               assigned_by=user.id, directions=directions, deadline=None, status="informed",
                               sha256=ref["sha256"]))
    session.add_all(rows)
    doc.due_date = deadline
    session.flush()
    audit.record(
        session,
        caller=caller,
        action="workflow.assign",
        object_type="document",
        object_id=doc.id,
        details={
            **ref,
            "from": before,
            "to": doc.status,
            "deadline": deadline.isoformat() if deadline else None,
            "assignments": [
                {"id": a.id, "role": a.role, "user": a.assignee_user_id, "unit": a.assignee_unit_id} for a in rows
            ],
        },
    )
    title = doc_title(doc)
    for a in rows:
        who = _target_users(session, doc.org_id, Target(a.assignee_unit_id, a.assignee_user_id))
        verb = "được giao chủ trì xử lý" if a.role == "lead" else (
            "được giao phối hợp xử lý" if a.role == "co" else "được gửi để biết")
        due = f" Hạn xử lý: {deadline.strftime('%d/%m/%Y')}." if deadline and a.role != "info" else ""
        notify(session, org_id=doc.org_id, user_ids=who, kind=f"assignment.{a.role}",
               title=f"Văn bản đến {verb}", body=f"{title}.{due}\nÝ kiến chỉ đạo: {directions or '(không có)'}",
               document_id=doc.id, exclude=[user.id])
    return rows


def get_assignment(session: Session, *, org_id: str, assignment_id: str) -> Assignment:
    a = get_scoped(session, Assignment, assignment_id, org_id, not_found="Không tìm thấy phân công xử lý.")
    return a


def _may_act_for_unit(user: User, a: Assignment) -> bool:
    return a.assignee_unit_id is not None and user.unit_id == a.assignee_unit_id and user.has_role("unit_head")


def _is_handler(user: User, a: Assignment) -> bool:
    if a.assignee_user_id is not None:
        return a.assignee_user_id == user.id
    return _may_act_for_unit(user, a)


def pass_on(
    session: Session, *, caller: Caller, assignment_id: str, to_user_id: str, directions: str,
    deadline: date | None, expected_lock_version: int | None = None,
) -> Assignment:
    """The unit head hands a unit's assignment to a specialist of the unit (deadline ≤ the leader's).

    Raises PermissionDenied, NotFound, InvalidInput, Conflict.
    """
    user = caller.person
    a = get_assignment(session, org_id=user.org_id, assignment_id=assignment_id)
    if not (_may_act_for_unit(user, a) or (a.assignee_user_id == user.id and user.has_role("unit_head"))):
        raise PermissionDenied("Chỉ trưởng đơn vị được giao mới chuyển xử lý cho chuyên viên.")
    if a.role == "info":
        raise Conflict("Văn bản nhận để biết không chuyển xử lý.")
    doc = documents.get_document(session, org_id=user.org_id, document_id=a.document_id)
    check_expected(doc, expected_lock_version)
    target = _user_in_org(session, doc.org_id, to_user_id)
    unit_id = a.assignee_unit_id or user.unit_id
    if target.unit_id != unit_id:
        raise InvalidInput("Người xử lý phải thuộc đơn vị được giao.")
    if target.id == user.id:
        raise InvalidInput("Hãy chọn chuyên viên khác để chuyển xử lý.")
    if deadline is None:
        deadline = a.deadline
    elif a.deadline is not None and deadline > a.deadline:
        raise InvalidInput(f"Hạn xử lý không được sau hạn của lãnh đạo ({a.deadline.strftime('%d/%m/%Y')}).")
    step_transition(a, "pass_on")
    before = doc.status
    if a.role == "lead":
        lifecycle.transition(doc, "pass_on")
    touch(doc)
    child = Assignment(org_id=doc.org_id, document_id=doc.id, parent_id=a.id, role=a.role,
                       assignee_user_id=target.id, assignee_unit_id=unit_id, assigned_by=user.id,
                       directions=directions, deadline=deadline, status="assigned", sha256=a.sha256)
    session.add(child)
    session.flush()
    ref = version_ref(session, doc)
    audit.record(session, caller=caller, action="workflow.pass_on", object_type="document", object_id=doc.id,
                 details={**ref, "from": before, "to": doc.status, "assignment": a.id, "child": child.id,
                          "handler": target.id, "deadline": deadline.isoformat() if deadline else None})
    due = f" Hạn xử lý: {deadline.strftime('%d/%m/%Y')}." if deadline else ""
    notify(session, org_id=doc.org_id, user_ids=[target.id], kind="assignment.handle",
           title="Bạn được giao xử lý văn bản đến",
           body=f"{doc_title(doc)}.{due}\nÝ kiến: {directions or '(không có)'}", document_id=doc.id)
    return child


def record_progress(session: Session, *, caller: Caller, assignment_id: str, note: str,
                    expected_lock_version: int | None = None) -> AssignmentNote:
    """The handler records a progress note. Raises PermissionDenied, NotFound, InvalidInput, Conflict."""
    user = caller.person
    a = get_assignment(session, org_id=user.org_id, assignment_id=assignment_id)
    if not _is_handler(user, a):
        raise PermissionDenied("Bạn không phải người xử lý văn bản này.")
    if not note.strip():
        raise InvalidInput("Nội dung tiến độ không được để trống.")
    doc = documents.get_document(session, org_id=user.org_id, document_id=a.document_id)
    check_expected(doc, expected_lock_version)
    step_transition(a, "progress")
    before = doc.status
    if a.role == "lead":
        lifecycle.transition(doc, "progress")
    touch(doc)
    n = AssignmentNote(org_id=doc.org_id, assignment_id=a.id, document_id=doc.id, author_id=user.id, note=note.strip())
    session.add(n)
    session.flush()
    audit.record(session, caller=caller, action="workflow.progress", object_type="document", object_id=doc.id,
                 details={**version_ref(session, doc), "from": before, "to": doc.status, "assignment": a.id,
                          "note": n.id})
    return n


def complete(session: Session, *, caller: Caller, assignment_id: str, note: str = "",
             reply_document_id: str | None = None, expected_lock_version: int | None = None) -> Assignment:
    """The handler completes the assignment, optionally linking the outgoing reply of the same
    agency. Completing the lead assignment completes the document.

    Raises PermissionDenied, NotFound, InvalidInput, Conflict.
    """
    user = caller.person
    from ioffice.kernel.workcalendar import vn_today

    a = get_assignment(session, org_id=user.org_id, assignment_id=assignment_id)
    if not _is_handler(user, a):
        raise PermissionDenied("Bạn không phải người xử lý văn bản này.")
    doc = documents.get_document(session, org_id=user.org_id, document_id=a.document_id)
    check_expected(doc, expected_lock_version)
    if reply_document_id is not None:
        reply = documents.get_document(session, org_id=user.org_id, document_id=reply_document_id)
        if reply.direction != "outgoing":
            raise InvalidInput("Văn bản trả lời phải là văn bản đi của cơ quan.")
    step_transition(a, "complete")
    before = doc.status
    if a.role == "lead":
        lifecycle.transition(doc, "complete")
    touch(doc)
    now = utcnow()
    a.completed_at, a.completed_by, a.completed_on = now, user.id, vn_today(now)
    a.result_note = note.strip()
    a.reply_document_id = reply_document_id
    if note.strip():
        session.add(AssignmentNote(org_id=doc.org_id, assignment_id=a.id, document_id=doc.id, author_id=user.id,
                                   note=note.strip()))
    session.flush()
    audit.record(session, caller=caller, action="workflow.complete", object_type="document", object_id=doc.id,
                 details={**version_ref(session, doc), "from": before, "to": doc.status, "assignment": a.id,
                          "reply_document": reply_document_id, "on_time": outcome(a) == "on_time"})
    chain: list[str] = []
    p = a
    while p.parent_id:
        p = session.get_one(Assignment, p.parent_id)
        if p.assigned_by:
            chain.append(p.assigned_by)
    if a.assigned_by:
        chain.append(a.assigned_by)
    notify(session, org_id=doc.org_id, user_ids=chain, kind="assignment.completed",
           title="Văn bản đến đã được xử lý xong", body=f"{doc_title(doc)}.\nNgười xử lý: {user.full_name}.",
           document_id=doc.id, exclude=[user.id])
    return a


def acknowledge(session: Session, *, caller: Caller, assignment_id: str) -> Assignment:
    """A person who received the document for information marks it read. Raises PermissionDenied,
    NotFound, Conflict (already read or not an information copy)."""
    user = caller.person
    a = get_assignment(session, org_id=user.org_id, assignment_id=assignment_id)
    if a.assignee_user_id != user.id:
        raise PermissionDenied("Văn bản này không gửi để bạn biết.")
    if a.role != "info":
        raise Conflict("Chỉ văn bản nhận để biết mới đánh dấu đã xem; văn bản được giao cần được xử lý.")
    doc = documents.get_document(session, org_id=user.org_id, document_id=a.document_id)
    step_transition(a, "read")
    a.completed_at, a.completed_by = utcnow(), user.id
    session.flush()
    audit.record(session, caller=caller, action="workflow.acknowledge", object_type="document", object_id=doc.id,
                 details={**version_ref(session, doc), "assignment": a.id})
    return a


def notes_of(session: Session, *, document_id: str) -> list[AssignmentNote]:
    return list(session.scalars(select(AssignmentNote).where(AssignmentNote.document_id == document_id)
                                .order_by(AssignmentNote.created_at)))


def assignments_of(session: Session, *, org_id: str, document_id: str) -> list[Assignment]:
    return list(session.scalars(select(Assignment).where(Assignment.org_id == org_id,
                                                         Assignment.document_id == document_id)
                                .order_by(Assignment.created_at, Assignment.id)))
