"""Follow-up of incoming documents (theo dõi giải quyết): one implementation behind the
follow-up register, the follow-up report and the assignment details.

- :func:`followup_rows`: every handled assignment with its outcome (on time, late, overdue, pending);
- :func:`follow_up_items` / :func:`follow_up_register`: registered documents with their lead handling;
- :func:`tally` counts outcomes; :func:`followup_summary` (per unit or handler id) and
  :func:`follow_up_report` (per unit and handler name, plus unassigned documents) both use it.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Unit, User
from ioffice.documents import lifecycle
from ioffice.documents.models import Document
from ioffice.handling.models import Assignment, AssignmentNote
from ioffice.kernel.errors import InvalidInput
from ioffice.kernel.workcalendar import vn_today
from ioffice.registers import numbering
from ioffice.registers.books import FOLLOW_UP_COLUMNS, Register, _check_year, _filter, _org, _type_summary
from ioffice.registers.models import IncomingEntry
from ioffice.registers.services import date_vn

OUTCOMES = ("on_time", "late", "overdue", "pending")


# --------------------------------------------------------------------------- assignments

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
    from datetime import time as dtime
    from datetime import timedelta

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


def tally(pairs: Iterable[tuple[Hashable, str]]) -> dict[Any, dict[str, int]]:
    """Count outcomes per key: ``{key: {"on_time": n, "late": n, "overdue": n, "pending": n, "total": n}}``
    (keys in first-seen order). The one counting rule behind every follow-up summary."""
    out: dict[Any, dict[str, int]] = {}
    for key, oc in pairs:
        acc = out.setdefault(key, {**dict.fromkeys(OUTCOMES, 0), "total": 0})
        acc[oc] += 1
        acc["total"] += 1
    return out


def followup_summary(rows: list[FollowupRow], *, by: str = "unit") -> list[dict[str, Any]]:
    """Counts of on_time / late / overdue / pending per ``unit`` or per ``handler``."""
    keyed = tally((((r.unit_id, r.unit_name) if by == "unit" else (r.handler_id, r.handler_name)), r.outcome)
                  for r in rows)
    return sorted(({"id": k[0], "name": k[1], **c} for k, c in keyed.items()), key=lambda x: (x["name"] or ""))


# --------------------------------------------------------------------------- the register


UNASSIGNED = "Chưa giao xử lý"


@dataclass
class FollowUpItem:
    """One registered incoming document with its lead handling (if assigned)."""

    document: Document
    entry: IncomingEntry
    handler: str  # lead handler (person, else unit), co-handlers after "phối hợp:"
    deadline: date | None
    progress: str
    reply_number: str
    state: str  # on_time | late | overdue | pending


def _handled_rows(session: Session, *, org_id: str, start: date | None = None, end: date | None = None,
                  today: date | None = None) -> list[Any]:
    return followup_rows(session, org_id=org_id, start=start, end=end, today=today)


def _state_without_assignment(doc: Document, today: date) -> str:
    if doc.status == "completed":
        return "on_time"
    if doc.due_date is not None and doc.due_date < today:
        return "overdue"
    return "pending"


def _who(row: Any) -> str:
    if row.handler_name and row.unit_name:
        return f"{row.handler_name} ({row.unit_name})"
    return row.handler_name or row.unit_name or ""


def follow_up_items(session: Session, *, org_id: str, year: int, today: date | None = None) -> list[FollowUpItem]:
    """Registered incoming documents of ``year`` in arrival order, with lead handler, deadline,
    progress, reply number and state (from the workflow's assignments when there are any)."""
    today = today or vn_today()
    by_doc: dict[str, list[Any]] = {}
    for r in _handled_rows(session, org_id=org_id, today=today):
        by_doc.setdefault(r.document_id, []).append(r)
    items = []
    for doc, entry in session.execute(
        select(Document, IncomingEntry).join(IncomingEntry, IncomingEntry.document_id == Document.id)
        .where(IncomingEntry.org_id == org_id, IncomingEntry.year == year)
        .order_by(IncomingEntry.series, IncomingEntry.arrival_number)
    ).all():
        rows = by_doc.get(doc.id, [])
        leads = [r for r in rows if r.role == "lead"]
        co = [r for r in rows if r.role == "co"]
        if leads:
            lead = leads[-1]
            handler = ", ".join(filter(None, [_who(r) for r in leads]))
            if co:
                handler += "; phối hợp: " + ", ".join(filter(None, [_who(r) for r in co]))
            items.append(FollowUpItem(doc, entry, handler, lead.deadline or doc.due_date,
                                      lead.progress or lifecycle.STATUS_LABELS.get(doc.status, doc.status),
                                      lead.reply_number_symbol or "", lead.outcome))
        else:
            items.append(FollowUpItem(doc, entry, "", doc.due_date, lifecycle.STATUS_LABELS.get(doc.status, doc.status),
                                      "", _state_without_assignment(doc, today)))
    return items


def follow_up_register(session: Session, *, org_id: str, year: int, q: str | None = None,
                       today: date | None = None) -> Register:
    """The follow-up register of ``year``: arrival number, document, handler, deadline, progress, reply."""
    _check_year(year)
    org = _org(session, org_id)
    rows = []
    for it in follow_up_items(session, org_id=org_id, year=year, today=today):
        doc = it.document
        rows.append({
            "document_id": doc.id,
            "arrival_number": numbering.format_number(it.entry.arrival_number),
            "arrival_date": date_vn(it.entry.arrival_date),
            "document": " — ".join(filter(None, [doc.number_symbol, _type_summary(doc)])),
            "handler": it.handler or UNASSIGNED,
            "deadline": date_vn(it.deadline),
            "progress": it.progress,
            "reply_number": it.reply_number,
            "notes": OUTCOME_LABELS[it.state],
        })
    return Register("follow-up", year, f"SỔ THEO DÕI GIẢI QUYẾT VĂN BẢN ĐẾN — Năm {year}", org.name,
                    FOLLOW_UP_COLUMNS, _filter(rows, q))


@dataclass
class FollowUpCount:
    unit: str
    handler: str
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.overdue + self.pending


def follow_up_report(session: Session, *, org_id: str, date_from: date, date_to: date,
                     today: date | None = None) -> tuple[list[FollowUpCount], list[FollowUpCount]]:
    """On time / late / overdue / pending counts (per unit, per unit and handler) of the handling
    assigned in [date_from, date_to] (lead and co-handlers, as the workflow records them), plus the
    documents registered in that period and not yet assigned, under «Chưa giao xử lý».
    """
    if date_to < date_from:
        raise InvalidInput("Khoảng thời gian không hợp lệ (từ ngày sau đến ngày).")
    today = today or vn_today()
    outcomes = [(r.unit_name or "", r.handler_name or "", r.outcome)
                for r in _handled_rows(session, org_id=org_id, start=date_from, end=date_to, today=today)]
    assigned = select(Assignment.document_id).where(Assignment.org_id == org_id)
    for doc, _entry in session.execute(
        select(Document, IncomingEntry).join(IncomingEntry, IncomingEntry.document_id == Document.id)
        .where(IncomingEntry.org_id == org_id, IncomingEntry.arrival_date >= date_from,
               IncomingEntry.arrival_date <= date_to, Document.status == "registered",
               Document.id.not_in(assigned))
    ).all():
        outcomes.append((UNASSIGNED, "", _state_without_assignment(doc, today)))

    def counts(unit: str, handler: str, c: dict[str, int]) -> FollowUpCount:
        return FollowUpCount(unit=unit, handler=handler, **{k: c[k] for k in OUTCOMES})

    units = tally((u, oc) for u, _h, oc in outcomes)
    handlers = tally(((u, h), oc) for u, h, oc in outcomes)
    return (sorted((counts(u, "", c) for u, c in units.items()), key=lambda c: c.unit),
            sorted((counts(u, h, c) for (u, h), c in handlers.items()), key=lambda c: (c.unit, c.handler)))
