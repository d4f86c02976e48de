"""The printable Decree 30 registers (incoming, outgoing, certified copies)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation, Unit, User
from ioffice.documents.models import Document
from ioffice.documents.services import search_key
from ioffice.kernel.errors import InvalidInput, NotFound
from ioffice.registers import numbering
from ioffice.registers.models import IncomingEntry, OutgoingEntry
from ioffice.registers.services import SECRECY_LABELS, date_vn

# --------------------------------------------------------------------------------------------
# registers


@dataclass
class Register:
    """A printable register: Vietnamese column labels and rows of display strings."""

    kind: str
    year: int
    title: str
    organisation: str
    columns: list[tuple[str, str]]  # (key, Vietnamese label)
    rows: list[dict[str, Any]]  # each: column key -> display string, plus "document_id"

    def cells(self, row: dict[str, Any]) -> list[str]:
        return [str(row.get(k, "") or "") for k, _ in self.columns]


INCOMING_COLUMNS = [
    ("arrival_date", "Ngày đến"),
    ("arrival_number", "Số đến"),
    ("author", "Tác giả"),
    ("number_symbol", "Số, ký hiệu"),
    ("document_date", "Ngày tháng"),
    ("type_summary", "Tên loại và trích yếu nội dung"),
    ("recipient", "Đơn vị hoặc người nhận"),
    ("signature", "Ký nhận"),
    ("notes", "Ghi chú"),
]
OUTGOING_COLUMNS = [
    ("number_symbol", "Số, ký hiệu văn bản"),
    ("document_date", "Ngày tháng văn bản"),
    ("type_summary", "Tên loại và trích yếu nội dung"),
    ("signer", "Người ký"),
    ("recipients", "Nơi nhận văn bản"),
    ("file_copy", "Đơn vị, người nhận bản lưu"),
    ("copies", "Số lượng bản"),
    ("notes", "Ghi chú"),
]
COPIES_COLUMNS = [
    ("number", "Số chứng thực"),
    ("date", "Ngày, tháng, năm chứng thực"),
    ("requester", "Họ tên người yêu cầu chứng thực"),
    ("document", "Tên bản chính giấy tờ, văn bản"),
    ("copies", "Số bản sao"),
    ("certifier", "Người ký chứng thực"),
    ("fee", "Lệ phí/Phí"),
    ("notes", "Ghi chú"),
]
FOLLOW_UP_COLUMNS = [
    ("arrival_number", "Số đến"),
    ("arrival_date", "Ngày đến"),
    ("document", "Số, ký hiệu và trích yếu văn bản"),
    ("handler", "Người, đơn vị xử lý"),
    ("deadline", "Hạn giải quyết"),
    ("progress", "Tiến độ giải quyết"),
    ("reply_number", "Số, ký hiệu văn bản trả lời"),
    ("notes", "Ghi chú"),
]

# Other domain modules may provide rows for a register kind (e.g. certified copies):
# kind -> callable(session, org_id, year) -> list of row dicts keyed like COPIES_COLUMNS.
REGISTER_PROVIDERS: dict[str, Callable[[Session, str, int], list[dict[str, Any]]]] = {}


def _type_summary(doc: Document) -> str:
    name = doc.doc_type_name or ""
    return f"{name}: {doc.summary}" if name else doc.summary


def _matches(row: dict[str, Any], needle: str) -> bool:
    return needle in search_key(" ".join(str(v) for k, v in row.items() if k != "document_id" and v))


def _filter(rows: list[dict[str, Any]], q: str | None) -> list[dict[str, Any]]:
    if not q or not q.strip():
        return rows
    needle = " ".join(search_key(q).split())
    return [r for r in rows if _matches(r, needle)]


def _org(session: Session, org_id: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("Không tìm thấy cơ quan.")
    return org


def _check_year(year: int) -> None:
    if not 1900 <= year <= 2999:
        raise InvalidInput("Năm không hợp lệ.")


def _notes(doc: Document, entry_notes: str | None) -> str:
    parts = []
    if doc.secrecy:
        parts.append(SECRECY_LABELS.get(doc.secrecy, doc.secrecy))
    if entry_notes:
        parts.append(entry_notes)
    return "; ".join(parts)


def incoming_register(session: Session, *, org_id: str, year: int, q: str | None = None) -> Register:
    """The incoming register of ``year`` in arrival order (secret series after the shared one)."""
    _check_year(year)
    org = _org(session, org_id)
    rows = []
    for doc, entry in session.execute(
        select(Document, IncomingEntry).join(IncomingEntry, IncomingEntry.document_id == Document.id)
        .where(IncomingEntry.org_id == org_id, IncomingEntry.year == year)
        .order_by(IncomingEntry.series, IncomingEntry.arrival_number)
    ).all():
        notes = _notes(doc, entry.notes)
        if doc.status == "returned_to_sender" and (doc.extra or {}).get("return_reason"):
            notes = "; ".join(filter(None, [notes, f"Trả lại: {doc.extra['return_reason']}"]))
        rows.append({
            "document_id": doc.id,
            "arrival_date": date_vn(entry.arrival_date),
            "arrival_number": numbering.format_number(entry.arrival_number),
            "author": doc.issuing_body or "",
            "number_symbol": doc.number_symbol or "",
            "document_date": date_vn(doc.issued_date),
            "type_summary": _type_summary(doc),
            "recipient": entry.recipient or _assignee_label(session, doc) or "",
            "signature": "",
            "notes": notes,
        })
    return Register("incoming", year, f"SỔ ĐĂNG KÝ VĂN BẢN ĐẾN — Năm {year}", org.name, INCOMING_COLUMNS,
                    _filter(rows, q))


def outgoing_register(session: Session, *, org_id: str, year: int, q: str | None = None) -> Register:
    """The outgoing register of ``year`` in number order, per series."""
    _check_year(year)
    org = _org(session, org_id)
    rows = []
    for doc, entry in session.execute(
        select(Document, OutgoingEntry).join(OutgoingEntry, OutgoingEntry.document_id == Document.id)
        .where(OutgoingEntry.org_id == org_id, OutgoingEntry.year == year)
        .order_by(OutgoingEntry.series, OutgoingEntry.number)
    ).all():
        signer = " ".join(filter(None, [doc.signer_competence, doc.signer_position, doc.signer_name]))
        rows.append({
            "document_id": doc.id,
            "number_symbol": entry.symbol,
            "document_date": date_vn(entry.issued_date),
            "type_summary": _type_summary(doc),
            "signer": signer,
            "recipients": "; ".join(doc.recipients or []),
            "file_copy": entry.file_copy or "",
            "copies": "" if entry.copies is None else str(entry.copies),
            "notes": _notes(doc, entry.notes),
        })
    return Register("outgoing", year, f"SỔ ĐĂNG KÝ VĂN BẢN ĐI — Năm {year}", org.name, OUTGOING_COLUMNS,
                    _filter(rows, q))


def copies_register(session: Session, *, org_id: str, year: int, q: str | None = None) -> Register:
    """The certified-copies register; empty until a copies module provides rows."""
    _check_year(year)
    org = _org(session, org_id)
    provider = REGISTER_PROVIDERS.get("copies")
    rows = provider(session, org_id, year) if provider else []
    return Register("copies", year, f"SỔ CHỨNG THỰC BẢN SAO TỪ BẢN CHÍNH — Năm {year}", org.name, COPIES_COLUMNS,
                    _filter(rows, q))


def _assignee_label(session: Session, doc: Document) -> str:
    """Who handles ``doc`` (lead unit or person), for the incoming register's receiver column."""
    from ioffice import handling

    parts = []
    for a in handling.assignments_of(session, org_id=doc.org_id, document_id=doc.id):
        if a.role != "lead" or a.parent_id is not None or a.status == "cancelled":
            continue
        if a.assignee_unit_id:
            unit = session.get(Unit, a.assignee_unit_id)
            parts.append(unit.name if unit else "")
        elif a.assignee_user_id:
            user = session.get(User, a.assignee_user_id)
            parts.append(user.full_name if user else "")
    return ", ".join(p for p in parts if p)
