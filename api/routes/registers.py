"""Registers: incoming registration and return, outgoing issue, deliveries, the Decree 30 registers
(JSON, CSV, PDF) and the follow-up report."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ioffice import delivery, registers
from ioffice.accounts.models import Organisation
from ioffice.handling import followup
from ioffice.kernel.errors import InvalidInput, PermissionDenied
from ioffice.registers import numbering

from .. import exports
from ..deps import CallerDep, ContainerDep, SessionDep, StoreDep, own_transactions, problem_responses, require_roles

router = APIRouter(tags=["registers"])

CLERK = ("clerk",)
REGISTER_READERS = ("clerk", "unit_head", "leader")
DOC_READERS = ("clerk", "specialist", "unit_head", "leader")


# ------------------------------------------------------------------ models


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm_duplicate: bool = Field(default=False, description="register even though a likely duplicate exists")
    confirm_signature_problem: bool = Field(
        default=False, description="register even though its signatures were found modified or invalid at upload")
    recipient: str | None = Field(default=None, max_length=255, description="Đơn vị hoặc người nhận")
    notes: str | None = Field(default=None, max_length=2000)


class RegisterOut(BaseModel):
    document_id: str
    arrival_number: int
    arrival_number_display: str = Field(description="zero-padded, e.g. 05")
    arrival_date: date
    arrival_time: datetime
    year: int
    series: str
    status: str
    duplicate_of: str | None = None


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=2000, description="Lý do trả lại (may be empty when the check "
                        "at the door found the signatures modified or invalid: that finding is the reason)")


class ReturnOut(BaseModel):
    document_id: str
    status: str
    reason: str


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issued_date: date | None = Field(default=None, description="defaults to today in Vietnam")
    recipient_org_ids: list[str] = Field(default_factory=list, max_length=200,
                                         description="organisations of this installation to deliver to, "
                                                     "besides those matched in the document's recipients")
    notes: str | None = Field(default=None, max_length=2000)
    copies: int | None = Field(default=None, ge=1, le=10000, description="Số lượng bản (paper copies)")


class DeliveryOut(BaseModel):
    id: str
    recipient_org_id: str
    recipient_name: str
    recipient_organ_code: str | None
    status: int = Field(
        description="QCVN 102: 1 received, 2 rejected, 3 accepted, 4 assigned, 5 processing, 6 completed"
    )
    status_label: str
    sent_at: datetime
    received_at: datetime | None
    acknowledged_at: datetime | None
    note: str | None


class IssueOut(BaseModel):
    document_id: str
    number: int
    number_display: str
    symbol: str
    issued_date: date
    series: str
    status: str
    version: str = Field(description="id of the final (issued) version")
    sha256: str
    deliveries: list[DeliveryOut]


class ColumnOut(BaseModel):
    key: str
    label: str


class RegisterBookOut(BaseModel):
    kind: str
    year: int
    title: str
    organisation: str
    columns: list[ColumnOut]
    rows: list[dict[str, Any]] = Field(description="column key → display text, plus document_id")
    total: int


class FollowUpCountOut(BaseModel):
    unit: str
    handler: str
    on_time: int
    late: int
    overdue: int
    pending: int
    total: int


class FollowUpReportOut(BaseModel):
    date_from: date
    date_to: date
    by_unit: list[FollowUpCountOut]
    by_handler: list[FollowUpCountOut]


# ------------------------------------------------------------------ helpers


def _delivery_out(receipt: delivery.DeliveryReceipt, org: Organisation, status: int) -> DeliveryOut:
    return DeliveryOut(id=receipt.id, recipient_org_id=org.id, recipient_name=org.name,
                       recipient_organ_code=org.organ_code, status=status,
                       status_label=delivery.STATUS_LABELS[status], sent_at=receipt.sent_at,
                       received_at=receipt.received_at, acknowledged_at=receipt.acknowledged_at, note=receipt.note)


def _book_out(book: registers.Register) -> RegisterBookOut:
    return RegisterBookOut(kind=book.kind, year=book.year, title=book.title, organisation=book.organisation,
                           columns=[ColumnOut(key=k, label=v) for k, v in book.columns], rows=book.rows,
                           total=len(book.rows))


def _render(db: Session, org_id: str, book: registers.Register, fmt: str) -> RegisterBookOut | Response:
    if fmt == "json":
        return _book_out(book)
    filename = f"so-{book.kind}-{book.year}"
    if fmt == "csv":
        return Response(exports.to_csv(book), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    org = db.get(Organisation, org_id)
    pdf = exports.to_pdf(book, parent_body=org.parent_name if org else None)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'})


_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {}, "text/csv": {}, "application/pdf": {}},
        "description": "the register as JSON, CSV (UTF-8 with BOM) or printable PDF",
    }
}
FormatQuery = Annotated[Literal["json", "csv", "pdf"], Query(description="json (default), csv or pdf")]
SearchQuery = Annotated[str | None, Query(max_length=200, description="text anywhere in the row "
                                                                      "(case and diacritics insensitive)")]
YearPath = Annotated[int, Path(ge=1900, le=2999)]


# ------------------------------------------------------------------ documents


@router.post("/api/v1/documents/{document_id}/register", response_model=RegisterOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles(*CLERK)])
def register_document(document_id: str, db: SessionDep, caller: CallerDep,
                      body: Annotated[RegisterIn | None, Body()] = None) -> RegisterOut:
    """Enter a received document in the incoming register: the next arrival number of the year.

    A likely duplicate (same issuer, number/symbol and date already registered) → 409 with
    ``duplicate_of`` naming the earlier document, unless ``confirm_duplicate`` is true. A document
    whose signatures were found ``modified`` or ``invalid`` at upload → 409 with the reason and
    ``signature_check``, unless ``confirm_signature_problem`` is true.
    """
    body = body or RegisterIn()
    reg = registers.register_incoming(db, caller=caller, document_id=document_id,
                                      confirm_duplicate=body.confirm_duplicate,
                                      confirm_signature_problem=body.confirm_signature_problem,
                                      recipient=body.recipient,
                                      notes=body.notes)
    e = reg.entry
    return RegisterOut(document_id=reg.document.id, arrival_number=e.arrival_number,
                       arrival_number_display=numbering.format_number(e.arrival_number), arrival_date=e.arrival_date,
                       arrival_time=e.arrival_at, year=e.year, series=e.series, status=reg.document.status,
                       duplicate_of=e.duplicate_of)


@router.post("/api/v1/documents/{document_id}/return", response_model=ReturnOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles(*CLERK)])
def return_document(document_id: str, body: ReturnIn, db: SessionDep, caller: CallerDep) -> ReturnOut:
    """Return a received (misaddressed or failing) document to its sender with a reason."""
    doc = registers.return_incoming(db, caller=caller, document_id=document_id, reason=body.reason)
    return ReturnOut(document_id=doc.id, status=doc.status, reason=(doc.extra or {}).get("return_reason") or "")


@router.post("/api/v1/documents/{document_id}/issue", response_model=IssueOut,
             responses=problem_responses(401, 403, 404, 409, 422, 503), dependencies=[require_roles(*CLERK)])
@own_transactions
def issue_document(document_id: str, db: SessionDep, store: StoreDep, caller: CallerDep, container: ContainerDep,
                   body: Annotated[IssueIn | None, Body()] = None) -> IssueOut:
    """Issue an approved (or signed) outgoing document: number from the right series, Decree 30
    symbol, date, outgoing register row, final version, delivery to agencies on this installation."""
    body = body or IssueIn()
    from ..signing_adapter import adapter

    res = registers.issue_outgoing(db, store, caller=caller, document_id=document_id, issued_date=body.issued_date,
                                   pdf=adapter(container), recipient_org_ids=body.recipient_org_ids,
                                   notes=body.notes, copies=body.copies, sessions=container.sessions)
    rows = delivery.list_deliveries(db, org_id=caller.person.org_id, document_id=res.document.id)
    return IssueOut(document_id=res.document.id, number=res.entry.number,
                    number_display=numbering.format_number(res.entry.number), symbol=res.entry.symbol,
                    issued_date=res.entry.issued_date, series=res.entry.series, status=res.document.status,
                    version=res.version_id, sha256=res.sha256, deliveries=[_delivery_out(*row) for row in rows])


class RecallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="Lý do thu hồi")


class RecallDone(BaseModel):
    document_id: str
    status: str
    reason: str


@router.post("/api/v1/documents/{document_id}/recall", response_model=RecallDone,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles(*CLERK)])
def recall_document(document_id: str, body: RecallIn, db: SessionDep, caller: CallerDep) -> RecallDone:
    """Recall an issued document: it is frozen, marked in the outgoing register, and the copies
    delivered to agencies on this installation show the recall and its reason."""
    from ioffice.registers.recall import recall_outgoing

    doc = recall_outgoing(db, caller=caller, document_id=document_id, reason=body.reason)
    return RecallDone(document_id=doc.id, status=doc.status, reason=body.reason.strip())


@router.get("/api/v1/documents/{document_id}/deliveries", response_model=list[DeliveryOut],
            responses=problem_responses(401, 403, 404), dependencies=[require_roles(*DOC_READERS)])
def list_deliveries(document_id: str, db: SessionDep, caller: CallerDep) -> list[DeliveryOut]:
    """Where an issued document went on this installation and how far each recipient got with it."""
    return [_delivery_out(*row) for row in delivery.list_deliveries(db, org_id=caller.person.org_id,
                                                                     document_id=document_id)]


# ------------------------------------------------------------------ registers and reports


@router.get("/api/v1/registers/follow-up/{year}", response_model=RegisterBookOut,
            responses={**_EXPORT_RESPONSES, **problem_responses(401, 403, 422, 503)},
            dependencies=[require_roles(*REGISTER_READERS)])
def follow_up_register(year: YearPath, db: SessionDep, caller: CallerDep, format: FormatQuery = "json",
                       q: SearchQuery = None) -> RegisterBookOut | Response:
    """The follow-up register (sổ theo dõi giải quyết văn bản đến) of ``year``."""
    book = followup.follow_up_register(db, org_id=caller.person.org_id, year=year, q=q)
    return _render(db, caller.person.org_id, book, format)


@router.get("/api/v1/registers/{kind}/{year}", response_model=RegisterBookOut,
            responses={**_EXPORT_RESPONSES, **problem_responses(401, 403, 422, 503)},
            dependencies=[require_roles(*REGISTER_READERS, "certifier")])
def get_register(kind: Literal["incoming", "outgoing", "copies"], year: YearPath, db: SessionDep, caller: CallerDep,
                 format: FormatQuery = "json", q: SearchQuery = None) -> RegisterBookOut | Response:
    """The incoming, outgoing or certified-copies register of ``year`` with the Decree 30 columns
    (certifiers read the certified-copies register only)."""
    if kind != "copies" and not caller.person.has_role(*REGISTER_READERS):
        raise PermissionDenied("Vai trò của bạn không được phép xem sổ này.")
    fn = {"incoming": registers.incoming_register, "outgoing": registers.outgoing_register,
          "copies": registers.copies_register}[kind]
    return _render(db, caller.person.org_id, fn(db, org_id=caller.person.org_id, year=year, q=q), format)


@router.get("/api/v1/reports/follow-up", response_model=FollowUpReportOut,
            responses=problem_responses(401, 403, 422), dependencies=[require_roles(*REGISTER_READERS)])
def follow_up_report(db: SessionDep, caller: CallerDep,
                     date_from: Annotated[date, Query(alias="from", description="arrival date from")],
                     date_to: Annotated[date, Query(alias="to", description="arrival date to (inclusive)")]
                     ) -> FollowUpReportOut:
    """Incoming documents per unit and handler: handled on time, late, overdue and pending."""
    if not (date(1900, 1, 1) <= date_from <= date(2999, 12, 31) and date(1900, 1, 1) <= date_to <= date(2999, 12, 31)):
        raise InvalidInput("Ngày phải trong khoảng từ năm 1900 đến năm 2999.")
    if (date_to - date_from).days > 3660:
        raise InvalidInput("Khoảng thời gian tối đa 10 năm.")
    by_unit, by_handler = followup.follow_up_report(
        db, org_id=caller.person.org_id, date_from=date_from, date_to=date_to
    )

    def out(c: followup.FollowUpCount) -> FollowUpCountOut:
        return FollowUpCountOut(unit=c.unit, handler=c.handler, on_time=c.on_time, late=c.late, overdue=c.overdue,
                                pending=c.pending, total=c.total)

    return FollowUpReportOut(date_from=date_from, date_to=date_to, by_unit=[out(c) for c in by_unit],
                             by_handler=[out(c) for c in by_handler])
