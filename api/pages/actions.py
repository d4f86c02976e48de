"""The work done from the document page: register or return (clerk), assign with a direction
(leader), pass on, record progress, complete, acknowledge (handlers), new version, submit,
withdraw (drafter), review (reviewers), sign with the server key (officials), issue (clerk).

Each POST checks the CSRF token, calls the same core service as the JSON route, and answers with
a redirect to the document page, or the page again with the error in plain words."""
from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile

from ioffice import handling as workflow
from ioffice import registers, signatures
from ioffice import review as routing
from ioffice.kernel.errors import Conflict, DomainError, InvalidInput

from ..deps import ContainerDep, SessionDep, StoreDep, own_transactions
from .common import redirect, render
from .documents import actor_of, load_document, render_document
from .session import Csrf, PageUser

router = APIRouter(include_in_schema=False, dependencies=[Csrf])

Text = Annotated[str, Form(max_length=4000)]
STANDARD_ROUTES: dict[str, list[dict[str, Any]]] = {
    "unit_then_leader": [{"name": "Trưởng đơn vị xem xét", "roles": ["unit_head"], "same_unit": True},
                         {"name": "Lãnh đạo phê duyệt", "roles": ["leader"]}],
    "leader": [{"name": "Lãnh đạo phê duyệt", "roles": ["leader"]}],
}


def _done(document_id: str, msg: str):
    return redirect(f"/documents/{document_id}?msg={msg}")


def _failed(request: Request, db, user, document_id: str, exc: DomainError, **extra):
    db.rollback()
    doc = load_document(db, user, document_id)
    return render_document(request, db, user, doc, {"error": exc.detail, **extra}, status_code=exc.status)


def _date_or_none(value: str, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{label} không đúng định dạng ngày.") from exc


def _doc_of_assignment(db, user, assignment_id: str) -> str:
    return workflow.get_assignment(db, org_id=user.org_id, assignment_id=assignment_id).document_id


# ----------------------------------------------------------------------------- clerk, incoming

@router.post("/documents/{document_id}/register")
def register(request: Request, document_id: str, db: SessionDep, user: PageUser,
             confirm_duplicate: Annotated[str, Form()] = "", confirm_signature_problem: Annotated[str, Form()] = "",
             notes: Text = ""):
    try:
        registers.register_incoming(db, caller=actor_of(request, user), document_id=document_id,
                                    confirm_duplicate=confirm_duplicate == "1",
                                    confirm_signature_problem=confirm_signature_problem == "1", notes=notes or None)
    except Conflict as exc:
        dup = exc.extra.get("duplicate_of")
        return _failed(request, db, user, document_id, exc, duplicate_of=dup)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "registered")


@router.post("/documents/{document_id}/return")
def return_to_sender(request: Request, document_id: str, db: SessionDep, user: PageUser,
                     reason: Annotated[str, Form(max_length=2000)] = ""):
    try:
        registers.return_incoming(db, caller=actor_of(request, user), document_id=document_id, reason=reason)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "returned")


# ----------------------------------------------------------------------------- leader, incoming

@router.post("/documents/{document_id}/assign")
async def assign(request: Request, document_id: str, db: SessionDep, user: PageUser):
    form = await request.form()
    try:
        lead: list[workflow.Target] = []
        co: list[workflow.Target] = []
        info: list[str] = []
        for key, value in form.multi_items():
            if not isinstance(value, str) or not value:
                continue
            if key.startswith("role_user_"):
                target = workflow.Target(user_id=key.removeprefix("role_user_"))
            elif key.startswith("role_unit_"):
                target = workflow.Target(unit_id=key.removeprefix("role_unit_"))
            else:
                continue
            if value == "lead":
                lead.append(target)
            elif value == "co":
                co.append(target)
            elif value == "info" and target.user_id:
                info.append(target.user_id)
        if len(lead) != 1:
            raise InvalidInput("Chọn đúng một người hoặc một đơn vị xử lý chính.")
        directions = str(form.get("directions", ""))[:4000]
        deadline = _date_or_none(str(form.get("deadline", "")), "Hạn xử lý")
        workflow.assign(db, caller=actor_of(request, user), document_id=document_id, lead=lead[0],
                        co_handlers=co, info_user_ids=info, directions=directions, deadline=deadline)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "assigned")


