"""Certified electronic copies (the certification desk), the agency's own electronic copies
(sao y, sao lục, trích sao), the copies report and the public status of a copy."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, TypeVar, overload

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ioffice import audit
from ioffice.accounts.models import Organisation
from ioffice.copies import CopyMetadata, CopyRecord, copies_report, rules, service
from ioffice.kernel.errors import PayloadTooLarge
from ioffice.signatures import resolve_level

from ..container import Container
from ..copies_port import copy_stamp
from ..deps import CallerDep, ContainerDep, SessionDep, StoreDep, problem_responses, require_roles, writes
from ..download import content_disposition
from .documents import parse_metadata, stream_file
from .verify import rate_limit

router = APIRouter(tags=["copies"])

READERS = ("certifier", "clerk", "leader", "unit_head")


class CopyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str = Field(description="certified, or the agency copy form: SY, SL, TrS")
    code: str = Field(description="verification code (160 random bits, base32) in the QR code")
    number: int
    book: str = Field(description="Quyển số, e.g. 01-SCTĐT/BS (agency copies: the copy's symbol)")
    title: str
    requester_name: str | None
    requester_id_number: str | None
    copies: int
    pages: int
    fee: int = Field(description="VND")
    status: Literal["active", "revoked"]
    due: date = Field(description="the legal deadline: same day, next working day after 15:00")
    certified_date: date
    certifier_name: str
    sha256: str
    level: str | None
    verify_url: str
    revoked_at: datetime | None
    revocation_reason: str | None
    created_at: datetime


class CertifiedOut(CopyOut):
    warnings: list[str] = Field(default_factory=list, description="scan quality: below 200 dpi, greyscale")


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="Lý do thu hồi")


class BookOut(BaseModel):
    year: int
    book: str


class PeriodOut(BaseModel):
    period: str = Field(description="YYYY-MM")
    requests: int
    copies: int
    pages: int
    fee: int


class CopiesReportOut(BaseModel):
    date_from: date
    date_to: date
    periods: list[PeriodOut]
    total_requests: int
    total_copies: int
    total_fee: int


class PublicCopyOut(BaseModel):
    code: str
    kind: str
    kind_label: str
    status: Literal["active", "revoked"]
    status_label: str
    revoked_at: datetime | None
    revoked_date: str | None = Field(description="dd/mm/yyyy, Vietnam time")
    agency: str
    agency_code: str | None
    number: int
    book: str
    date: date
    title: str
    pages: int
    requester: str | None = Field(description="masked, e.g. N*** T** H**")


_Copy = TypeVar("_Copy", bound=CopyOut)


@overload
def _out(rec: CopyRecord, container: Container) -> CopyOut: ...
@overload
def _out(rec: CopyRecord, container: Container, model: type[_Copy], **extra: Any) -> _Copy: ...
def _out(rec: CopyRecord, container: Container, model: type[CopyOut] = CopyOut, **extra: Any) -> CopyOut:
    return model.model_validate(dict(
        id=rec.id, kind=rec.kind, code=rec.code, number=rec.number, book=rec.book, title=rec.title,
        requester_name=rec.requester_name, requester_id_number=rec.requester_id_number, copies=rec.copies,
        pages=rec.pages, fee=rec.fee, status=rec.status, due=rec.due_date,
        certified_date=rec.certified_date, certifier_name=rec.certifier_name, sha256=rec.sha256,
        level=rec.level, verify_url=service.verify_url(container.settings.base_url, rec.code),
        revoked_at=rec.revoked_at, revocation_reason=rec.revocation_reason, created_at=rec.created_at,
        **extra))


def _read_parts(files: list[UploadFile], limit: int) -> list[bytes]:
    parts, total = [], 0
    for f in files:
        data = f.file.read(limit + 1)
        total += len(data)
        if total > limit:
            raise PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).")
        parts.append(data)
    return parts


def _level(db: Session, container: Container, org_id: str) -> str:
    return resolve_level(db.get_one(Organisation, org_id), None, copy_stamp(container).default_level())


@router.post("/api/v1/copies", status_code=201, response_model=CertifiedOut,
             responses=problem_responses(401, 403, 413, 422, 503), dependencies=[require_roles("certifier")])
def certify_copy(db: SessionDep, store: StoreDep, caller: CallerDep, container: ContainerDep,
                 file: Annotated[list[UploadFile], File(description="the scan: one PDF, or JPEG/PNG page images "
                                                                    "in order (several `file` parts)")],
                 metadata: Annotated[str, Form(description="JSON: requester_name, requester_id_number, title, "
                                                           "copies (default 1), notes")]) -> CertifiedOut:
    """Certify a copy against the paper original: number in the SCT/BS register, verification code
    and QR code, certification block on the last page, the certifier's and the agency's signatures."""
    meta = parse_metadata(metadata, CopyMetadata)
    parts = _read_parts(file, container.settings.max_upload_bytes)
    rec, scan = service.certify(db, store, copy_stamp(container), caller=caller, parts=parts,
                                metadata=meta, base_url=container.settings.base_url,
                                level=_level(db, container, caller.person.org_id))
    return _out(rec, container, CertifiedOut, warnings=scan.warnings)


@router.post("/api/v1/agency-copies", status_code=201, response_model=CopyOut,
             responses=problem_responses(401, 403, 404, 409, 413, 422, 503), dependencies=[require_roles("clerk")])
def agency_copy(db: SessionDep, store: StoreDep, caller: CallerDep, container: ContainerDep,
                form: Annotated[Literal["SAO Y", "SAO LỤC", "TRÍCH SAO"], Form(description="hình thức sao")],
                document_id: Annotated[str | None, Form(description="copy this document's current version")] = None,
                file: Annotated[list[UploadFile] | None, File(description="or a scan of the paper original")] = None,
                title: Annotated[str | None, Form(max_length=500)] = None,
                copies: Annotated[int, Form(ge=1, le=100)] = 1) -> CopyOut:
    """An electronic copy of the agency's own document (Decree 30): the copy form, the agency's
    name and the signing time at the top right of page 1, signed with the agency key; numbered
    in the series of its form (``05/SY-UBND``)."""
    parts = _read_parts(file, container.settings.max_upload_bytes) if file else None
    rec = service.make_agency_copy(
        db,
        store,
        copy_stamp(container),
        caller=caller,
        form=form,
        document_id=document_id,
        parts=parts,
        title=title,
        copies=copies,
        level=_level(db, container, caller.person.org_id),
        base_url=container.settings.base_url,
    )
    return _out(rec, container)


@router.get("/api/v1/copies", response_model=list[CopyOut], responses=problem_responses(401, 403, 422),
            dependencies=[require_roles(*READERS)])
def list_copies(db: SessionDep, caller: CallerDep, container: ContainerDep,
                year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
                kind: Annotated[Literal["certified", "SY", "SL", "TrS"] | None, Query()] = None,
                status: Annotated[Literal["active", "revoked"] | None, Query()] = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 100,
                offset: Annotated[int, Query(ge=0)] = 0) -> list[CopyOut]:
    """This agency's copies, newest first."""
    return [_out(r, container) for r in service.list_copies(db, org_id=caller.person.org_id, year=year, kind=kind,
                                                            status=status, limit=limit, offset=offset)]


