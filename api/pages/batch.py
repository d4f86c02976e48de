"""Batch signing: a leader signs several approved documents in one action, with the outcome of
each document shown as it happens (JavaScript signs them one by one and updates each row; without
JavaScript the server signs them all and shows the results)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ioffice import documents as docs
from ioffice import signatures
from ioffice.kernel.errors import DomainError, InvalidInput, PermissionDenied

from ..deps import ContainerDep, SessionDep, StoreDep
from .common import render
from .documents import actor_of
from .session import Csrf, PageUser

router = APIRouter(include_in_schema=False)
MAX_BATCH = 50


def _require_signer(user) -> None:
    if not user.has_role("leader", "unit_head"):
        raise PermissionDenied("Chỉ lãnh đạo ký số văn bản.")


def _candidates(db, user):
    f = docs.DocumentFilter(direction="outgoing", status="approved", limit=200)
    rows, _ = docs.list_documents(db, org_id=user.org_id, f=f)
    return rows


def _sign_one(request: Request, db, store, container, user, document_id: str) -> tuple[bool, str]:
    from ..signing_adapter import adapter

    try:
        a = adapter(container)
        signatures.sign_document(db, store, a, caller=actor_of(request, user), document_id=document_id,
                                 kind="personal", idempotency_key=f"batch-{document_id}-{user.id}", level=None,
                                 default_level=a.default_level(), max_size=container.settings.max_upload_bytes)
        db.commit()
        return True, "Đã ký"
    except DomainError as exc:
        db.rollback()
        return False, exc.detail


@router.get("/sign-batch")
def batch_page(request: Request, db: SessionDep, user: PageUser):
    _require_signer(user)
    return render(request, "sign_batch.html", {"rows": _candidates(db, user), "results": {}})


@router.post("/sign-batch", dependencies=[Csrf])
async def batch_sign(request: Request, db: SessionDep, store: StoreDep, user: PageUser, container: ContainerDep):
    _require_signer(user)
    form = await request.form()
    ids = [str(v) for v in form.getlist("document_id")][:MAX_BATCH + 1]
    if not ids:
        raise InvalidInput("Hãy chọn ít nhất một văn bản để ký.")
    if len(ids) > MAX_BATCH:
        raise InvalidInput(f"Mỗi lần ký tối đa {MAX_BATCH} văn bản.")
    from fastapi.concurrency import run_in_threadpool

    results = {}
    for document_id in ids:
        results[document_id] = await run_in_threadpool(_sign_one, request, db, store, container, user, document_id)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({k: {"ok": ok, "message": msg} for k, (ok, msg) in results.items()})
    summaries = {}
    for document_id in results:
        try:
            summaries[document_id] = docs.get_document(db, org_id=user.org_id, document_id=document_id)
        except DomainError:
            pass
    return render(request, "sign_batch.html", {"rows": _candidates(db, user), "results": results,
                                               "signed_docs": summaries})
