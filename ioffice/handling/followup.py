"""Handling outcomes (on time, late, overdue, pending) per assignment."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Unit, User
from ioffice.documents.models import Document
from ioffice.handling.models import Assignment, AssignmentNote


# --------------------------------------------------------------------------- follow-up

def outcome(a: Assignment, today: date | None = None) -> str:
    """``on_time`` / ``late`` for completed work, ``overdue`` / ``pending`` for open work."""
    if a.status == "completed":
        if a.deadline is None or (a.completed_on is not None and a.completed_on <= a.deadline):
            return "on_time"
        return "late"
    if today is None:
        from ioffice.kernel.workcalendar import vn_today

        today = vn_today()
    if a.deadline is not None and a.deadline < today:
        return "overdue"
    return "pending"


OUTCOME_LABELS = {"on_time": "Đúng hạn", "late": "Trễ hạn", "overdue": "Quá hạn", "pending": "Đang xử lý"}


@dataclass(frozen=True)
class FollowupRow:
    """One handled (leaf) assignment of an incoming document, for the follow-up register."""

    assignment_id: str
    document_id: str
    number_symbol: str | None
    issuing_body: str | None
    summary: str
    role: str  # lead | co
    unit_id: str | None
    unit_name: str | None
    handler_id: str | None
    handler_name: str | None
    assigned_at: datetime
    deadline: date | None
    directions: str
    progress: str  # the latest progress note or the completion note
    status: str  # assignment status
    completed_at: datetime | None
    reply_document_id: str | None
    reply_number_symbol: str | None
    outcome: str  # on_time | late | overdue | pending
    outcome_label: str
    arrival_number: int | None = None  # số đến, once registered


def followup_rows(session: Session, *, org_id: str, year: int | None = None, start: date | None = None,
                  end: date | None = None, today: date | None = None) -> list[FollowupRow]:
    """Handled assignments (lead and co-handling, not passed on, not cancelled) of ``org_id`` whose
    assignment date (Vietnam) is in ``year`` and/or [start, end], oldest first. ``today`` (default:
    today in Vietnam) decides what is overdue."""
    from datetime import time as dtime, timedelta

    from ioffice.kernel.workcalendar import VN_TZ, vn_today

    today = today or vn_today()
    if year is not None:
        start = max(start, date(year, 1, 1)) if start else date(year, 1, 1)
        end = min(end, date(year, 12, 31)) if end else date(year, 12, 31)
    q = select(Assignment).where(Assignment.org_id == org_id, Assignment.role.in_(("lead", "co")),
                                 Assignment.status.in_(("assigned", "in_progress", "completed")))
    if start is not None:
        q = q.where(Assignment.created_at >= datetime.combine(start, dtime.min, tzinfo=VN_TZ))
    if end is not None:
        q = q.where(Assignment.created_at < datetime.combine(end + timedelta(days=1), dtime.min, tzinfo=VN_TZ))
    assignments = list(session.scalars(q.order_by(Assignment.created_at, Assignment.id)))
    if not assignments:
        return []
    doc_ids = {a.document_id for a in assignments} | {a.reply_document_id for a in assignments if a.reply_document_id}
    docs = {d.id: d for d in session.scalars(select(Document).where(Document.id.in_(doc_ids)))}
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.org_id == org_id))}
    user_ids = {a.assignee_user_id for a in assignments if a.assignee_user_id}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    latest: dict[str, str] = {}
    for n in session.scalars(select(AssignmentNote).where(AssignmentNote.assignment_id.in_([a.id for a in assignments]))
                             .order_by(AssignmentNote.created_at, AssignmentNote.id)):
        latest[n.assignment_id] = n.note
    rows = []
    for a in assignments:
        doc = docs[a.document_id]
        handler = users.get(a.assignee_user_id) if a.assignee_user_id else None
        unit_id = a.assignee_unit_id or (handler.unit_id if handler else None)
        reply = docs.get(a.reply_document_id) if a.reply_document_id else None
        oc = outcome(a, today)
        rows.append(FollowupRow(
            assignment_id=a.id, document_id=a.document_id, number_symbol=doc.number_symbol,
            issuing_body=doc.issuing_body, summary=doc.summary, role=a.role, unit_id=unit_id,
            unit_name=units[unit_id].name if unit_id in units else None, handler_id=handler.id if handler else None,
            handler_name=handler.full_name if handler else None, assigned_at=a.created_at, deadline=a.deadline,
            directions=a.directions, progress=latest.get(a.id, ""), status=a.status,
            completed_at=a.completed_at, reply_document_id=a.reply_document_id,
            reply_number_symbol=reply.number_symbol if reply else None, outcome=oc, outcome_label=OUTCOME_LABELS[oc],
            arrival_number=(doc.extra or {}).get("arrival_number"),
        ))
    return rows


def followup_summary(rows: list[FollowupRow], *, by: str = "unit") -> list[dict[str, Any]]:
    """Counts of on_time / late / overdue / pending per ``unit`` or per ``handler``."""
    out: dict[tuple[str | None, str | None], dict[str, Any]] = {}
    for r in rows:
        key = (r.unit_id, r.unit_name) if by == "unit" else (r.handler_id, r.handler_name)
        acc = out.setdefault(key, {"id": key[0], "name": key[1], "on_time": 0, "late": 0, "overdue": 0,
                                   "pending": 0, "total": 0})
        acc[r.outcome] += 1
        acc["total"] += 1
    return sorted(out.values(), key=lambda x: (x["name"] or ""))
