"""The certification desk (role certifier): upload the scan of the original (a PDF or the page
images), fill in the requester, the title and the number of copies, see the pages and the fee,
certify (the copies service numbers, stamps and signs it), print or download, revoke with a reason.

Two steps: «Xem trước» stores the scan and shows its pages and the fee; «Chứng thực» certifies the
stored scan. The scan travels between the steps as its SHA-256 plus an HMAC bound to the
certifier, so nobody can certify a stored file they did not upload themselves.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import ValidationError

from ioffice import audit
from ioffice.copies import CopyMetadata, rules, service
from ioffice.copies.intake import read_scan
from ioffice.kernel.errors import DomainError, InvalidInput, PayloadTooLarge, PermissionDenied
from ioffice.kernel.workcalendar import vn_today

from ..deps import ContainerDep, SessionDep, StoreDep, writes
from ..download import content_disposition
from . import previews
from .common import redirect, render
from .documents import actor_of
from .session import Csrf, PageUser

router = APIRouter(include_in_schema=False)
FIELDS = ("requester_name", "requester_id_number", "title", "copies", "notes")
FIELD_LABELS = {"requester_name": "Họ tên người yêu cầu", "requester_id_number": "Số CCCD/hộ chiếu",
                "title": "Tên giấy tờ, văn bản (bản chính)", "copies": "Số bản sao", "notes": "Ghi chú"}
FLASH = {"certified": "Đã chứng thực và ký số bản sao.", "revoked": "Đã thu hồi bản sao.",
         "book": "Đã mở quyển sổ chứng thực mới."}
COPY_STATUS = {"active": ("✔", "ok", "Còn hiệu lực"), "revoked": ("✖", "bad", "Đã thu hồi")}


def _require_certifier(user) -> None:
    if not user.has_role("certifier"):
        raise PermissionDenied("Chỉ cán bộ chứng thực được dùng bàn chứng thực bản sao.")


def _token(container, user_id: str, sha256: str) -> str:
    return hmac.new(container.settings.secret, f"copy-scan:{user_id}:{sha256}".encode(), hashlib.sha256).hexdigest()


def _check_token(container, user_id: str, sha256: str, token: str) -> None:
    if not previews._SHA.match(sha256 or "") or not hmac.compare_digest(
            _token(container, user_id, sha256), token or ""):
        raise InvalidInput("Bản quét không còn hợp lệ. Hãy tải bản quét lên lại.")


def _metadata(values: dict) -> CopyMetadata:
    try:
        return CopyMetadata.model_validate({k: v for k, v in values.items() if v not in ("", None)})
    except ValidationError as exc:
        names = sorted({FIELD_LABELS.get(str(e["loc"][0]), str(e["loc"][0])) for e in exc.errors() if e["loc"]})
        raise InvalidInput("Thông tin chưa hợp lệ: " + ", ".join(names) + ".") from exc


def _desk(request: Request, db, user, container, *, values=None, error=None, flash=None, status_code=200):
    recent = service.list_copies(db, org_id=user.org_id, kind="certified", limit=30)
    org_book = rules.book_label(service.current_book(service._org(db, user.org_id), vn_today().year))
    return render(request, "copies.html", {
        "values": values or {"copies": "1"}, "error": error, "flash": flash, "recent": recent, "book": org_book,
        "COPY_STATUS": COPY_STATUS, "money": rules.money, "fee_first": rules.FEE_FIRST_PAGES,
        "fee_later": rules.FEE_LATER_PAGES, "fee_cap": rules.FEE_CAP_PER_COPY,
        "max_upload_mb": container.settings.max_upload_bytes // (1024 * 1024)}, status_code=status_code)


@router.get("/copies")
def desk(request: Request, db: SessionDep, user: PageUser, container: ContainerDep, msg: str | None = None):
    _require_certifier(user)
    return _desk(request, db, user, container, flash=FLASH.get(msg or ""))


@router.post("/copies/preview", dependencies=[Csrf])
def preview(request: Request, db: SessionDep, store: StoreDep, user: PageUser, container: ContainerDep,
            file: Annotated[list[UploadFile] | None, File()] = None,
            requester_name: Annotated[str, Form(max_length=255)] = "",
            requester_id_number: Annotated[str, Form(max_length=40)] = "",
            title: Annotated[str, Form(max_length=500)] = "", copies: Annotated[str, Form(max_length=4)] = "1",
            notes: Annotated[str, Form(max_length=2000)] = ""):
    """Step 1: read the scan (PDF or page images), keep it, show its pages and the fee."""
    _require_certifier(user)
    values = {"requester_name": requester_name, "requester_id_number": requester_id_number, "title": title,
              "copies": copies, "notes": notes}
    try:
        meta = _metadata(values)
        files = [f for f in (file or []) if f.filename]
        if not files:
            raise InvalidInput("Hãy chọn tệp bản quét (một tệp PDF hoặc ảnh các trang JPEG/PNG).")
        limit = container.settings.max_upload_bytes
        parts: list[bytes] = []
        for f in files:
            data: bytes = f.file.read(limit + 1)
            if sum(len(p) for p in parts) + len(data) > limit:
                raise PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).")
            parts.append(data)
        scan = read_scan(parts)
        blob = store.put_bytes(scan.pdf)
    except DomainError as exc:
        return _desk(request, db, user, container, values=values, error=exc.detail, status_code=exc.status)
    shown = min(scan.pages, previews.MAX_PREVIEW_PAGES)
    return render(request, "copy_preview.html", {
        "values": values, "meta": meta, "scan": scan, "sha256": blob.sha256, "shown": shown,
        "token": _token(container, user.id, blob.sha256), "fee": rules.fee(scan.pages, meta.copies),
        "fee_per_copy": rules.fee_per_copy(scan.pages), "due": rules.due_date(), "money": rules.money})


@router.get("/copies/scan/{sha256}/{page}.png")
def scan_page(sha256: str, page: int, user: PageUser, container: ContainerDep, t: str = ""):
    _require_certifier(user)
    _check_token(container, user.id, sha256, t)
    if not 1 <= page <= previews.MAX_PREVIEW_PAGES:
        raise InvalidInput("Trang không tồn tại.")
    return FileResponse(previews.page_png(container, sha256, page), media_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})


@router.post("/copies/certify", dependencies=[Csrf])
def certify(request: Request, db: SessionDep, store: StoreDep, user: PageUser, container: ContainerDep,
            sha256: Annotated[str, Form(max_length=64)] = "", token: Annotated[str, Form(max_length=64)] = "",
            requester_name: Annotated[str, Form(max_length=255)] = "",
            requester_id_number: Annotated[str, Form(max_length=40)] = "",
            title: Annotated[str, Form(max_length=500)] = "", copies: Annotated[str, Form(max_length=4)] = "1",
            notes: Annotated[str, Form(max_length=2000)] = ""):
    """Step 2: certify the scan shown in the preview."""
    from ..copies_port import copy_stamp
    from ..routes.copies import _level

    _require_certifier(user)
    values = {"requester_name": requester_name, "requester_id_number": requester_id_number, "title": title,
              "copies": copies, "notes": notes}
    try:
        _check_token(container, user.id, sha256, token)
        meta = _metadata(values)
        rec, _scan = service.certify(db, store, copy_stamp(container), caller=actor_of(request, user),
                                     parts=[store.read_bytes(sha256)], metadata=meta,
                                     base_url=container.settings.base_url,
                                     level=_level(db, container, user.org_id))
    except DomainError as exc:
        db.rollback()
        return _desk(request, db, user, container, values=values, error=exc.detail, status_code=exc.status)
    return redirect(f"/copies/{rec.id}?msg=certified")


@router.post("/copies/books", dependencies=[Csrf])
def new_book(request: Request, db: SessionDep, user: PageUser):
    _require_certifier(user)
    service.open_new_book(db, caller=actor_of(request, user))
    return redirect("/copies?msg=book")


@router.get("/copies/{copy_id}")
def copy_page(request: Request, copy_id: str, db: SessionDep, user: PageUser, container: ContainerDep,
              msg: str | None = None):
    _require_certifier(user)
    rec = service.get_copy(db, org_id=user.org_id, copy_id=copy_id)
    return render(request, "copy.html", {
        "rec": rec, "flash": FLASH.get(msg or ""), "COPY_STATUS": COPY_STATUS, "money": rules.money,
        "verify_url": service.verify_url(container.settings.base_url, rec.code),
        "kind_label": service.KIND_LABELS.get(rec.kind, rec.kind),
        "shown": min(rec.pages, previews.MAX_PREVIEW_PAGES)})


@router.get("/copies/{copy_id}/pages/{page}.png")
def copy_page_image(copy_id: str, page: int, db: SessionDep, user: PageUser, container: ContainerDep):
    _require_certifier(user)
    rec = service.get_copy(db, org_id=user.org_id, copy_id=copy_id)
    if not 1 <= page <= min(rec.pages, previews.MAX_PREVIEW_PAGES):
        raise InvalidInput("Trang không tồn tại.")
    return FileResponse(previews.page_png(container, rec.sha256, page), media_type="image/png",
                        headers={"Cache-Control": "private, max-age=86400"})


@router.get("/copies/{copy_id}/pdf")
@writes
def copy_pdf(request: Request, copy_id: str, db: SessionDep, user: PageUser, store: StoreDep,
             inline: bool = False):
    """The signed copy: ``inline=1`` opens it in the browser to print, otherwise a download."""
    from ..routes.documents import stream_file

    _require_certifier(user)
    rec = service.get_copy(db, org_id=user.org_id, copy_id=copy_id)
    f = store.open(rec.sha256)
    audit.record(db, caller=actor_of(request, user), action="copy.download", object_type="copy", object_id=rec.id,
                 details={"sha256": rec.sha256})
    name = f"ban-sao-{rec.year}-{rec.number:02d}.pdf"
    return StreamingResponse(stream_file(f), media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(name, inline=inline), "Content-Length": str(rec.size),
        "Cache-Control": "private, no-store"})


@router.post("/copies/{copy_id}/revoke", dependencies=[Csrf])
def revoke(request: Request, copy_id: str, db: SessionDep, user: PageUser, container: ContainerDep,
           reason: Annotated[str, Form(max_length=2000)] = ""):
    _require_certifier(user)
    try:
        service.revoke(db, caller=actor_of(request, user), copy_id=copy_id, reason=reason)
    except DomainError as exc:
        db.rollback()
        rec = service.get_copy(db, org_id=user.org_id, copy_id=copy_id)
        return render(request, "copy.html", {
            "rec": rec, "error": exc.detail, "COPY_STATUS": COPY_STATUS, "money": rules.money,
            "verify_url": service.verify_url(container.settings.base_url, rec.code),
            "kind_label": service.KIND_LABELS.get(rec.kind, rec.kind),
            "shown": min(rec.pages, previews.MAX_PREVIEW_PAGES)}, status_code=exc.status)
    return redirect(f"/copies/{copy_id}?msg=revoked")
