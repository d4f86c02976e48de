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

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation, Unit, User
from ioffice.audit import services as audit
from ioffice.delivery import services as delivery
from ioffice.documents import lifecycle, signature_check
from ioffice.documents.attachments import list_attachments, sign_attachments
from ioffice.documents.models import Document, DocumentVersion
from ioffice.documents.services import add_version, current_version, get_document, refresh_search
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import Conflict, InvalidInput, PermissionDenied
from ioffice.kernel.ports import BlobStore
from ioffice.kernel.vocab import SECRECY_LABELS  # noqa: F401 - re-exported (registers.books)
from ioffice.kernel.workcalendar import to_vn_date, vn_today
from ioffice.registers import dupkey, numbering
from ioffice.registers.models import IncomingEntry, OutgoingEntry
from ioffice.registers.ports import IssuingPdfPort
from ioffice.registers.signed import require_personal_signature
from ioffice.signatures.agency import agency_level, agency_spec

# --------------------------------------------------------------------------------------------
# helpers


def _require_role(session: Session, caller: Caller, *roles: str) -> User:
    user = session.get(User, caller.user_id) if caller.user_id else None
    if user is None or user.org_id != caller.org_id or not user.has_role(*roles):
        raise PermissionDenied("Chỉ văn thư được thực hiện thao tác này.")
    return user


def duplicate_key(doc: Document) -> str | None:
    """Normalised issuer + number/symbol + date (see :mod:`ioffice.registers.dupkey`), or None
    when the document lacks a number/symbol."""
    day = doc.issued_date.isoformat() if doc.issued_date else ""
    return dupkey.duplicate_key(issuer=doc.issuing_body or doc.issuing_body_code, number_symbol=doc.number_symbol,
                                issued_date=day)


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
    session: Session, *, caller: Caller, document_id: str, confirm_duplicate: bool = False,
    confirm_signature_problem: bool = False, arrival_time: datetime | None = None, recipient: str | None = None,
    notes: str | None = None,
) -> Registration:
    """Enter a received document in the incoming register with the next arrival number of the year.

    Raises PermissionDenied (not a clerk), NotFound (not in the caller's organisation),
    Conflict (not in status ``received``; or a likely duplicate — ``duplicate_of`` names the
    earlier document — unless ``confirm_duplicate``; or its signatures were found ``modified`` or
    ``invalid`` at upload, unless ``confirm_signature_problem``).
    """
    org_id = _require_role(session, caller, "clerk").org_id  # the clerk's agency (= caller.org_id)
    doc = get_document(session, org_id=org_id, document_id=document_id)
    if doc.direction != "incoming":
        raise Conflict("Chỉ văn bản đến mới được vào sổ văn bản đến.")
    if not lifecycle.can(doc, "register"):
        lifecycle.transition(doc, "register")  # raises the standard Conflict with allowed actions
    check = signature_check.of(doc)
    if signature_check.is_held(doc) and not confirm_signature_problem:
        raise Conflict(
            f"Văn bản chưa được vào sổ vì chữ ký số có vấn đề: {signature_check.problem_text(doc)} "
            "Hãy trả lại nơi gửi, hoặc xác nhận (confirm_signature_problem) để vẫn vào sổ.",
            signature_check={k: check.get(k) for k in ("verdict", "trusted", "checked_at", "summary")}
            if check else None,
        )
    dup = find_duplicate(session, org_id=org_id, doc=doc)
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
    org = session.get(Organisation, org_id)
    series = numbering.incoming_series(org.settings if org else None, secrecy=doc.secrecy)
    lifecycle.transition(doc, "register")
    number = numbering.allocate_number(session, org_id=org_id, register="incoming",
                                       year=arrival_date.year, series=series)
    sha = _version_sha(session, doc)
    entry = IncomingEntry(
        org_id=org_id, document_id=doc.id, series=series, year=arrival_date.year, arrival_number=number,
        arrival_at=at, arrival_date=arrival_date, duplicate_key=duplicate_key(doc),
        duplicate_of=dup[0].id if dup else None, recipient=recipient, notes=notes,
        registered_by=caller.user_id, sha256=sha,
    )
    session.add(entry)
    extra = dict(doc.extra or {})
    extra.update({"arrival_number": number, "arrival_date": arrival_date.isoformat()})
    doc.extra = extra
    session.flush()
    audit.record(session, caller=caller, action="document.register", object_type="document", object_id=doc.id,
                 details={"arrival_number": number, "year": arrival_date.year, "series": series, "sha256": sha,
                          "duplicate_of": entry.duplicate_of,
                          "signature_verdict": check.get("verdict") if check else None,
                          "signature_problem_confirmed": bool(
                              confirm_signature_problem and signature_check.is_held(doc))})
    delivery.report_status(session, caller=caller, document=doc, status=delivery.ACCEPTED)
    return Registration(document=doc, entry=entry)