@router.post("/assignments/{assignment_id}/pass-on")
def pass_on(request: Request, assignment_id: str, db: SessionDep, user: PageUser,
            user_id: Annotated[str, Form()] = "", directions: Text = "", deadline: Annotated[str, Form()] = ""):
    document_id = _doc_of_assignment(db, user, assignment_id)
    try:
        workflow.pass_on(db, caller=actor_of(request, user), assignment_id=assignment_id,
                         to_user_id=user_id, directions=directions,
                         deadline=_date_or_none(deadline, "Hạn xử lý"))
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "passed")


@router.post("/assignments/{assignment_id}/progress")
def progress(request: Request, assignment_id: str, db: SessionDep, user: PageUser, note: Text = ""):
    document_id = _doc_of_assignment(db, user, assignment_id)
    try:
        if not note.strip():
            raise InvalidInput("Hãy ghi nội dung tiến độ.")
        workflow.record_progress(db, caller=actor_of(request, user), assignment_id=assignment_id,
                                 note=note)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "progress")


@router.post("/assignments/{assignment_id}/extend")
def extend(request: Request, assignment_id: str, db: SessionDep, user: PageUser,
           deadline: Annotated[str, Form()] = "", reason: Text = ""):
    """Extend the deadline of one's incoming work, with a reason."""
    document_id = _doc_of_assignment(db, user, assignment_id)
    try:
        try:
            new = date.fromisoformat(deadline)
        except ValueError as exc:
            raise InvalidInput("Hãy chọn hạn xử lý mới.") from exc
        workflow.extend_deadline(db, caller=actor_of(request, user), assignment_id=assignment_id, deadline=new,
                                 reason=reason)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "extended")


@router.post("/assignments/{assignment_id}/complete")
def complete(request: Request, assignment_id: str, db: SessionDep, user: PageUser, note: Text = ""):
    document_id = _doc_of_assignment(db, user, assignment_id)
    try:
        workflow.complete(db, caller=actor_of(request, user), assignment_id=assignment_id, note=note)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "completed")


@router.post("/assignments/{assignment_id}/read")
def acknowledge(request: Request, assignment_id: str, db: SessionDep, user: PageUser):
    document_id = _doc_of_assignment(db, user, assignment_id)
    try:
        workflow.acknowledge(db, caller=actor_of(request, user), assignment_id=assignment_id)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "read")


# ----------------------------------------------------------------------------- outgoing drafts

@router.post("/documents/{document_id}/versions")
def new_version(request: Request, document_id: str, db: SessionDep, store: StoreDep, user: PageUser,
                container: ContainerDep, file: Annotated[UploadFile | None, File()] = None):
    try:
        if file is None or not file.filename:
            raise InvalidInput("Hãy chọn tệp PDF của phiên bản mới.")
        routing.upload_new_version(db, store, caller=actor_of(request, user), document_id=document_id,
                                   file=file.file, filename=file.filename,
                                   max_size=container.settings.max_upload_bytes)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "version")


@router.post("/documents/{document_id}/submit")
def submit(request: Request, document_id: str, db: SessionDep, user: PageUser,
           route: Annotated[str, Form()] = "", comment: Text = ""):
    try:
        template_id, stages = None, None
        if route in STANDARD_ROUTES:
            stages = [routing.StageSpec.model_validate(s) for s in STANDARD_ROUTES[route]]
        elif route.startswith("template:"):
            template_id = route.removeprefix("template:")
        else:
            raise InvalidInput("Hãy chọn quy trình trình duyệt.")
        routing.submit(db, caller=actor_of(request, user), document_id=document_id,
                       template_id=template_id, stages=stages, comment=comment)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "submitted")


