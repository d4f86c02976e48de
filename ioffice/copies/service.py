"""The certification desk: certify a scan against the paper original (number, code, fee, due
date, stamping and signatures through :class:`CopyStampPort`), list, revoke, the public status,
and the agency's own electronic copies (sao y, sao lục, trích sao).

The signed PDF is produced by the port (implemented with pyHanko outside the core); this module
decides and records. Number allocation, the record and the audit event commit together, so a
failure anywhere leaves no number used and nothing recorded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, documents
from ..accounts.models import Organisation
from ..kernel.caller import Caller
from ..kernel.db import utcnow
from ..kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ..kernel.ports import BlobStore
from ..kernel.workcalendar import to_vn_date, vn_today
from ..registers import numbering
from ..registers.services import date_line
from . import rules
from .intake import Scan, read_scan
from .models import AGENCY_FORMS, KIND_CERTIFIED, CopyRecord

REGISTER = "copies"
CERTIFIED_SERIES = "SCT/BS"
STATUS_LABELS = {"active": "Còn hiệu lực", "revoked": "Đã bị thu hồi"}
KIND_LABELS = {KIND_CERTIFIED: "Bản sao chứng thực từ bản chính", "SY": "Bản sao y", "SL": "Bản sao lục",
               "TrS": "Bản trích sao"}


class CopyMetadata(BaseModel):
    """What the certifier types in: who asks, what the original is, how many copies."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    requester_name: str = Field(min_length=1, max_length=255, description="Họ tên người yêu cầu chứng thực")
    requester_id_number: str = Field(min_length=6, max_length=20, pattern=r"^[A-Za-z0-9]+$",
                                     description="Số CCCD/hộ chiếu (never shown publicly)")
    title: str = Field(min_length=1, max_length=500, description="Tên bản chính giấy tờ, văn bản")
    copies: int = Field(default=1, ge=1, le=rules.MAX_COPIES, description="Số bản sao")
    notes: str | None = Field(default=None, max_length=2000)

    @field_validator("requester_name", "title")
    @classmethod
    def _one_line(cls, v: str) -> str:
        return " ".join(v.split())


@dataclass(frozen=True)
class StampJob:
    """Everything the PDF adapter needs to stamp and sign one copy."""

    pdf: bytes
    code: str
    verify_url: str
    number: int
    book: str
    date_line: str
    agency_name: str
    parent_body: str | None
    place: str | None
    certifier_name: str
    certifier_position: str
    certifier_key: str | None
    level: str
    signature_image: bytes | None = None
    seal_image: bytes | None = None
    copy_form: str | None = None  # agency copies: SAO Y | SAO LỤC | TRÍCH SAO
    extra: dict[str, Any] = field(default_factory=dict)


class CopyStampPort(Protocol):
    def certify(self, job: StampJob) -> bytes:
        """Certification block, copy mark, QR code; the certifier's and the agency's signatures."""
        ...

    def agency_copy(self, job: StampJob) -> bytes:
        """The copy-form mark at the top right of page 1 with the agency's signature."""
        ...