def return_incoming(session: Session, *, caller: Caller, document_id: str, reason: str) -> Document:
    """Return a received (misaddressed or failing) document to its sender with ``reason``.

    When the check at the door found its signatures ``modified`` or ``invalid``, the reason sent
    carries that finding (and may then be left empty).
    Raises PermissionDenied, NotFound, InvalidInput (empty reason), Conflict (wrong status).
    """
    org_id = _require_role(session, caller, "clerk").org_id  # the clerk's agency (= caller.org_id)
    reason = (reason or "").strip()
    doc = get_document(session, org_id=org_id, document_id=document_id)
    problem = signature_check.problem_text(doc)
    if problem and problem not in reason:
        reason = f"{reason} — Kiểm tra chữ ký số: {problem}" if reason else f"Kiểm tra chữ ký số: {problem}"
    if not reason:
        raise InvalidInput("Cần nêu lý do trả lại văn bản.")
    lifecycle.transition(doc, "return")
    extra = dict(doc.extra or {})
    extra["return_reason"] = reason
    doc.extra = extra
    session.flush()
    audit.record(session, caller=caller, action="document.return", object_type="document", object_id=doc.id,
                 details={"reason": reason, "sha256": _version_sha(session, doc)})
    delivery.report_status(session, caller=caller, document=doc, status=delivery.REJECTED, note=reason)
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


def _check_issuable(session: Session, *, caller: Caller, document_id: str,
                    issued_date: date | None) -> tuple[Document, DocumentVersion, date]:
    """The clerk may issue this outgoing document now: (document, version to issue, issue date)."""
    org_id = _require_role(session, caller, "clerk").org_id  # the clerk's agency (= caller.org_id)
    doc = get_document(session, org_id=org_id, document_id=document_id)
    if doc.direction != "outgoing":
        raise Conflict("Chỉ văn bản đi mới được cấp số ban hành.")
    version = current_version(session, doc)
    if version is None:
        raise InvalidInput("Văn bản chưa có nội dung.")
    approved_sha = (doc.extra or {}).get("approved_sha256")
    if approved_sha and approved_sha != version.sha256 and doc.status == "approved":
        raise Conflict("Phiên bản hiện tại không phải phiên bản đã được phê duyệt.")
    if not lifecycle.can(doc, "issue"):
        lifecycle.transition(doc, "issue")  # raises the 409 naming the status
    require_personal_signature(session, doc)
    today = vn_today()
    day = issued_date or today
    if day > today:
        raise InvalidInput("Ngày ban hành không được sau ngày hôm nay.")
    return doc, version, day


def _symbol(session: Session, org: Organisation, doc: Document, number: int) -> str:
    unit = session.get(Unit, doc.drafting_unit_id) if doc.drafting_unit_id else None
    if unit is not None and unit.org_id != org.id:
        unit = None
    return numbering.build_symbol(number, doc_type=doc.doc_type, body_abbr=org.abbreviation,
                                  unit_abbr=unit.abbreviation if unit else None)


