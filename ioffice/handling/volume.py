"""Document volume report: incoming documents received (registered) and outgoing documents
issued in a period, counted per unit and per document type.

The unit of an incoming document is the unit of its lead handling (the unit assigned, or the lead
handler's unit), else «Chưa giao xử lý»; the unit of an outgoing document is its drafting unit
(else the drafter's unit), else «Không xác định đơn vị».
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Unit, User
from ioffice.documents.models import Document
from ioffice.handling.followup import UNASSIGNED
from ioffice.handling.models import Assignment
from ioffice.kernel.errors import InvalidInput
from ioffice.registers.models import IncomingEntry, OutgoingEntry

NO_UNIT = "Không xác định đơn vị"
MAX_DAYS = 3660


@dataclass(frozen=True)
class VolumeCount:
    unit: str
    doc_type: str
    received: int = 0
    issued: int = 0


def _check_period(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise InvalidInput("Khoảng thời gian không hợp lệ (từ ngày sau đến ngày).")
    if (date_to - date_from).days > MAX_DAYS:
        raise InvalidInput("Khoảng thời gian tối đa 10 năm.")


def volume_report(session: Session, *, org_id: str, date_from: date, date_to: date) -> list[VolumeCount]:
    """Received (by arrival date) and issued (by issue date) in [date_from, date_to], per unit and
    document type, sorted by unit then type."""
    _check_period(date_from, date_to)
    units = {u.id: u.name for u in session.scalars(select(Unit).where(Unit.org_id == org_id))}
    user_units = {u.id: u.unit_id for u in session.scalars(select(User).where(User.org_id == org_id))}
    counts: dict[tuple[str, str], list[int]] = {}

    incoming = list(session.execute(
        select(Document.id, Document.doc_type_name).join(IncomingEntry, IncomingEntry.document_id == Document.id)
        .where(IncomingEntry.org_id == org_id, IncomingEntry.arrival_date >= date_from,
               IncomingEntry.arrival_date <= date_to)).all())
    lead_unit: dict[str, str | None] = {}
    if incoming:
        for a in session.scalars(select(Assignment).where(
                Assignment.org_id == org_id, Assignment.role == "lead", Assignment.parent_id.is_(None),
                Assignment.status != "cancelled", Assignment.document_id.in_([d for d, _ in incoming]))
                .order_by(Assignment.created_at, Assignment.id)):
            lead_unit[a.document_id] = a.assignee_unit_id or user_units.get(a.assignee_user_id or "")
    for doc_id, type_name in incoming:
        if doc_id in lead_unit:
            unit = units.get(lead_unit[doc_id] or "", NO_UNIT)
        else:
            unit = UNASSIGNED
        counts.setdefault((unit, type_name or "Công văn"), [0, 0])[0] += 1

    for type_name, drafting_unit, creator in session.execute(
        select(Document.doc_type_name, Document.drafting_unit_id, Document.created_by)
        .join(OutgoingEntry, OutgoingEntry.document_id == Document.id)
        .where(OutgoingEntry.org_id == org_id, OutgoingEntry.issued_date >= date_from,
               OutgoingEntry.issued_date <= date_to)).all():
        unit = units.get(drafting_unit or user_units.get(creator or "") or "", NO_UNIT)
        counts.setdefault((unit, type_name or "Công văn"), [0, 0])[1] += 1
    return [VolumeCount(unit=u, doc_type=t, received=c[0], issued=c[1]) for (u, t), c in sorted(counts.items())]
