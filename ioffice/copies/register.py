"""The certification register (sổ chứng thực bản sao từ bản chính, SCT/BS) with fee totals per
month, and the report of certified copies and fees per period."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..kernel.errors import InvalidInput
from ..kernel.workcalendar import to_vn_date
from .models import KIND_CERTIFIED, CopyRecord
from .rules import money


def _row(rec: CopyRecord) -> dict[str, Any]:
    notes = [rec.notes] if rec.notes else []
    if rec.status == "revoked" and rec.revoked_at is not None:
        notes.append(f"Đã thu hồi ngày {to_vn_date(rec.revoked_at):%d/%m/%Y}: {rec.revocation_reason}")
    return {
        "number": f"{rec.number:02d}",
        "date": f"{rec.certified_date:%d/%m/%Y}",
        "requester": rec.requester_name or "",
        "document": f"{rec.title} ({rec.pages} trang) — Quyển số {rec.book}",
        "copies": str(rec.copies),
        "certifier": rec.certifier_name,
        "fee": money(rec.fee),
        "notes": "; ".join(notes),
        "copy_id": rec.id,
    }


def register_rows(session: Session, org_id: str, year: int) -> list[dict[str, Any]]:
    """Rows in number order; after each month, a subtotal row (``subtotal: true``, no copy_id)."""
    recs = session.scalars(select(CopyRecord).where(
        CopyRecord.org_id == org_id, CopyRecord.kind == KIND_CERTIFIED, CopyRecord.year == year
    ).order_by(CopyRecord.number)).all()
    rows: list[dict[str, Any]] = []
    month = None
    acc = [0, 0, 0]  # requests, copies, fee

    def close() -> None:
        if month is not None:
            rows.append({"number": "", "date": "", "requester": "", "certifier": "", "notes": "",
                         "document": f"Cộng tháng {month:02d}/{year}: {acc[0]} yêu cầu",
                         "copies": str(acc[1]), "fee": money(acc[2]), "subtotal": True, "month": month,
                         "fee_total": acc[2]})

    for rec in recs:
        if rec.certified_date.month != month:
            close()
            month, acc = rec.certified_date.month, [0, 0, 0]
        rows.append(_row(rec))
        acc[0] += 1
        acc[1] += rec.copies
        acc[2] += rec.fee
    close()
    return rows


@dataclass
class PeriodCount:
    period: str  # YYYY-MM
    requests: int = 0
    copies: int = 0
    pages: int = 0
    fee: int = 0
    revoked: int = 0


def copies_report(session: Session, *, org_id: str, date_from: date, date_to: date) -> list[PeriodCount]:
    """Certified copies and fees per month of the period (inclusive)."""
    if date_to < date_from:
        raise InvalidInput("Ngày kết thúc phải sau ngày bắt đầu.")
    if (date_to - date_from).days > 3660:
        raise InvalidInput("Khoảng thời gian tối đa 10 năm.")
    recs = session.scalars(select(CopyRecord).where(
        CopyRecord.org_id == org_id, CopyRecord.kind == KIND_CERTIFIED,
        CopyRecord.certified_date >= date_from, CopyRecord.certified_date <= date_to,
    ).order_by(CopyRecord.certified_date)).all()
    out: OrderedDict[str, PeriodCount] = OrderedDict()
    for rec in recs:
        key = f"{rec.certified_date:%Y-%m}"
        c = out.setdefault(key, PeriodCount(key))
        c.requests += 1
        c.copies += rec.copies
        c.pages += rec.pages
        c.fee += rec.fee
        c.revoked += rec.status == "revoked"
    return list(out.values())