def issue_marks(number: int, symbol: str, day: date) -> dict:
    """What the PDF adapter stamps into the draft's blanks: number, symbol, day, month, year."""
    return {"number": numbering.format_number(number), "symbol": symbol, "day": f"{day.day:02d}",
            "month": f"{day.month:02d}" if day.month <= 2 else str(day.month), "year": day.year}


def signer_of(doc: Document) -> dict:
    """Who signed personally (the seal goes over their signature image)."""
    return {"name": doc.signer_name, "position": doc.signer_position}


def preview_issue(session: Session, store: BlobStore, pdf: IssuingPdfPort, *, caller: Caller, document_id: str,
                  issued_date: date | None = None) -> tuple[bytes, str]:
    """The PDF issuing would produce now, with the number the document would get (nothing is
    allocated, stored or recorded), and that number/symbol. Same refusals as :func:`issue_outgoing`."""
    doc, version, day = _check_issuable(session, caller=caller, document_id=document_id, issued_date=issued_date)
    org = session.get(Organisation, doc.org_id)
    assert org is not None
    series = numbering.outgoing_series(org.settings, doc_type=doc.doc_type, secrecy=doc.secrecy)
    number = numbering.last_number(session, org_id=org.id, register="outgoing", year=day.year, series=series) + 1
    symbol = _symbol(session, org, doc, number)
    spec = agency_spec(org, store, kind="seal", level="B-B", number_symbol=symbol, location=doc.place or org.place,
                       extra={"issue": issue_marks(number, symbol, day), "signer": signer_of(doc)})
    out = pdf.preview(store.read_bytes(version.sha256), spec, number_text=f"Số: {symbol}",
                      date_text=date_line(doc.place or org.place, day))
    return out, symbol


def issue_spec(org: Organisation, store: BlobStore, pdf: IssuingPdfPort, doc: Document, number: int, symbol: str,
               day: date):
    """The agency seal's spec at issue, with the number and date the adapter stamps in the blanks."""
    level = agency_level(org, None, pdf.default_level())
    return agency_spec(org, store, kind="seal", level=level, number_symbol=symbol,
                       reason="Văn thư ký số phát hành văn bản", location=doc.place or org.place,
                       extra={"issue": issue_marks(number, symbol, day), "signer": signer_of(doc)})


def record_issue(session: Session, store: BlobStore, *, caller: Caller, doc: Document, version: DocumentVersion,
                 org: Organisation, series: str, number: int, symbol: str, day: date, sealed: bytes | None,
                 notes: str | None, copies: int | None) -> tuple[OutgoingEntry, DocumentVersion]:
    """Write what issuing decided: the document's number/date/issuer, the final version (``sealed``
    bytes, or the current version itself), the outgoing register row and the audit event."""
    unit = session.get(Unit, doc.drafting_unit_id) if doc.drafting_unit_id else None
    if unit is not None and unit.org_id != org.id:
        unit = None
    doc.number = number
    doc.number_symbol = symbol
    doc.issued_date = day
    doc.place = doc.place or org.place
    doc.issuing_body = org.name
    doc.issuing_body_code = org.organ_code
    doc.parent_body = doc.parent_body or org.parent_name
    refresh_search(doc)
    if sealed is not None:
        blob = store.put_bytes(sealed)
        final = add_version(session, store, caller=caller, document=doc, sha256=blob.sha256, size=blob.size,
                            kind="issued", is_final=True, page_count=version.page_count)
    else:
        version.is_final = True
        store.mark_final(version.sha256)
        final = version
    entry = OutgoingEntry(
        org_id=org.id, document_id=doc.id, series=series, year=day.year, number=number, symbol=symbol,
        issued_date=day, file_copy=unit.name if unit else org.name, copies=copies,
        notes=notes, issued_by=caller.user_id, sha256=final.sha256,
    )
    session.add(entry)
    session.flush()
    audit.record(session, caller=caller, action="document.issue", object_type="document", object_id=doc.id,
                 details={"number": number, "symbol": symbol, "series": series, "year": day.year,
                          "issued_date": day.isoformat(), "sha256": final.sha256, "approved_sha256": version.sha256})
    return entry, final


