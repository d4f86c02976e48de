"""Batch signing: a leader signs several approved documents in one action, with the outcome of
each document shown as it happens. Server key: JavaScript signs them one by one and updates each
row (without JavaScript the server signs them all and shows the results). Remote signing: one
authorisation confirmed on the phone signs them all in the background; ``/sign-batch/{id}`` shows
each document's state and polls it with htmx until the batch is done. USB token: the token
signing page signs the batch in one plugin session."""
from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse

from ioffice import batches, signatures, signing_methods
from ioffice import documents as docs
from ioffice.kernel.errors import DomainError, InvalidInput, PermissionDenied

from ..deps import ContainerDep, SessionDep, StoreDep
from .common import redirect, render
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
    return render(request, "sign_batch.html", {"rows": _candidates(db, user), "results": {},
                                               "method": signing_methods.effective_method(db, user)})


@router.post("/sign-batch", dependencies=[Csrf])
async def batch_sign(request: Request, db: SessionDep, store: StoreDep, user: PageUser, container: ContainerDep,
                     background: BackgroundTasks):
    _require_signer(user)
    form = await request.form()
    ids = [str(v) for v in form.getlist("document_id")][:MAX_BATCH + 1]
    if not ids:
        raise InvalidInput("Hãy chọn ít nhất một văn bản để ký.")
    if len(ids) > MAX_BATCH:
        raise InvalidInput(f"Mỗi lần ký tối đa {MAX_BATCH} văn bản.")
    from fastapi.concurrency import run_in_threadpool

    method = signing_methods.effective_method(db, user)
    if method == "token":
        return redirect(f"/sign-token/{quote(ids[0], safe='')}?documents=" + quote(",".join(ids), safe=","))
    if method == "remote":
        batch_id = await run_in_threadpool(_start_remote, request, db, store, container, user, ids, background)
        return redirect(f"/sign-batch/{batch_id}")
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


def _start_remote(request: Request, db, store, container, user, ids: list[str], background) -> str:
    from ..channels import start_remote_signing

    actor = actor_of(request, user)
    batch = batches.create_batch(db, caller=actor, document_ids=ids, kind="personal", method="remote")
    start_remote_signing(db, store, container, caller=actor, profile=signing_methods.profile_of(db, user),
                         document_ids=ids, level=None, background=background, batch=batch)
    return batch.id


RESULT_TONE = {"signed": ("✔", "ok", "Đã ký"), "failed": ("✖", "bad", "Không ký được"),
               "pending": ("…", "info", "Đang chờ xác nhận trên điện thoại")}


@router.get("/sign-batch/{batch_id}")
def batch_status(request: Request, batch_id: str, db: SessionDep, user: PageUser):
    """A batch's progress: one row per document; htmx polls this fragment until the batch is done."""
    _require_signer(user)
    batch = batches.get_batch(db, caller=actor_of(request, user), batch_id=batch_id)
    summaries = {}
    for r in batch.results:
        try:
            doc = docs.get_document(db, org_id=user.org_id, document_id=r["document_id"])
            summaries[r["document_id"]] = doc.summary
        except DomainError:
            summaries[r["document_id"]] = r["document_id"]
    fragment = request.headers.get("HX-Request") == "true"
    return render(request, "_batch_status.html" if fragment else "sign_batch_status.html",
                  {"batch": batch, "summaries": summaries, "RESULT_TONE": RESULT_TONE,
                   "signed": sum(1 for r in batch.results if r["status"] == "signed")})
