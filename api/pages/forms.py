"""New documents from the browser: the clerk receives an incoming document (upload with its
metadata, then checks and registers it on the document page), a drafter starts an outgoing draft.
Also the registers page (links to the JSON/CSV/PDF register routes)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from pydantic import ValidationError

from ioffice import documents as docs
from ioffice.documents.doctypes import DOC_TYPES
from ioffice.kernel.errors import DomainError, InvalidInput, PermissionDenied

from ..deps import ContainerDep, SessionDep, StoreDep
from ..incoming_check import check_after_commit
from .common import redirect, render
from .documents import actor_of
from .session import Csrf, PageUser

router = APIRouter(include_in_schema=False)

FIELDS = ("doc_type", "summary", "number_symbol", "issuing_body", "issued_date", "signer_name",
          "signer_position", "urgency", "secrecy", "due_date", "place")


def _may_create(user, direction: str) -> None:
    if direction == "incoming" and not user.has_role("clerk"):
        raise PermissionDenied("Chỉ văn thư tiếp nhận văn bản đến.")
    if direction == "outgoing" and not user.has_role("clerk", "specialist", "unit_head", "leader"):
        raise PermissionDenied("Vai trò của bạn không soạn được dự thảo.")


def _form(request: Request, direction: str, values: dict, error: str | None = None, status_code: int = 200):
    return render(request, "new_document.html", {"direction": direction, "values": values, "error": error,
                                                 "doc_types": list(DOC_TYPES)}, status_code=status_code)


@router.get("/documents/new")
def new_document_page(request: Request, user: PageUser, direction: str = "incoming"):
    direction = direction if direction in ("incoming", "outgoing") else "incoming"
    _may_create(user, direction)
    return _form(request, direction, {"doc_type": "Công văn"})


@router.post("/documents/new", dependencies=[Csrf])
def create(request: Request, db: SessionDep, store: StoreDep, user: PageUser, container: ContainerDep,
           background: BackgroundTasks, direction: Annotated[str, Form()] = "incoming",
           file: Annotated[UploadFile | None, File()] = None,
           doc_type: Annotated[str, Form(max_length=64)] = "", summary: Annotated[str, Form(max_length=4000)] = "",
           number_symbol: Annotated[str, Form(max_length=128)] = "",
           issuing_body: Annotated[str, Form(max_length=255)] = "", issued_date: Annotated[str, Form()] = "",
           signer_name: Annotated[str, Form(max_length=255)] = "",
           signer_position: Annotated[str, Form(max_length=128)] = "", urgency: Annotated[str, Form()] = "",
           secrecy: Annotated[str, Form()] = "", due_date: Annotated[str, Form()] = "",
           recipients: Annotated[str, Form(max_length=20000)] = ""):
    direction = direction if direction in ("incoming", "outgoing") else "incoming"
    _may_create(user, direction)
    values = {"doc_type": doc_type, "summary": summary, "number_symbol": number_symbol,
              "issuing_body": issuing_body, "issued_date": issued_date, "signer_name": signer_name,
              "signer_position": signer_position, "urgency": urgency, "secrecy": secrecy, "due_date": due_date,
              "recipients": recipients}
    try:
        if file is None or not file.filename:
            raise InvalidInput("Hãy chọn tệp PDF của văn bản.")
        data: dict[str, Any] = {k: v.strip() for k, v in values.items() if k != "recipients" and v and v.strip()}
        for key in ("issued_date", "due_date"):
            if key in data:
                try:
                    data[key] = date.fromisoformat(data[key])
                except ValueError as exc:
                    raise InvalidInput("Ngày không đúng định dạng.") from exc
        data["recipients"] = [r.strip() for r in recipients.splitlines() if r.strip()]
        try:
            meta = docs.DocumentMetadata.model_validate({"direction": direction, **data})
        except ValidationError as exc:
            missing = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            label = {"summary": "Trích yếu", "doc_type": "Loại văn bản"}
            names = ", ".join(label.get(m, m) for m in sorted(missing))
            raise InvalidInput(f"Thông tin chưa hợp lệ: {names}.") from exc
        doc = docs.create_document(db, store, caller=actor_of(request, user), metadata=meta, file=file.file,
                                   filename=file.filename, max_size=container.settings.max_upload_bytes)
    except DomainError as exc:
        db.rollback()
        return _form(request, direction, values, exc.detail, status_code=exc.status)
    if direction == "incoming":  # the check at the door, once this transaction has committed
        background.add_task(check_after_commit, container, doc.id)
    return redirect(f"/documents/{doc.id}?msg=created")


@router.get("/registers")
def registers_page(request: Request, user: PageUser, year: int | None = None):
    if not user.has_role("clerk", "unit_head", "leader"):
        raise PermissionDenied("Vai trò của bạn không xem được sổ văn bản.")
    from ioffice.kernel.workcalendar import vn_today

    this_year = vn_today().year
    year = year if year and 2000 <= year <= 2100 else this_year
    books = [("incoming", "Sổ đăng ký văn bản đến"), ("outgoing", "Sổ đăng ký văn bản đi"),
             ("follow-up", "Sổ theo dõi giải quyết văn bản đến"), ("copies", "Sổ đăng ký bản sao")]
    return render(request, "registers.html", {"year": year, "books": books,
                                              "years": list(range(this_year, this_year - 6, -1))})


@router.get("/registers/{kind}/{year}")
def register_book(request: Request, kind: str, year: int, db: SessionDep, user: PageUser, q: str | None = None,
                  format: str = "html"):
    """A register as an HTML table (the same rows as the JSON route), or its CSV / printable PDF
    export (the register routes' own renderer)."""
    from ioffice import registers
    from ioffice.handling import followup

    if not user.has_role("clerk", "unit_head", "leader"):
        raise PermissionDenied("Vai trò của bạn không xem được sổ văn bản.")
    if not 1900 <= year <= 2999:
        raise InvalidInput("Năm không hợp lệ.")
    fns = {"incoming": registers.incoming_register, "outgoing": registers.outgoing_register,
           "copies": registers.copies_register, "follow-up": followup.follow_up_register}
    if kind not in fns:
        raise InvalidInput("Không có sổ này.")
    q = (q or "").strip()[:200] or None
    book = fns[kind](db, org_id=user.org_id, year=year, q=q)
    if format in ("csv", "pdf"):
        from ..routes.registers import _render

        return _render(db, user.org_id, book, format)
    return render(request, "register_book.html", {"book": book, "kind": kind, "year": year, "q": q or ""})
