"""Batch signing: a leader signs several approved documents in one action, under one
authorisation — one click for a server key, one plugin session for a USB token, one CSC
authorisation (SAD for N hashes) for remote signing.

Each document is signed completely or not at all (its own savepoint: the signed version, the
status transition and the audit event commit together or not at all); one failure does not undo
the others. The batch row records the progress per document so a page can poll it.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from .. import audit, signatures
from ..accounts.models import User  # noqa: F401 - registers the users table that user_id references
from ..kernel.caller import Caller
from ..kernel.db import Base, UTCDateTime, new_id, utcnow
from ..kernel.errors import DomainError, InvalidInput, NotFound

log = logging.getLogger(__name__)

MAX_DOCUMENTS = 100
# batch status: running (server work or remote confirmation under way), awaiting_signatures (the
# token's plugin has hashes to sign), done
GENERIC_FAILURE = "Lỗi không xác định khi ký văn bản này; văn bản giữ nguyên phiên bản trước."


class SigningBatch(Base):
    __tablename__ = "signing_batches"
    __table_args__ = (Index("ix_signing_batches_org_user", "org_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="running")
    detail: Mapped[str | None] = mapped_column(String(1024))
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def create_batch(session: Session, *, caller: Caller, document_ids: list[str], kind: str,
                 method: str) -> SigningBatch:
    user = caller.person
    if not document_ids:
        raise InvalidInput("Hãy chọn ít nhất một văn bản để ký.")
    if len(document_ids) > MAX_DOCUMENTS:
        raise InvalidInput(f"Mỗi lần ký tối đa {MAX_DOCUMENTS} văn bản.")
    if len(set(document_ids)) != len(document_ids):
        raise InvalidInput("Danh sách văn bản có văn bản bị lặp.")
    if kind not in ("personal", "seal"):
        raise InvalidInput("Ký hàng loạt áp dụng cho chữ ký cá nhân (personal) hoặc con dấu (seal).")
    batch = SigningBatch(org_id=caller.org_id, user_id=user.id, kind=kind, method=method, status="running",
                         results=[{"document_id": d, "status": "pending", "detail": None} for d in document_ids])
    session.add(batch)
    session.flush()
    audit.record(session, caller=caller, action="signing_batch.create", object_type="signing_batch",
                 object_id=batch.id, details={"documents": document_ids, "kind": kind, "method": method})
    return batch


def get_batch(session: Session, *, caller: Caller, batch_id: str) -> SigningBatch:
    batch = session.get(SigningBatch, batch_id)
    if batch is None or batch.org_id != caller.org_id or batch.user_id != caller.user_id:
        raise NotFound("Không tìm thấy lượt ký hàng loạt.")
    return batch


def _set(batch: SigningBatch, document_id: str, **values: Any) -> None:
    rows = [dict(r) for r in batch.results]
    for r in rows:
        if r["document_id"] == document_id:
            r.update(values)
    batch.results = rows


def _one(session: Session, batch: SigningBatch, document_id: str, work: Callable[[], dict[str, Any]]) -> bool:
    """Run ``work`` for one document in its own savepoint; record signed/failed. True if it worked."""
    try:
        with session.begin_nested():
            values = work()
    except DomainError as exc:
        _set(batch, document_id, status="failed", detail=exc.detail)
        return False
    except Exception:  # noqa: BLE001 - one broken document must not stop the batch
        log.exception("batch %s: document %s failed", batch.id, document_id)
        _set(batch, document_id, status="failed", detail=GENERIC_FAILURE)
        return False
    _set(batch, document_id, **values)
    return True


def finish(session: Session, batch: SigningBatch, *, caller: Caller | None = None, detail: str | None = None) -> None:
    batch.status = "done"
    batch.detail = detail
    batch.finished_at = utcnow()
    if caller is not None:
        audit.record(session, caller=caller, action="signing_batch.done", object_type="signing_batch",
                     object_id=batch.id, details={"results": [{k: r.get(k) for k in ("document_id", "status")}
                                                              for r in batch.results]})
    session.flush()


def sign_with_server_key(session: Session, store, port, *, caller: Caller, batch: SigningBatch,
                         level: str | None, default_level: str, max_size: int) -> SigningBatch:
    """One click, N documents: each signed with the key the server holds (or the agency seal)."""
    for row in list(batch.results):
        doc_id = row["document_id"]

        def work(doc_id: str = doc_id) -> dict[str, Any]:
            version, _ = signatures.sign_document(session, store, port, caller=caller, document_id=doc_id,
                                                  kind=batch.kind, level=level, default_level=default_level,
                                                  max_size=max_size)
            return {"status": "signed", "detail": None, "version_id": version.id}

        _one(session, batch, doc_id, work)
    finish(session, batch, caller=caller)
    return batch


def run_server_batch(sessions, store, port, *, batch_id: str, user_id: str, client_addr: str | None,
                     level: str | None, default_level: str, max_size: int) -> None:
    """The background job of a server-key batch: each pending document is signed with no
    transaction open (read, sign, short guarded write) and its result committed at once, so
    ``GET /signing-batches/{id}`` shows the progress; then the batch is finished. Re-running it
    (a retried job) skips the documents already done."""

    def caller_in(s: Session) -> Caller:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound("Không tìm thấy người ký của lượt ký hàng loạt.")
        return Caller.of(user, client_addr=client_addr)

    with sessions() as s:
        batch = s.get(SigningBatch, batch_id)
        if batch is None or batch.status != "running":
            return
        kind = batch.kind
        todo = [r["document_id"] for r in batch.results if r["status"] == "pending"]
    for doc_id in todo:
        values: dict[str, Any]
        with sessions() as rs:
            try:
                version, _ = signatures.sign_document(rs, store, port, caller=caller_in(rs), document_id=doc_id,
                                                      kind=kind, level=level, default_level=default_level,
                                                      max_size=max_size, sessions=sessions)
                values = {"status": "signed", "detail": None, "version_id": version.id}
            except DomainError as exc:
                values = {"status": "failed", "detail": exc.detail}
            except Exception:  # noqa: BLE001 - one broken document must not stop the batch
                log.exception("batch %s: document %s failed", batch_id, doc_id)
                values = {"status": "failed", "detail": GENERIC_FAILURE}
        with sessions() as ws, ws.begin():
            batch = ws.get(SigningBatch, batch_id, with_for_update=True)
            _set(batch, doc_id, **values)
    with sessions() as ws, ws.begin():
        batch = ws.get(SigningBatch, batch_id, with_for_update=True)
        if batch.status == "running":
            finish(ws, batch, caller=caller_in(ws))


def prepare_external(session: Session, store, port, *, caller: Caller, batch: SigningBatch,
                     certificate_pem: str, chain_pem: list[str], level: str | None, default_level: str,
                     confirming: bool = False) -> list[dict[str, Any]]:
    """Prepare one external signing session per document (token or remote). Returns, for those
    that could be prepared, ``{"document_id", "session_id", "data_to_sign"}``; the others are
    marked failed with the reason."""
    prepared: list[dict[str, Any]] = []
    for row in list(batch.results):
        doc_id = row["document_id"]

        def work(doc_id: str = doc_id) -> dict[str, Any]:
            sess, prep = signatures.prepare_external(session, store, port, caller=caller, document_id=doc_id,
                                                     certificate_pem=certificate_pem, chain_pem=chain_pem,
                                                     level=level, default_level=default_level)
            if confirming:
                sess.status = "confirming"
            sess.state = {**sess.state, "batch_id": batch.id, "channel": "remote" if confirming else "token"}
            session.flush()
            prepared.append({"document_id": doc_id, "session_id": sess.id, "data_to_sign": prep.data_to_sign})
            return {"status": "pending", "session_id": sess.id,
                    "hash_to_sign": hash_b64(prep.data_to_sign)}

        _one(session, batch, doc_id, work)
    if not prepared:
        finish(session, batch, caller=caller)
    else:
        batch.status = "running" if confirming else "awaiting_signatures"
    session.flush()
    return prepared


def complete_external(session: Session, store, port, *, caller: Caller, batch: SigningBatch,
                      signatures_by_session: dict[str, bytes | None], failure: str | None = None) -> SigningBatch:
    """Embed the signature of each prepared session; a missing signature (``None``) fails that
    document with ``failure`` (e.g. the plugin refused it). Finishes the batch."""
    for row in list(batch.results):
        sid = row.get("session_id")
        if row["status"] != "pending" or not sid:
            continue
        sig = signatures_by_session.get(sid)
        if sig is None:
            signatures.abandon_session(session, session_id=sid, status="failed")
            _set(batch, row["document_id"], status="failed",
                 detail=failure or "Thiết bị ký không trả về chữ ký cho văn bản này; văn bản giữ nguyên.")
            continue

        def work(sid: str = sid, sig: bytes = sig) -> dict[str, Any]:
            version = signatures.complete_external(session, store, port, caller=caller, session_id=sid,
                                                   signature=sig)
            return {"status": "signed", "detail": None, "version_id": version.id}

        _one(session, batch, row["document_id"], work)
    finish(session, batch, caller=caller)
    return batch


def fail_pending(session: Session, *, batch: SigningBatch, status: str, detail: str,
                 caller: Caller | None = None) -> None:
    """Remote authorisation refused or expired: every pending document fails, none is touched."""
    for row in list(batch.results):
        if row["status"] == "pending":
            if row.get("session_id"):
                signatures.abandon_session(session, session_id=row["session_id"], status=status)
            _set(batch, row["document_id"], status="failed", detail=detail)
    finish(session, batch, caller=caller, detail=detail)


def hash_b64(data: bytes) -> str:
    import base64

    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
