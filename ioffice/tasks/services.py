"""My tasks: what waits for a user, with due dates, overdue first, then by due date.

Kinds: ``review`` (a pending review step of theirs or of a leader who delegated to them),
``handle`` (an incoming assignment to them), ``pass_on`` (an assignment to their unit, for the unit
head), ``assign`` (registered incoming documents, for leaders), ``issue`` (approved or signed
outgoing documents, for clerks), ``revise`` (their returned drafts), ``read`` (incoming documents
sent to them for information, not yet marked read).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import User
from ioffice.delegation.services import principals_of
from ioffice.documents.models import Document
from ioffice.handling.models import Assignment
from ioffice.handling.services import ROLE_LABELS
from ioffice.registers.signed import personal_signature
from ioffice.review.models import ReviewRound, ReviewStep

KIND_LABELS = {
    "review": "Xem xét dự thảo",
    "handle": "Xử lý văn bản đến",
    "pass_on": "Phân công xử lý trong đơn vị",
    "assign": "Cho ý kiến chỉ đạo, giao xử lý",
    "issue": "Phát hành văn bản",
    "revise": "Sửa dự thảo bị trả lại",
    "read": "Văn bản gửi để biết",
}


@dataclass
class Task:
    kind: str
    label: str
    document_id: str
    direction: str
    summary: str
    number_symbol: str | None
    status: str
    due_date: date | None
    overdue: bool
    since: datetime
    step_id: str | None = None
    assignment_id: str | None = None
    on_behalf_of: str | None = None  # the delegating leader's user id for delegated reviews
    details: dict[str, Any] = field(default_factory=dict)


def _task(kind: str, doc: Document, *, due: date | None, since: datetime, today: date, **kw: Any) -> Task:
    return Task(kind=kind, label=KIND_LABELS[kind], document_id=doc.id, direction=doc.direction, summary=doc.summary,
                number_symbol=doc.number_symbol, status=doc.status, due_date=due,
                overdue=due is not None and due < today, since=since, **kw)


def _next_working_day(d: date) -> date:
    from ioffice.kernel.workcalendar import add_working_days

    return add_working_days(d, 1)


def my_tasks(session: Session, *, user: User, today: date | None = None) -> list[Task]:
    """Everything waiting for ``user`` in their organisation, overdue first, then by due date
    (undated last), then oldest first."""
    from ioffice.kernel.workcalendar import to_vn_date, vn_today

    today = today or vn_today()
    org = user.org_id
    out: list[Task] = []
    docs: dict[str, Document] = {}

    def doc_of(doc_id: str) -> Document:
        if doc_id not in docs:
            docs[doc_id] = session.get_one(Document, doc_id)
        return docs[doc_id]

    # reviews: own pending steps, and pending steps of leaders who delegated to the user
    principals = {d.delegator_id: d for d in principals_of(session, delegate_id=user.id, on=today)}
    reviewers = [user.id, *principals]
    q = (select(ReviewStep).join(ReviewRound, ReviewRound.id == ReviewStep.round_id)
         .where(ReviewStep.org_id == org, ReviewStep.status == "pending", ReviewStep.reviewer_id.in_(reviewers),
                ReviewRound.status == "active"))
    seen_steps: set[tuple[str, str]] = set()
    for st in session.scalars(q):
        key = (st.round_id, st.reviewer_id)
        if key in seen_steps:
            continue
        seen_steps.add(key)
        doc = doc_of(st.document_id)
        out.append(_task("review", doc, due=st.due_date, since=st.activated_at or doc.updated_at, today=today,
                         step_id=st.id, on_behalf_of=st.reviewer_id if st.reviewer_id != user.id else None,
                         details={"stage": st.stage_name, "mode": st.mode}))

    # incoming assignments to the user, or to the user's unit (unit head)
    conds = Assignment.assignee_user_id == user.id
    if user.unit_id and user.has_role("unit_head"):
        conds = conds | ((Assignment.assignee_unit_id == user.unit_id) & Assignment.assignee_user_id.is_(None))
    q2 = select(Assignment).where(Assignment.org_id == org, Assignment.status.in_(("assigned", "in_progress")), conds)
    for a in session.scalars(q2):
        doc = doc_of(a.document_id)
        kind = "handle" if a.assignee_user_id == user.id else "pass_on"
        out.append(_task(kind, doc, due=a.deadline, since=a.created_at, today=today, assignment_id=a.id,
                         details={"role": a.role, "role_label": ROLE_LABELS[a.role], "directions": a.directions}))

    for a in session.scalars(select(Assignment).where(Assignment.org_id == org, Assignment.assignee_user_id == user.id,
                                                      Assignment.status == "informed")):
        out.append(_task("read", doc_of(a.document_id), due=None, since=a.created_at, today=today,
                         assignment_id=a.id, details={"role": a.role, "role_label": ROLE_LABELS[a.role],
                                                      "directions": a.directions}))

    if user.has_role("leader"):
        for doc in session.scalars(select(Document).where(Document.org_id == org, Document.direction == "incoming",
                                                          Document.status == "registered")):
            # Decree 30: presented to the leader the same or the next working day
            arrived = (doc.extra or {}).get("arrival_date")
            arrival = date.fromisoformat(arrived) if isinstance(arrived, str) else to_vn_date(doc.updated_at)
            due: date | None = doc.due_date or _next_working_day(arrival)
            out.append(_task("assign", doc, due=due, since=doc.updated_at, today=today))

    if user.has_role("clerk"):
        for doc in session.scalars(select(Document).where(Document.org_id == org, Document.direction == "outgoing",
                                                          Document.status.in_(("approved", "signed")))):
            if personal_signature(session, doc) is None:
                continue  # the leader has not signed yet: nothing for the clerk to issue
            due = doc.due_date
            if doc.urgency is None and due is None:
                due = _next_working_day(to_vn_date(doc.updated_at))
            elif doc.urgency is not None:
                due = to_vn_date(doc.updated_at)  # urgent: at once
            out.append(_task("issue", doc, due=due, since=doc.updated_at, today=today))

    for doc in session.scalars(select(Document).where(Document.org_id == org, Document.created_by == user.id,
                                                      Document.direction == "outgoing",
                                                      Document.status == "returned")):
        out.append(_task("revise", doc, due=doc.due_date, since=doc.updated_at, today=today))

    out.sort(key=lambda t: (not t.overdue, t.due_date is None, t.due_date or date.max, t.since))
    return out