def _org(session: Session, org_id: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None:
        raise NotFound("Không tìm thấy cơ quan.")
    return org


def current_book(org: Organisation, year: int) -> int:
    return int(((org.settings or {}).get("copy_books") or {}).get(str(year), 1))


def open_new_book(session: Session, *, caller: Caller, year: int | None = None) -> str:
    """Close the current SCT/BS book of the year and open the next one; numbers continue."""
    user = caller.person
    if not user.has_role("certifier"):
        raise PermissionDenied("Chỉ cán bộ chứng thực mới được mở quyển sổ chứng thực mới.")
    org = _org(session, user.org_id)
    year = year or vn_today().year
    books = dict((org.settings or {}).get("copy_books") or {})
    books[str(year)] = current_book(org, year) + 1
    org.settings = {**(org.settings or {}), "copy_books": books}
    label = rules.book_label(books[str(year)])
    audit.record(session, caller=caller, action="copy.book.open", object_type="organisation", object_id=org.id,
                 details={"year": year, "book": label})
    return label


def verify_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{code}"


def _read_image(store: BlobStore, sha: str | None) -> bytes | None:
    return store.read_bytes(sha) if sha else None


def certify(session: Session, store: BlobStore, port: CopyStampPort, *, caller: Caller, parts: list[bytes],
            metadata: CopyMetadata, base_url: str, level: str, now: datetime | None = None) -> tuple[CopyRecord, Scan]:
    """Certify the uploaded scan: number in the SCT/BS register, code, fee, due date, the signed PDF."""
    user = caller.person
    if not user.has_role("certifier"):
        raise PermissionDenied("Chỉ cán bộ chứng thực mới được chứng thực bản sao.")
    if not user.signing_key:
        raise InvalidInput("Máy chủ không giữ khóa ký của bạn: nhờ quản trị viên cấu hình khóa ký số cá nhân "
                           "trước khi chứng thực bản sao điện tử.")
    scan = read_scan(parts)
    received = now or utcnow()
    today = vn_today(received)
    org = _org(session, user.org_id)
    number = numbering.allocate_number(session, org_id=org.id, register=REGISTER, series=CERTIFIED_SERIES,
                                       year=today.year)
    book = rules.book_label(current_book(org, today.year))
    code = rules.new_code()
    source = store.put_bytes(scan.pdf)
    job = StampJob(
        pdf=scan.pdf, code=code, verify_url=verify_url(base_url, code), number=number, book=book,
        date_line=date_line(org.place, today), agency_name=org.name, parent_body=org.parent_name, place=org.place,
        certifier_name=user.full_name, certifier_position=user.position or "Cán bộ chứng thực",
        certifier_key=user.signing_key, level=level,
        signature_image=_read_image(store, user.signature_image_sha256),
        seal_image=_read_image(store, (org.settings or {}).get("seal_image_sha256")),
        extra={"org_settings": dict(org.settings or {})},
    )
    signed = port.certify(job)
    blob = store.put_bytes(signed)
    rec = CopyRecord(
        org_id=org.id, kind=KIND_CERTIFIED, code=code, year=today.year, number=number, book=book,
        title=metadata.title, requester_name=metadata.requester_name,
        requester_id_number=metadata.requester_id_number, notes=metadata.notes, copies=metadata.copies,
        pages=scan.pages, fee=rules.fee(scan.pages, metadata.copies), status="active", received_at=received,
        due_date=rules.due_date(received), certified_date=today, certifier_id=user.id,
        certifier_name=user.full_name, certifier_position=user.position, source_sha256=source.sha256,
        sha256=blob.sha256, size=blob.size, level=level,
    )
    session.add(rec)
    session.flush()
    audit.record(session, caller=caller, action="copy.certify", object_type="copy", object_id=rec.id,
                 details={"number": number, "book": book, "pages": scan.pages, "copies": metadata.copies,
                          "fee": rec.fee, "source_sha256": source.sha256, "sha256": blob.sha256, "level": level,
                          "warnings": scan.warnings})
    return rec, scan


def make_agency_copy(session: Session, store: BlobStore, port: CopyStampPort, *, caller: Caller, form: str,
                     document_id: str | None, parts: list[bytes] | None, title: str | None, copies: int,
                     level: str, base_url: str) -> CopyRecord:
    """An electronic copy of the agency's own document (Decree 30: sao y, sao lục, trích sao), from
    the document's current version or an uploaded scan of the paper original."""
    user = caller.person
    if not user.has_role("clerk"):
        raise PermissionDenied("Chỉ văn thư mới được sao văn bản của cơ quan.")
    form = " ".join((form or "").split()).upper()
    if form not in AGENCY_FORMS:
        raise InvalidInput("Hình thức sao phải là SAO Y, SAO LỤC hoặc TRÍCH SAO.")
    if (document_id is None) == (not parts):
        raise InvalidInput("Gửi đúng một nguồn: document_id của văn bản, hoặc tệp bản chụp (file).")
    doc = None
    if document_id is not None:
        doc = documents.get_document(session, org_id=user.org_id, document_id=document_id)
        version = documents.current_version(session, doc)
        if version is None:
            raise Conflict("Văn bản chưa có nội dung để sao.")
        pdf = store.read_bytes(version.sha256)
        pages = version.page_count or read_scan([pdf]).pages
        title = title or (f"{doc.number_symbol} — {doc.summary}" if doc.number_symbol else doc.summary)
    else:
        scan = read_scan(parts or [])
        pdf, pages = scan.pdf, scan.pages
    if not title or not title.strip():
        raise InvalidInput("Thiếu tên văn bản được sao (title).")
    if not 1 <= copies <= rules.MAX_COPIES:
        raise InvalidInput(f"Số bản sao phải từ 1 đến {rules.MAX_COPIES}.")
    today = vn_today()
    org = _org(session, user.org_id)
    abbr = AGENCY_FORMS[form]
    number = numbering.allocate_number(session, org_id=org.id, register=REGISTER, series=abbr, year=today.year)
    symbol = f"{numbering.format_number(number)}/{abbr}-{org.abbreviation}"
    code = rules.new_code()
    source = store.put_bytes(pdf)
    job = StampJob(pdf=pdf, code=code, verify_url=verify_url(base_url, code), number=number, book=symbol,
                   date_line=date_line(org.place, today), agency_name=org.name, parent_body=org.parent_name,
                   place=org.place, certifier_name=user.full_name, certifier_position=user.position or "",
                   certifier_key=None, level=level, copy_form=form,
                   extra={"org_settings": dict(org.settings or {})})
    blob = store.put_bytes(port.agency_copy(job))
    rec = CopyRecord(org_id=org.id, kind=abbr, code=code, year=today.year, number=number, book=symbol,
                     title=" ".join(title.split()), copies=copies, pages=pages, fee=0, status="active",
                     due_date=today, certified_date=today, certifier_id=user.id, certifier_name=user.full_name,
                     certifier_position=user.position, document_id=doc.id if doc else None,
                     source_sha256=source.sha256, sha256=blob.sha256, size=blob.size, level=level)
    session.add(rec)
    session.flush()
    audit.record(session, caller=caller, action="copy.agency_copy", object_type="copy", object_id=rec.id,
                 details={"form": form, "symbol": symbol, "document_id": rec.document_id,
                          "source_sha256": source.sha256, "sha256": blob.sha256, "level": level})
    return rec


# ------------------------------------------------------------------------------ reading

def get_copy(session: Session, *, org_id: str, copy_id: str) -> CopyRecord:
    rec = session.get(CopyRecord, copy_id)
    if rec is None or rec.org_id != org_id:
        raise NotFound("Không tìm thấy bản sao.")
    return rec


def list_copies(session: Session, *, org_id: str, year: int | None = None, kind: str | None = None,
                status: str | None = None, limit: int = 100, offset: int = 0) -> list[CopyRecord]:
    q = select(CopyRecord).where(CopyRecord.org_id == org_id)
    if year is not None:
        q = q.where(CopyRecord.year == year)
    if kind is not None:
        q = q.where(CopyRecord.kind == kind)
    if status is not None:
        q = q.where(CopyRecord.status == status)
    q = q.order_by(CopyRecord.created_at.desc(), CopyRecord.number.desc()).limit(limit).offset(offset)
    return list(session.scalars(q))


def revoke(session: Session, *, caller: Caller, copy_id: str, reason: str) -> CopyRecord:
    """Revoke a copy (e.g. the original turned out to be forged); the public status changes at once."""
    user = caller.person
    rec = get_copy(session, org_id=user.org_id, copy_id=copy_id)
    allowed = "certifier" if rec.kind == KIND_CERTIFIED else "clerk"
    if not user.has_role(allowed):
        raise PermissionDenied("Chỉ cán bộ chứng thực mới được thu hồi bản sao chứng thực."
                               if allowed == "certifier" else "Chỉ văn thư mới được thu hồi bản sao của cơ quan.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Cần nêu lý do thu hồi.")
    if rec.status == "revoked":
        raise Conflict("Bản sao này đã bị thu hồi trước đó.",
                       revoked_at=rec.revoked_at.isoformat() if rec.revoked_at else None)
    rec.status = "revoked"
    rec.revoked_at = utcnow()
    rec.revoked_by = user.id
    rec.revocation_reason = reason
    audit.record(session, caller=caller, action="copy.revoke", object_type="copy", object_id=rec.id,
                 details={"number": rec.number, "book": rec.book, "reason": reason})
    return rec


# ------------------------------------------------------------------------------ public side

def find_by_code(session: Session, code: str) -> CopyRecord:
    """Raises InvalidInput (422) for a malformed code, NotFound (404) for an unknown one."""
    c = rules.normalise_code(code)
    rec = session.scalar(select(CopyRecord).where(CopyRecord.code == c))
    if rec is None:
        raise NotFound(f"Không tìm thấy bản sao điện tử nào có mã xác thực «{c}». Hãy kiểm tra lại mã, hoặc "
                       "tải tệp PDF lên để kiểm tra chữ ký số.")
    return rec


def find_for_file(session: Session, *, sha256: str, embedded_code: str | None) -> tuple[CopyRecord, str] | None:
    """The copy an uploaded file is (same bytes) or claims to be (its embedded code)."""
    rec = session.scalar(select(CopyRecord).where(CopyRecord.sha256 == sha256).limit(1))
    if rec is not None:
        return rec, "sha256"
    if embedded_code:
        try:
            return find_by_code(session, embedded_code), "code"
        except (InvalidInput, NotFound):
            return None
    return None


def public_view(session: Session, rec: CopyRecord) -> dict[str, Any]:
    """What anyone may see: never the identity number, the requester's name masked."""
    org = session.get(Organisation, rec.org_id)
    return {
        "code": rec.code,
        "kind": rec.kind,
        "kind_label": KIND_LABELS.get(rec.kind, rec.kind),
        "status": rec.status,
        "status_label": STATUS_LABELS.get(rec.status, rec.status),
        "revoked_at": rec.revoked_at.isoformat() if rec.revoked_at else None,
        "revoked_date": f"{to_vn_date(rec.revoked_at):%d/%m/%Y}" if rec.revoked_at else None,
        "agency": org.name if org else "",
        "agency_code": org.organ_code if org else None,
        "number": rec.number,
        "book": rec.book,
        "date": rec.certified_date.isoformat(),
        "title": rec.title,
        "pages": rec.pages,
        "requester": rules.mask_name(rec.requester_name) if rec.requester_name else None,
    }


def report_copy_section(session: Session, *, sha256: str, embedded_code: str | None) -> dict[str, Any] | None:
    """The validation report's ``copy`` section for an uploaded file, or None."""
    found = find_for_file(session, sha256=sha256, embedded_code=embedded_code)
    if found is None:
        return None
    rec, how = found
    view = public_view(session, rec)
    view["matched_by"] = how
    view["same_file"] = how == "sha256"
    return view
