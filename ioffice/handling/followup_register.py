"""The follow-up register (sổ theo dõi giải quyết) and its report."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.documents import lifecycle as states
from ioffice.documents.models import Document
from ioffice.kernel.errors import InvalidInput
from ioffice.kernel.workcalendar import vn_today
from ioffice.registers import numbering
from ioffice.registers.books import FOLLOW_UP_COLUMNS, Register, _check_year, _filter, _org, _type_summary
from ioffice.registers.models import IncomingEntry
from ioffice.registers.services import date_vn


# --------------------------------------------------------------------------------------------
# follow-up (sổ theo dõi giải quyết) — reads the assignments that ioffice.workflow stores


STATE_LABELS = {"on_time": "Đúng hạn", "late": "Trễ hạn", "overdue": "Quá hạn", "pending": "Đang xử lý"}
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
    from ioffice import handling as workflow  # late import: the workflow module builds on documents, not on registers

    return workflow.followup_rows(session, org_id=org_id, start=start, end=end, today=today)


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
                                      lead.progress or states.STATUS_LABELS.get(doc.status, doc.status),
                                      lead.reply_number_symbol or "", lead.outcome))
        else:
            items.append(FollowUpItem(doc, entry, "", doc.due_date, states.STATUS_LABELS.get(doc.status, doc.status),
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
            "notes": STATE_LABELS[it.state],
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
    units: dict[str, FollowUpCount] = {}
    handlers: dict[tuple[str, str], FollowUpCount] = {}

    def count(unit: str, handler: str, state: str) -> None:
        u = units.setdefault(unit, FollowUpCount(unit=unit, handler=""))
        h = handlers.setdefault((unit, handler), FollowUpCount(unit=unit, handler=handler))
        for c in (u, h):
            setattr(c, state, getattr(c, state) + 1)

    for r in _handled_rows(session, org_id=org_id, start=date_from, end=date_to, today=today):
        count(r.unit_name or "", r.handler_name or "", r.outcome)
    from ioffice import handling as workflow

    assigned = select(workflow.Assignment.document_id).where(workflow.Assignment.org_id == org_id)
    for doc, _entry in session.execute(
        select(Document, IncomingEntry).join(IncomingEntry, IncomingEntry.document_id == Document.id)
        .where(IncomingEntry.org_id == org_id, IncomingEntry.arrival_date >= date_from,
               IncomingEntry.arrival_date <= date_to, Document.status == "registered",
               Document.id.not_in(assigned))
    ).all():
        count(UNASSIGNED, "", _state_without_assignment(doc, today))
    return (sorted(units.values(), key=lambda c: c.unit),
            sorted(handlers.values(), key=lambda c: (c.unit, c.handler)))
