"""Batch signing: several approved documents, one action, one authorisation.

- server key: 202, signed by a background job (``api.jobs``) one document at a time; poll with GET;
- remote (CSC): one authorisation for N hashes, confirmed on the phone → 202, poll with GET;
- USB token: 202 with one hash per document for the plugin, then
  ``POST /signing-batches/{id}/signatures`` with what the plugin returned → 200.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Response
from pydantic import BaseModel, ConfigDict, Field

from ioffice import batches, signing_methods
from ioffice.kernel.errors import InvalidInput

from ..deps import CallerDep, ContainerDep, CurrentUser, SessionDep, StoreDep, problem_responses
from ..signing_adapter import adapter

router = APIRouter(prefix="/api/v1", tags=["signing"])


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_ids: list[str] = Field(min_length=1, max_length=batches.MAX_DOCUMENTS)
    kind: Literal["personal", "seal"] = "personal"
    level: Literal["B-B", "B-T", "B-LT", "B-LTA"] | None = None


class BatchResult(BaseModel):
    document_id: str
    status: str = Field(description="signed | failed | pending")
    detail: str | None = None
    session_id: str | None = None
    hash_to_sign: str | None = Field(default=None, description="token: base64 SHA-256 the plugin signs")
    version_id: str | None = None


class BatchOut(BaseModel):
    id: str
    status: str = Field(description="running | awaiting_signatures | done")
    method: str
    kind: str
    detail: str | None = None
    results: list[BatchResult]
    created_at: datetime
    finished_at: datetime | None = None


class PluginSignature(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_id: str
    signature: str | None = Field(default=None, description="base64 signature value; null if the plugin refused")
    certificate: str | None = Field(default=None, description="base64 DER certificate the plugin signed with")


class BatchSignaturesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    signatures: list[PluginSignature] = Field(max_length=batches.MAX_DOCUMENTS)


def _out(batch: batches.SigningBatch) -> BatchOut:
    return BatchOut(id=batch.id, status=batch.status, method=batch.method, kind=batch.kind, detail=batch.detail,
                    results=[BatchResult(**r) for r in batch.results], created_at=batch.created_at,
                    finished_at=batch.finished_at)


@router.post("/signing-batches", status_code=201, response_model=BatchOut,
             responses={202: {"model": BatchOut, "description": "running: poll GET /signing-batches/{id}"},
                        **problem_responses(401, 403, 404, 422, 503)})
def create_batch(body: BatchIn, response: Response, background: BackgroundTasks, db: SessionDep, store: StoreDep,
                 caller: CallerDep, user: CurrentUser, container: ContainerDep) -> BatchOut:
    """Sign several documents under one authorisation. Each document is signed completely or not
    at all; one failure does not undo the others."""
    a = adapter(container)
    if not user.has_role(*(("clerk",) if body.kind == "seal" else ("leader", "unit_head"))):
        from ioffice.kernel.errors import PermissionDenied

        raise PermissionDenied("Chỉ lãnh đạo mới được ký số cá nhân hàng loạt; con dấu do văn thư ký.")
    if body.kind == "seal":
        method = "server"
    else:
        method = signing_methods.effective_method(db, user)
        signing_methods.require_mode(db, user=user, mode=signing_methods.MODE_OF_METHOD[method])
    batch = batches.create_batch(db, caller=caller, document_ids=body.document_ids, kind=body.kind,
                                 method=method)
    if method == "server":
        # a background job signs the documents one by one; GET /signing-batches/{id} shows progress
        from ..jobs import install

        out = _out(batch)
        db.commit()
        jobs = install(container)
        jobs.submit(jobs.sign_batch, batch.id, user.id, body.level, caller.client_addr)
        response.status_code = 202
        return out
    profile = signing_methods.profile_of(db, user)
    if method == "remote":
        from ..channels import start_remote_signing

        start_remote_signing(db, store, container, caller=caller, profile=profile,
                             document_ids=body.document_ids, level=body.level, background=background, batch=batch)
    else:
        certificate_pem = profile.certificate_pem if profile else None
        if not certificate_pem:
            raise InvalidInput("Chưa đăng ký chứng thư số USB token của bạn; hãy nhờ quản trị viên đăng ký trước "
                               "khi ký hàng loạt.")
        batches.prepare_external(db, store, a, caller=caller, batch=batch, certificate_pem=certificate_pem,
                                 chain_pem=[], level=body.level, default_level=a.default_level())
    response.status_code = 201 if batch.status == "done" else 202
    return _out(batch)


@router.get("/signing-batches/{batch_id}", response_model=BatchOut, responses=problem_responses(401, 404))
def get_batch(batch_id: str, db: SessionDep, caller: CallerDep) -> BatchOut:
    return _out(batches.get_batch(db, caller=caller, batch_id=batch_id))


@router.post("/signing-batches/{batch_id}/signatures", response_model=BatchOut,
             responses=problem_responses(401, 404, 409, 422, 503))
def post_batch_signatures(batch_id: str, body: BatchSignaturesIn, db: SessionDep, store: StoreDep, caller: CallerDep,
                          user: CurrentUser, container: ContainerDep) -> BatchOut:
    """What the token's plugin returned for each hash; each document is completed on its own."""
    batch = batches.get_batch(db, caller=caller, batch_id=batch_id)
    if batch.status != "awaiting_signatures":
        from ioffice.kernel.errors import Conflict

        raise Conflict("Lượt ký hàng loạt này không chờ chữ ký từ USB token.", status=batch.status)
    from .signing import _check_plugin_certificate

    sigs: dict[str, bytes | None] = {}
    for item in body.signatures:
        if item.certificate:
            _check_plugin_certificate(db, item.session_id, item.certificate)
        try:
            sigs[item.session_id] = base64.b64decode(item.signature, validate=True) if item.signature else None
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput("Chữ ký gửi lên không phải base64 hợp lệ.") from exc
    batches.complete_external(db, store, adapter(container), caller=caller, batch=batch,
                              signatures_by_session=sigs)
    return _out(batch)