@router.post("/api/v1/copies/books", status_code=201, response_model=BookOut,
             responses=problem_responses(401, 403), dependencies=[require_roles("certifier")])
def open_book(db: SessionDep, caller: CallerDep) -> BookOut:
    """Open the next book (quyển) of the SCT/BS register this year; numbering continues."""
    from ioffice.kernel.workcalendar import vn_today

    year = vn_today().year
    return BookOut(year=year, book=service.open_new_book(db, caller=caller, year=year))


@router.get("/api/v1/copies/{copy_id}", response_model=CopyOut, responses=problem_responses(401, 403, 404),
            dependencies=[require_roles(*READERS)])
def get_copy(copy_id: str, db: SessionDep, caller: CallerDep, container: ContainerDep) -> CopyOut:
    return _out(service.get_copy(db, org_id=caller.person.org_id, copy_id=copy_id), container)


@router.get("/api/v1/copies/{copy_id}/content", response_class=StreamingResponse,
            responses={200: {"content": {"application/pdf": {}}}, **problem_responses(401, 403, 404, 503)},
            dependencies=[require_roles(*READERS)])
@writes
def copy_content(copy_id: str, db: SessionDep, store: StoreDep, caller: CallerDep) -> StreamingResponse:
    """The signed copy (PDF)."""
    rec = service.get_copy(db, org_id=caller.person.org_id, copy_id=copy_id)
    f = store.open(rec.sha256)
    audit.record(db, caller=caller, action="copy.download", object_type="copy", object_id=rec.id,
                 details={"sha256": rec.sha256})
    name = f"ban-sao-{rec.year}-{rec.number:02d}.pdf"
    return StreamingResponse(stream_file(f), media_type="application/pdf",
                             headers={"Content-Disposition": content_disposition(name),
                                      "Content-Length": str(rec.size), "X-Content-SHA256": rec.sha256})