@router.post("/documents/{document_id}/withdraw")
def withdraw(request: Request, document_id: str, db: SessionDep, user: PageUser, comment: Text = ""):
    try:
        routing.withdraw(db, caller=actor_of(request, user), document_id=document_id, comment=comment)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "withdrawn")


@router.post("/documents/{document_id}/review")
def review(request: Request, document_id: str, db: SessionDep, user: PageUser,
           decision: Annotated[str, Form()] = "", comment: Text = "", step_id: Annotated[str, Form()] = "",
           expected_sha256: Annotated[str, Form()] = ""):
    try:
        if decision not in ("approve", "return"):
            raise InvalidInput("Hãy chọn đồng ý hoặc trả lại.")
        choice: Literal["approve", "return"] = "approve" if decision == "approve" else "return"
        routing.decide(db, caller=actor_of(request, user), document_id=document_id, decision=choice,
                       comment=comment, step_id=step_id or None, expected_sha256=expected_sha256 or None)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "approved" if decision == "approve" else "review_returned")


# ----------------------------------------------------------------------------- signing and issue

@router.post("/documents/{document_id}/sign")
@own_transactions  # read, sign with no transaction open, short guarded write (as the API's /sign)
def sign(request: Request, document_id: str, db: SessionDep, store: StoreDep, user: PageUser,
         container: ContainerDep, idempotency_key: Annotated[str, Form(max_length=128)] = ""):
    """Sign the current version with the official's key held on the server (the existing service)."""
    from ..signing_adapter import adapter

    try:
        a = adapter(container)
        signatures.sign_document(db, store, a, caller=actor_of(request, user), document_id=document_id,
                                 kind="personal", idempotency_key=idempotency_key or None, level=None,
                                 default_level=a.default_level(), max_size=container.settings.max_upload_bytes,
                                 sessions=container.sessions)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "signed")


@router.post("/documents/{document_id}/issue")
@own_transactions  # issuing writes in its own short transactions; the PDF work holds no lock
def issue(request: Request, document_id: str, db: SessionDep, store: StoreDep, user: PageUser,
          container: ContainerDep, confirm: Annotated[str, Form()] = "", issued_date: Annotated[str, Form()] = "",
          copies: Annotated[str, Form()] = "", notes: Annotated[str, Form(max_length=2000)] = ""):
    """First POST (without ``confirm``) shows the confirmation; the second issues."""
    try:
        when = _date_or_none(issued_date, "Ngày ban hành")
        n_copies = int(copies) if copies.strip() else None
        if n_copies is not None and not 1 <= n_copies <= 10000:
            raise InvalidInput("Số lượng bản phải từ 1 đến 10000.")
    except ValueError:
        return _failed(request, db, user, document_id, InvalidInput("Số lượng bản phải là số."))
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    if confirm != "1":
        from ..routes.preview import render_pages
        from ..signing_adapter import adapter

        doc = load_document(db, user, document_id)
        try:  # the stamp preview: what issuing now would produce (nothing numbered or stored)
            pdf, symbol = registers.preview_issue(db, store, adapter(container), caller=actor_of(request, user),
                                                  document_id=document_id, issued_date=when)
            pages, _count = render_pages(pdf, 60)
        except DomainError as exc:  # e.g. no room for the number in the draft: say so before issuing
            return _failed(request, db, user, document_id, exc)
        return render(request, "issue_confirm.html", {"doc": doc, "issued_date": issued_date, "copies": copies,
                                                      "notes": notes, "symbol": symbol, "pages": pages[:4]})
    actor = actor_of(request, user)
    try:
        from ..signing_adapter import adapter

        registers.issue_outgoing(db, store, caller=actor, document_id=document_id, issued_date=when,
                                 pdf=adapter(container), notes=notes or None, copies=n_copies,
                                 sessions=container.sessions)
    except DomainError as exc:
        return _failed(request, db, user, document_id, exc)
    return _done(document_id, "issued")


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(16)