def issue_outgoing(
    session: Session, store: BlobStore, *, caller: Caller, document_id: str, issued_date: date | None = None,
    pdf: IssuingPdfPort | None = None, seal: SealFn | None = None, recipient_org_ids: Iterable[str] = (),
    notes: str | None = None, copies: int | None = None, sessions=None,
) -> IssueResult:
    """Number, date and register an approved (or signed) outgoing document, then deliver it.

    With ``pdf`` and ``sessions`` (a session factory) the PDF work runs outside any transaction and
    outside the register counter's lock, see :mod:`ioffice.registers.issuing`; ``session`` is then
    only read.

    The number comes from the series :func:`numbering.outgoing_series` picks, in the year of the
    issue date (Vietnam time). With ``pdf`` (the signing adapter) the number and date are stamped
    and the agency seal — built by :func:`ioffice.signatures.agency.agency_spec`, with the seal image
    the admin uploaded — is applied; the sealed bytes become a new final version (kind ``issued``)
    and the attachments get the agency's attachment signature. ``seal`` is a plain callback doing
    the PDF work instead (tests); with neither the current version is marked final. Delivery to
    agencies on this installation follows. The approved version must carry the personal signature
    of the approving leader (or delegate), else Conflict naming who must sign. Raises PermissionDenied,
    NotFound, Conflict (status does not allow issuing), InvalidInput.
    """
    if pdf is not None and seal is None and sessions is not None:
        from ioffice.registers.issuing import issue_outside_lock

        return issue_outside_lock(session, store, caller=caller, document_id=document_id, issued_date=issued_date,
                                  pdf=pdf, sessions=sessions, recipient_org_ids=recipient_org_ids, notes=notes,
                                  copies=copies)
    doc, version, day = _check_issuable(session, caller=caller, document_id=document_id, issued_date=issued_date)
    if copies is not None and not 0 < copies <= 10000:
        raise InvalidInput("Số lượng bản không hợp lệ.")
    lifecycle.transition(doc, "issue")
    org = session.get(Organisation, doc.org_id)
    assert org is not None
    series = numbering.outgoing_series(org.settings, doc_type=doc.doc_type, secrecy=doc.secrecy)
    number = numbering.allocate_number(session, org_id=org.id, register="outgoing", year=day.year, series=series)
    symbol = _symbol(session, org, doc, number)
    info = IssueInfo(document_id=doc.id, org_id=org.id, org_name=org.name, org_abbreviation=org.abbreviation,
                     number=number, number_display=numbering.format_number(number), symbol=symbol, issued_date=day,
                     place=doc.place or org.place, date_line=date_line(doc.place or org.place, day),
                     sha256=version.sha256, org_settings=dict(org.settings or {}))
    sealed: bytes | None = None
    if pdf is not None:
        spec = issue_spec(org, store, pdf, doc, number, symbol, day)
        sealed = pdf.seal_issued(store.read_bytes(version.sha256), spec,
                                 number_text=f"Số: {symbol}", date_text=info.date_line)
    elif seal is not None:
        sealed = seal(store.read_bytes(version.sha256), info)
    entry, final = record_issue(session, store, caller=caller, doc=doc, version=version, org=org, series=series,
                                number=number, symbol=symbol, day=day, sealed=sealed, notes=notes, copies=copies)
    if pdf is not None and list_attachments(session, org_id=doc.org_id, document_id=doc.id):
        sign_attachments(session, store, pdf, caller=caller, document_id=doc.id,
                         level=agency_level(org, None, pdf.default_level()))
    receipts = delivery.deliver(session, caller=caller, document=doc, recipient_org_ids=recipient_org_ids)
    return IssueResult(document=doc, entry=entry, version_id=final.id, sha256=final.sha256, receipts=receipts)