@router.post("/api/v1/copies/{copy_id}/revoke", response_model=CopyOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles("certifier", "clerk")])
def revoke_copy(copy_id: str, body: RevokeIn, db: SessionDep, caller: CallerDep,
                container: ContainerDep) -> CopyOut:
    """Revoke a copy (certified copies: certifiers only); the public status changes at once."""
    return _out(service.revoke(db, caller=caller, copy_id=copy_id, reason=body.reason), container)


@router.get("/api/v1/reports/copies", response_model=CopiesReportOut, responses=problem_responses(401, 403, 422),
            dependencies=[require_roles("certifier", "clerk", "leader", "unit_head")])
def report(db: SessionDep, caller: CallerDep,
           date_from: Annotated[date, Query(alias="from", description="certification date from")],
           date_to: Annotated[date, Query(alias="to", description="certification date to (inclusive)")]
           ) -> CopiesReportOut:
    """Certified copies and fees per month of the period."""
    periods = copies_report(db, org_id=caller.person.org_id, date_from=date_from, date_to=date_to)
    return CopiesReportOut(date_from=date_from, date_to=date_to,
                           periods=[PeriodOut(period=p.period, requests=p.requests, copies=p.copies, pages=p.pages,
                                              fee=p.fee) for p in periods],
                           total_requests=sum(p.requests for p in periods),
                           total_copies=sum(p.copies for p in periods), total_fee=sum(p.fee for p in periods))


# ------------------------------------------------------------------ public, no account

def public_status(container: Container, code: str) -> dict[str, Any]:
    with container.sessions() as s:
        return service.public_view(s, service.find_by_code(s, code))


@router.get("/api/v1/public/copies/{code}", response_model=PublicCopyOut, responses=problem_responses(404, 422, 429))
async def public_copy(code: str, request: Request, container: ContainerDep) -> dict[str, Any]:
    """A copy's public status (no account): active or revoked, agency, number, book, date, title,
    pages, the requester's masked name. Never the identity number."""
    await run_in_threadpool(rate_limit, container, request, "copy-code")
    return await run_in_threadpool(public_status, container, code)


def copy_section(container: Container, data: bytes, sha256: str | None = None) -> dict[str, Any] | None:
    """The validation report's ``copy`` section for an uploaded file (by its hash or its code).
    ``sha256``: the file's hash when already known (the validation report's), so that a large
    upload is not hashed a second time."""
    import hashlib

    from signing.copystamp import embedded_code

    with container.read_session() as s:  # read-only: never the SQLite write lock
        return service.report_copy_section(s, sha256=sha256 or hashlib.sha256(data).hexdigest(),
                                           embedded_code=embedded_code(data))


__all__ = ["router", "copy_section", "public_status", "rules"]
