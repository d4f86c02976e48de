"""Incoming registration, outgoing issue and the Decree 30 registers.

- :func:`register_incoming` gives a received document the next arrival number (số đến) of the
  year, after a duplicate check (same issuer + number/symbol + date already registered).
- :func:`return_incoming` sends a misaddressed or failing document back with a reason.
- :func:`issue_outgoing` numbers an approved/signed document from the right series, builds its
  symbol (``05/QĐ-UBND``, ``123/UBND-VP``), finalises (optionally seals) its version, writes the
  outgoing register row and delivers it to recipient agencies of this installation.
- :func:`incoming_register`, :func:`outgoing_register`, :func:`copies_register`,
  :func:`follow_up_register` and :func:`follow_up_report` give the printable registers.

Services only flush; the caller owns the transaction. Every state change writes an audit event
naming the version SHA-256 it applies to.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import audit, delivery, numbering, states
from .audit import Actor
from .db import Base, UTCDateTime, new_id, utcnow
from .documents import add_version, current_version, get_document, refresh_search, search_key
from .errors import Conflict, InvalidInput, NotFound, PermissionDenied
from .models import Document, Organisation, Unit, User
from .ports import BlobStore
from .workcalendar import to_vn_date, vn_today

SECRECY_LABELS = {"mat": "Mật", "toi_mat": "Tối mật", "tuyet_mat": "Tuyệt mật"}


# --------------------------------------------------------------------------------------------
# tables


class IncomingEntry(Base):
    """A row of the incoming register (sổ đăng ký văn bản đến)."""

    __tablename__ = "incoming_register"
    __table_args__ = (UniqueConstraint("org_id", "series", "year", "arrival_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), unique=True)
    series: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    arrival_number: Mapped[int] = mapped_column(Integer)
    arrival_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    arrival_date: Mapped[date]
    duplicate_key: Mapped[str | None] = mapped_column(String(400), index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(32))  # registered despite this earlier document
    recipient: Mapped[str | None] = mapped_column(String(255))  # Đơn vị hoặc người nhận
    notes: Mapped[str | None] = mapped_column(Text)
    registered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))


class OutgoingEntry(Base):
    """A row of the outgoing register (sổ đăng ký văn bản đi)."""

    __tablename__ = "outgoing_register"
    __table_args__ = (UniqueConstraint("org_id", "series", "year", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), unique=True)
    series: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(128))
    issued_date: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    file_copy: Mapped[str | None] = mapped_column(String(255))  # Đơn vị, người nhận bản lưu
    copies: Mapped[int | None] = mapped_column(Integer)  # Số lượng bản
    notes: Mapped[str | None] = mapped_column(Text)
    issued_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))


# --------------------------------------------------------------------------------------------
# helpers


def _require_role(session: Session, actor: Actor, *roles: str) -> User:
    user = session.get(User, actor.user_id) if actor.user_id else None
    if user is None or user.org_id != actor.org_id or not user.has_role(*roles):
        raise PermissionDenied("Chỉ văn thư được thực hiện thao tác này.")
    return user


def _norm_text(s: str | None) -> str:
    return " ".join(search_key(s or "").split())


def _norm_symbol(s: str | None) -> str:
    return re.sub(r"\s+", "", search_key(s or ""))


def duplicate_key(doc: Document) -> str | None:
    """Normalised issuer + number/symbol + date, or None when the document lacks a number/symbol."""
    if not doc.number_symbol:
        return None
    issuer = _norm_text(doc.issuing_body or doc.issuing_body_code)
    day = doc.issued_date.isoformat() if doc.issued_date else ""
    return f"{issuer}|{_norm_symbol(doc.number_symbol)}|{day}"[:400]


def date_vn(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else ""


def date_line(place: str | None, d: date) -> str:
    """``Yên Khánh, ngày 05 tháng 3 năm 2026`` (day < 10 and months 1–2 zero-padded)."""
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    text = f"ngày {d.day:02d} tháng {month} năm {d.year}"
    return f"{place}, {text}" if place else text.capitalize()


def _version_sha(session: Session, doc: Document) -> str | None:
    v = current_version(session, doc)
    return v.sha256 if v else None


# --------------------------------------------------------------------------------------------
# incoming


@dataclass
class Registration:
    document: Document
    entry: IncomingEntry

    @property
    def arrival_number_display(self) -> str:
        return numbering.format_number(self.entry.arrival_number)


def find_duplicate(session: Session, *, org_id: str, doc: Document) -> tuple[Document, IncomingEntry] | None:
    """An already registered document of ``org_id`` with the same issuer, number/symbol and date."""
    key = duplicate_key(doc)
    if key is None:
        return None
    row = session.execute(
        select(Document, IncomingEntry).join(IncomingEntry, IncomingEntry.document_id == Document.id)
        .where(IncomingEntry.org_id == org_id, IncomingEntry.duplicate_key == key, Document.id != doc.id)
        .order_by(IncomingEntry.arrival_at).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def register_incoming(
    session: Session, *, actor: Actor, document_id: str, confirm_duplicate: bool = False,
    arrival_time: datetime | None = None, recipient: str | None = None, notes: str | None = None,
) -> Registration:
    """Enter a received document in the incoming register with the next arrival number of the year.

    Raises PermissionDenied (not a clerk), NotFound (not in the actor's organisation),
    Conflict (not in status ``received``; or a likely duplicate — ``duplicate_of`` names the
    earlier document — unless ``confirm_duplicate``).
    """
    _require_role(session, actor, "clerk")
    doc = get_document(session, org_id=actor.org_id, document_id=document_id)
    if doc.direction != "incoming":
        raise Conflict("Chỉ văn bản đến mới được vào sổ văn bản đến.")
    if not states.can(doc, "register"):
        states.transition(doc, "register")  # raises the standard Conflict with allowed actions
    dup = find_duplicate(session, org_id=actor.org_id, doc=doc)
    if dup is not None and not confirm_duplicate:
        other, other_entry = dup
        raise Conflict(
            f"Văn bản có thể bị trùng: «{other.number_symbol}» của {other.issuing_body or 'cùng cơ quan'} "
            f"đã được vào sổ với số đến {numbering.format_number(other_entry.arrival_number)} "
            f"ngày {date_vn(other_entry.arrival_date)}. Xác nhận để vẫn vào sổ.",
            duplicate_of=other.id, duplicate_arrival_number=other_entry.arrival_number,
        )
    at = arrival_time or utcnow()
    if at.tzinfo is None:
        raise InvalidInput("Thời điểm đến phải có múi giờ.")
    arrival_date = to_vn_date(at)
    org = session.get(Organisation, actor.org_id)
    series = numbering.incoming_series(org.settings if org else None, secrecy=doc.secrecy)
    states.transition(doc, "register")
    number = numbering.allocate_number(session, org_id=actor.org_id, register="incoming",
                                       year=arrival_date.year, series=series)
    sha = _version_sha(session, doc)
    entry = IncomingEntry(
        org_id=actor.org_id, document_id=doc.id, series=series, year=arrival_date.year, arrival_number=number,
        arrival_at=at, arrival_date=arrival_date, duplicate_key=duplicate_key(doc),
        duplicate_of=dup[0].id if dup else None, recipient=recipient, notes=notes,
        registered_by=actor.user_id, sha256=sha,
    )
    session.add(entry)
    extra = dict(doc.extra or {})
    extra.update({"arrival_number": number, "arrival_date": arrival_date.isoformat()})
    doc.extra = extra
    session.flush()
    audit.record(session, actor=actor, action="document.register", object_type="document", object_id=doc.id,
                 details={"arrival_number": number, "year": arrival_date.year, "series": series, "sha256": sha,
                          "duplicate_of": entry.duplicate_of})
    delivery.report_status(session, actor=actor, document=doc, status=delivery.ACCEPTED)
    return Registration(document=doc, entry=entry)


def return_incoming(session: Session, *, actor: Actor, document_id: str, reason: str) -> Document:
    """Return a received (misaddressed or failing) document to its sender with ``reason``.

    Raises PermissionDenied, NotFound, InvalidInput (empty reason), Conflict (wrong status).
    """
    _require_role(session, actor, "clerk")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Cần nêu lý do trả lại văn bản.")
    doc = get_document(session, org_id=actor.org_id, document_id=document_id)
    states.transition(doc, "return")
    extra = dict(doc.extra or {})
    extra["return_reason"] = reason
    doc.extra = extra
    session.flush()
    audit.record(session, actor=actor, action="document.return", object_type="document", object_id=doc.id,
                 details={"reason": reason, "sha256": _version_sha(session, doc)})
    delivery.report_status(session, actor=actor, document=doc, status=delivery.REJECTED, note=reason)
    return doc


def incoming_entry(session: Session, *, org_id: str, document_id: str) -> IncomingEntry | None:
    return session.scalar(select(IncomingEntry).where(IncomingEntry.org_id == org_id,
                                                      IncomingEntry.document_id == document_id))


# --------------------------------------------------------------------------------------------
# outgoing


@dataclass(frozen=True)
class IssueInfo:
    """What a seal/stamp callback needs to put number, date and the agency on the PDF."""

    document_id: str
    org_id: str
    org_name: str
    org_abbreviation: str
    number: int
    number_display: str
    symbol: str
    issued_date: date
    place: str | None
    date_line: str
    sha256: str  # the version being issued
    org_settings: dict = field(default_factory=dict)  # layout (boxes) and signature level of the agency


SealFn = Callable[[bytes, IssueInfo], bytes]


@dataclass
class IssueResult:
    document: Document
    entry: OutgoingEntry
    version_id: str
    sha256: str
    receipts: list[delivery.DeliveryReceipt] = field(default_factory=list)


def issue_outgoing(
    session: Session, store: BlobStore, *, actor: Actor, document_id: str, issued_date: date | None = None,
    seal: SealFn | None = None, recipient_org_ids: Iterable[str] = (), notes: str | None = None,
    copies: int | None = None,
) -> IssueResult:
    """Number, date and register an approved (or signed) outgoing document, then deliver it.

    The number comes from the series :func:`numbering.outgoing_series` picks, in the year of the
    issue date (Vietnam time). With ``seal`` the sealed bytes become a new final version
    (kind ``issued``); without it the current version is marked final. Raises PermissionDenied,
    NotFound, Conflict (status does not allow issuing), InvalidInput.
    """
    _require_role(session, actor, "clerk")
    doc = get_document(session, org_id=actor.org_id, document_id=document_id)
    if doc.direction != "outgoing":
        raise Conflict("Chỉ văn bản đi mới được cấp số ban hành.")
    version = current_version(session, doc)
    if version is None:
        raise InvalidInput("Văn bản chưa có nội dung.")
    approved_sha = (doc.extra or {}).get("approved_sha256")
    if approved_sha and approved_sha != version.sha256 and doc.status == "approved":
        raise Conflict("Phiên bản hiện tại không phải phiên bản đã được phê duyệt.")
    today = vn_today()
    day = issued_date or today
    if day > today:
        raise InvalidInput("Ngày ban hành không được sau ngày hôm nay.")
    if copies is not None and not 0 < copies <= 10000:
        raise InvalidInput("Số lượng bản không hợp lệ.")
    states.transition(doc, "issue")
    org = session.get(Organisation, doc.org_id)
    assert org is not None
    series = numbering.outgoing_series(org.settings, doc_type=doc.doc_type, secrecy=doc.secrecy)
    number = numbering.allocate_number(session, org_id=org.id, register="outgoing", year=day.year, series=series)
    unit = session.get(Unit, doc.drafting_unit_id) if doc.drafting_unit_id else None
    if unit is not None and unit.org_id != org.id:
        unit = None
    symbol = numbering.build_symbol(number, doc_type=doc.doc_type, body_abbr=org.abbreviation,
                                    unit_abbr=unit.abbreviation if unit else None)
    doc.number = number
    doc.number_symbol = symbol
    doc.issued_date = day
    doc.place = doc.place or org.place
    doc.issuing_body = org.name
    doc.issuing_body_code = org.organ_code
    doc.parent_body = doc.parent_body or org.parent_name
    refresh_search(doc)
    info = IssueInfo(document_id=doc.id, org_id=org.id, org_name=org.name, org_abbreviation=org.abbreviation,
                     number=number, number_display=numbering.format_number(number), symbol=symbol, issued_date=day,
                     place=doc.place, date_line=date_line(doc.place, day), sha256=version.sha256,
                     org_settings=dict(org.settings or {}))
    if seal is not None:
        sealed = seal(store.read_bytes(version.sha256), info)
        blob = store.put_bytes(sealed)
        final = add_version(session, store, actor=actor, document=doc, sha256=blob.sha256, size=blob.size,
                            kind="issued", is_final=True, page_count=version.page_count)
    else:
        version.is_final = True
        store.mark_final(version.sha256)
        final = version
    entry = OutgoingEntry(
        org_id=org.id, document_id=doc.id, series=series, year=day.year, number=number, symbol=symbol,
        issued_date=day, file_copy=unit.name if unit else org.name, copies=copies,
        notes=notes, issued_by=actor.user_id, sha256=final.sha256,
    )
    session.add(entry)
    session.flush()
    audit.record(session, actor=actor, action="document.issue", object_type="document", object_id=doc.id,
                 details={"number": number, "symbol": symbol, "series": series, "year": day.year,
                          "issued_date": day.isoformat(), "sha256": final.sha256, "approved_sha256": version.sha256})
    receipts = delivery.deliver(session, actor=actor, document=doc, recipient_org_ids=recipient_org_ids)
    return IssueResult(document=doc, entry=entry, version_id=final.id, sha256=final.sha256, receipts=receipts)


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
    from . import workflow  # late import: the workflow module builds on documents, not on registers

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


def _assignee_label(session: Session, doc: Document) -> str:
    """Who handles ``doc`` (lead unit or person), for the incoming register's receiver column."""
    from . import workflow

    parts = []
    for a in workflow.assignments_of(session, org_id=doc.org_id, document_id=doc.id):
        if a.role != "lead" or a.parent_id is not None or a.status == "cancelled":
            continue
        if a.assignee_unit_id:
            unit = session.get(Unit, a.assignee_unit_id)
            parts.append(unit.name if unit else "")
        elif a.assignee_user_id:
            user = session.get(User, a.assignee_user_id)
            parts.append(user.full_name if user else "")
    return ", ".join(p for p in parts if p)


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
    from . import workflow

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
