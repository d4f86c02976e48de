"""Document pages: the list with filters and search, the document page (metadata, page previews,
versions, signature panel, workflow, history timeline), downloads and preview images."""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, StreamingResponse
from sqlalchemy import select

from ioffice import documents as docs
from ioffice import handling as workflow
from ioffice import review as routing
from ioffice import tasks
from ioffice.accounts.models import Unit, User
from ioffice.audit.models import AuditEvent
from ioffice.documents.models import Document
from ioffice.kernel.caller import Caller
from ioffice.kernel.errors import InvalidInput, PermissionDenied

from ..deps import ContainerDep, SessionDep, StoreDep, client_addr, writes
from . import previews
from .common import render
from .session import PageUser

router = APIRouter(include_in_schema=False)

READERS = ("clerk", "specialist", "unit_head", "leader")
PAGE_SIZE = 25


def require_reader(user: User) -> None:
    if not user.has_role(*READERS):
        raise PermissionDenied("Vai trò của bạn không được xem văn bản.")


def actor_of(request: Request, user: User) -> Caller:
    return Caller.of(user, client_addr=client_addr(request))


def _date(value: str | None, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{label} không đúng định dạng ngày.") from exc


@router.get("/documents")
def list_page(request: Request, db: SessionDep, user: PageUser, direction: str | None = None,
              doc_type: str | None = None, status: str | None = None, q: str | None = None,
              date_from: str | None = None, date_to: str | None = None, page: int = 1):
    require_reader(user)
    direction = direction if direction in ("incoming", "outgoing") else None
    q = (q or "").strip()[:200] or None
    page = max(1, min(page, 10000))
    f = docs.DocumentFilter(direction=direction, doc_type=doc_type or None, status=status or None, q=q,
                            date_from=_date(date_from, "Từ ngày"), date_to=_date(date_to, "Đến ngày"),
                            limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    rows, total = docs.list_documents(db, org_id=user.org_id, f=f)
    params = {k: v for k, v in dict(direction=direction, doc_type=doc_type, status=status, q=q,
                                    date_from=date_from, date_to=date_to).items() if v}
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)

    def page_url(n: int) -> str:
        return "/documents?" + urlencode({**params, "page": n})

    return render(request, "documents.html", {
        "rows": rows, "total": total, "page": page, "pages": pages, "filters": params, "page_url": page_url,
        "arrival": {d.id: (d.extra or {}).get("arrival_number") for d in rows}})


def load_document(db, user: User, document_id: str) -> Document:
    require_reader(user)
    return docs.get_document(db, org_id=user.org_id, document_id=document_id)


def document_context(db, user: User, doc: Document) -> dict[str, Any]:
    """Everything the document page shows (the core calls of this page, in one place)."""
    version = docs.current_version(db, doc)
    names = {u.id: u for u in db.scalars(select(User).where(User.org_id == user.org_id))}
    units = {u.id: u for u in db.scalars(select(Unit).where(Unit.org_id == user.org_id))}
    rounds = [(r, routing.steps_of(db, round_id=r.id)) for r in routing.rounds_of(db, org_id=doc.org_id,
                                                                                    document_id=doc.id)]
    assignments = workflow.assignments_of(db, org_id=doc.org_id, document_id=doc.id)
    notes = workflow.notes_of(db, document_id=doc.id)
    my = [t for t in tasks.my_tasks(db, user=user) if t.document_id == doc.id]
    history = list(db.scalars(select(AuditEvent).where(
        AuditEvent.org_id == user.org_id, AuditEvent.object_type == "document", AuditEvent.object_id == doc.id,
        AuditEvent.action != "document.download").order_by(AuditEvent.at, AuditEvent.id)))
    pages = min(version.page_count or doc.page_count or 1, previews.MAX_PREVIEW_PAGES) if version else 0
    return {
        "doc": doc, "version": version, "versions": list(doc.versions), "names": names, "units": units,
        "rounds": rounds, "assignments": assignments, "notes": notes, "my_tasks": my,
        "task_kinds": {t.kind for t in my}, "history": history, "pages": pages,
        "actions": available_actions(user, doc, my),
        "outcomes": {a.id: workflow.outcome(a) for a in assignments
                     if a.role != "info" and a.status in ("assigned", "in_progress", "completed")},
    }


def available_actions(user: User, doc: Document, my: list) -> set[str]:
    kinds = {t.kind for t in my}
    acts: set[str] = set()
    if doc.direction == "incoming":
        if user.has_role("clerk") and doc.status == "received":
            acts |= {"register", "return"}
        if "assign" in kinds or (user.has_role("leader") and doc.status in ("registered", "assigned")):
            acts.add("assign")
        if "pass_on" in kinds:
            acts.add("pass_on")
        if "handle" in kinds:
            acts |= {"progress", "complete"}
        if "read" in kinds:
            acts.add("acknowledge")
    else:
        drafter = doc.created_by == user.id
        if drafter and doc.status in ("draft", "returned", "approved"):
            acts.add("new_version")
        if drafter and doc.status in ("draft", "returned"):
            acts.add("submit")
        if drafter and doc.status in ("draft", "returned", "in_review"):
            acts.add("withdraw")
        if "review" in kinds:
            acts.add("review")
        signed_by_me = any(v.kind == "signed" and v.created_by == user.id for v in doc.versions)
        if user.has_role("leader", "unit_head") and doc.status in ("approved", "signed") and not signed_by_me:
            acts.add("sign")
        if user.has_role("clerk") and doc.status in ("approved", "signed"):
            acts.add("issue")
    return acts


def render_document(request: Request, db, user: User, doc: Document, extra: dict | None = None,
                    status_code: int = 200):
    ctx = document_context(db, user, doc)
    if user.has_role("leader") and "assign" in ctx["actions"]:
        ctx["staff"] = [u for u in ctx["names"].values()
                        if u.is_active and u.has_role("specialist", "unit_head", "leader") and u.id != user.id]
    if "pass_on" in ctx["actions"] and user.unit_id:
        ctx["unit_staff"] = [u for u in ctx["names"].values()
                             if u.is_active and u.unit_id == user.unit_id and u.id != user.id]
    if "sign" in ctx["actions"]:
        from ioffice import signing_methods

        ctx["sign_method"] = signing_methods.effective_method(db, user)
    if "submit" in ctx["actions"]:
        ctx["templates_"] = routing.list_templates(db, org_id=user.org_id)
    ctx["sig_check"] = _signature_check_view(doc)
    ctx.update(extra or {})
    return render(request, "document.html", ctx, status_code=status_code)


SIG_CHECK_LOOK = {  # verdict -> (icon, tone, words): never colour alone
    "valid": ("✔", "ok", "Chữ ký số hợp lệ"),
    "valid_with_changes": ("✔", "ok", "Chữ ký số hợp lệ, có bổ sung được phép sau khi ký"),
    "no_signature": ("•", "muted", "Văn bản không có chữ ký số"),
    "modified": ("✖", "bad", "Văn bản đã bị thay đổi sau khi ký"),
    "invalid": ("✖", "bad", "Chữ ký số không hợp lệ"),
    "unreadable": ("⚠", "warn", "Không kiểm tra được chữ ký số"),
}


def _signature_check_view(doc: Document) -> dict | None:
    """The check at the door, for the clerk: verdict in words and icon, summary, time, held or not."""
    from datetime import datetime

    from ioffice.documents import signature_check

    check = signature_check.of(doc)
    if check is None:
        return None
    icon, tone, words = SIG_CHECK_LOOK.get(str(check.get("verdict")), ("⚠", "warn", "Chưa rõ kết quả kiểm tra"))
    try:
        checked_at = datetime.fromisoformat(str(check.get("checked_at")))
    except ValueError:
        checked_at = None
    return {"icon": icon, "tone": tone, "words": words, "summary": check.get("summary") or "",
            "problems": [str(p) for p in check.get("problems") or []][:5],
            "trusted": bool(check.get("trusted")), "checked_at": checked_at,
            "held": signature_check.is_held(doc)}


@router.get("/documents/{document_id}")
def document_page(request: Request, document_id: str, db: SessionDep, user: PageUser, msg: str | None = None):
    doc = load_document(db, user, document_id)
    return render_document(request, db, user, doc, {"flash": FLASH.get(msg or "")})


FLASH = {
    "created": "Đã tải lên văn bản.", "registered": "Đã vào sổ văn bản đến.", "returned": "Đã trả lại nơi gửi.",
    "assigned": "Đã giao xử lý.", "passed": "Đã chuyển cho người xử lý.", "progress": "Đã ghi nhận tiến độ.",
    "completed": "Đã hoàn thành xử lý.", "submitted": "Đã trình duyệt dự thảo.", "approved": "Đã đồng ý dự thảo.",
    "review_returned": "Đã trả lại dự thảo kèm ý kiến.", "signed": "Đã ký số văn bản.",
    "issued": "Đã phát hành văn bản.", "version": "Đã tải lên phiên bản mới.", "withdrawn": "Đã rút dự thảo.",
    "read": "Đã đánh dấu đã đọc.", "extended": "Đã gia hạn xử lý.",
}


@router.get("/documents/{document_id}/sign-preview")
def sign_preview(request: Request, document_id: str, db: SessionDep, store: StoreDep, user: PageUser,
                 container: ContainerDep):
    """The official's preview: the pages as signing now would make them (nothing signed or stored)."""
    from ioffice import signatures
    from ioffice.kernel.errors import DomainError

    from ..routes.preview import render_pages
    from ..signing_adapter import adapter

    doc = load_document(db, user, document_id)
    try:
        pdf = signatures.preview_sign(db, store, adapter(container), caller=actor_of(request, user),
                                      document_id=document_id, kind="personal")
        pages, _count = render_pages(pdf, 60)
    except DomainError as exc:  # e.g. no room between the position line and the name
        db.rollback()
        return render_document(request, db, user, doc, {"error": exc.detail}, status_code=exc.status)
    version = docs.current_version(db, doc)
    return render(request, "sign_preview.html", {"doc": doc, "pages": pages[:4], "version": version})


@router.get("/documents/{document_id}/signatures")
def signature_panel(request: Request, document_id: str, db: SessionDep, user: PageUser, container: ContainerDep,
                    version_id: str | None = None):
    """The validation report of a version, in plain words (an htmx fragment, or a page without JS)."""
    doc = load_document(db, user, document_id)
    version = (docs.get_version(db, org_id=user.org_id, document_id=doc.id, version_id=version_id)
               if version_id else docs.current_version(db, doc))
    report = previews.signature_report(container, version.sha256) if version else None
    fragment = request.headers.get("HX-Request") == "true"
    return render(request, "_signatures.html" if fragment else "signatures.html",
                  {"doc": doc, "version": version, "report": report})


@router.get("/documents/{document_id}/versions/{version_id}/pages/{page}.png")
def page_image(document_id: str, version_id: str, page: int, db: SessionDep, user: PageUser,
               container: ContainerDep):
    load_document(db, user, document_id)
    version = docs.get_version(db, org_id=user.org_id, document_id=document_id, version_id=version_id)
    if page < 1 or page > max(version.page_count or 1, 1) or page > previews.MAX_PREVIEW_PAGES:
        raise InvalidInput("Trang không tồn tại.")
    path = previews.page_png(container, version.sha256, page)
    return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


@router.get("/documents/{document_id}/download")
@writes
def download(request: Request, document_id: str, db: SessionDep, user: PageUser, container: ContainerDep,
             version_id: str | None = None):
    require_reader(user)
    version, f = docs.open_content(db, container.store, caller=actor_of(request, user), document_id=document_id,
                                   version_id=version_id)
    from ..download import content_disposition
    from ..routes.documents import stream_file

    return StreamingResponse(stream_file(f), media_type=version.media_type, headers={
        "Content-Disposition": content_disposition(version.filename),
        "Content-Length": str(version.size), "Cache-Control": "private, no-store"})
