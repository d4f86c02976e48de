"""Signing documents in the workflow: who may sign what, with which look, binding the approved
version; idempotent requests; external (USB token) signing sessions.

The PDF work is done by adapters behind :class:`PdfSigningPort` and :class:`ExternalSigningPort`
(implemented with pyHanko in ``signing``/``api``). This module decides and records: the signed
bytes are stored first, then the version row, the status transition and the audit event commit
together — a failure anywhere leaves the previous version current and untouched.
"""
from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ioffice.accounts.models import Organisation, User
from ioffice.audit import services as audit
from ioffice.documents import lifecycle
from ioffice.documents import services as documents
from ioffice.documents.models import Document, DocumentVersion
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import Conflict, InvalidInput, NotFound
from ioffice.kernel.ports import BlobStore
from ioffice.signatures.authority import check_override, competence
from ioffice.signatures.models import SigningRequest, SigningSession
from ioffice.signatures.ports import ExternalSigningPort, PdfSigningPort, PreparedExternal
from ioffice.signatures.rules import build_spec, check_can_sign, resolve_level

# --------------------------------------------------------------------------------------------
# Server-side signing
# --------------------------------------------------------------------------------------------

def find_idempotent(session: Session, *, org_id: str, key: str | None, document_id: str,
                    user: User | None = None, kind: str | None = None,
                    doc: Document | None = None) -> DocumentVersion | None:
    """The earlier result of ``key`` — only for the same caller, operation and document. Anyone else
    sending the key is authorised first (403 as usual), then told the key is taken (409)."""
    if not key:
        return None
    if len(key) > 128:
        raise InvalidInput("Idempotency-Key dài tối đa 128 ký tự.")
    req = session.scalar(select(SigningRequest).where(SigningRequest.org_id == org_id,
                                                      SigningRequest.idempotency_key == key))
    if req is None:
        return None
    if user is not None and (req.user_id != user.id or req.kind != kind or req.document_id != document_id):
        if doc is not None and kind is not None:
            check_can_sign(session, user=user, doc=doc, kind=kind)  # the caller's own right comes first
        raise Conflict("Idempotency-Key này đã được dùng cho một yêu cầu khác (người ký, thao tác hoặc văn bản "
                       "khác); hãy dùng khóa mới.")
    if req.document_id != document_id:
        raise Conflict("Idempotency-Key này đã được dùng cho một văn bản khác.")
    return session.get(DocumentVersion, req.result_version_id)


def _already_signed_by(session: Session, *, doc: Document, user: User, version_id: str) -> bool:
    """Whether ``version_id`` is the result of ``user``'s own personal signature of ``doc``."""
    from ioffice.audit.models import AuditEvent

    events = session.scalars(select(AuditEvent).where(
        AuditEvent.org_id == doc.org_id, AuditEvent.object_id == doc.id,
        AuditEvent.action == "document.sign.personal", AuditEvent.actor_id == user.id)).all()
    return any((e.details or {}).get("version") == version_id for e in events)


@dataclass(frozen=True)
class _ReadState:
    """What the read phase saw: the write phase proceeds only if the document is still there."""

    document_id: str
    lock_version: int
    base_id: str
    base_sha256: str
    base_size: int
    base_pages: int | None


def _end_read(session: Session, sessions: Callable[[], Session] | None) -> None:
    """Close the read transaction before the PDF work (nothing is held while pyHanko runs)."""
    if sessions is not None:
        session.commit()


@contextmanager
def _guarded_write(session: Session, sessions: Callable[[], Session] | None, read: _ReadState
                   ) -> Iterator[tuple[Session, Document]]:
    """A short write transaction in which the document is exactly as the read phase saw it (same
    version counter and current version), else Conflict; the stored blob is left to the sweeper.
    Without ``sessions`` (one-transaction callers, the CLI), ``session`` itself is used."""
    ws = sessions() if sessions is not None else session
    try:
        doc = ws.get(Document, read.document_id, with_for_update=True, populate_existing=True)
        if doc is None or doc.lock_version != read.lock_version or doc.current_version_id != read.base_id:
            raise Conflict("Văn bản vừa được thay đổi hoặc ký bởi một yêu cầu khác; hãy tải lại và thử lại.")
        yield ws, doc
        ws.flush()
        if sessions is not None:
            ws.commit()
    except (IntegrityError, StaleDataError) as exc:
        if sessions is not None:
            ws.rollback()
        raise Conflict("Văn bản vừa được thay đổi hoặc ký bởi một yêu cầu khác; hãy tải lại và thử lại.") from exc
    except BaseException:
        if sessions is not None:
            ws.rollback()
        raise
    finally:
        if sessions is not None:
            ws.close()


def sign_document(
    session: Session, store: BlobStore, port: PdfSigningPort, *, caller: Caller, document_id: str, kind: str,
    idempotency_key: str | None = None, level: str | None = None, default_level: str = "B-B",
    max_size: int = documents.DEFAULT_MAX_UPLOAD, resign: bool = False,
    sessions: Callable[[], Session] | None = None, authority_override: str | None = None,
) -> tuple[DocumentVersion, bool]:
    """Sign the current version of an outgoing document and record the result as a new, final
    version. Returns (version, replayed) — replayed is True when ``idempotency_key`` was already
    used for this document (the earlier result is returned, nothing is signed again).

    With ``sessions`` (a session factory), ``session`` is only read and its transaction is ended
    before the PDF is signed; the result is recorded in a short transaction of its own, guarded by
    the document's version counter (a concurrent change or signature → Conflict). A second personal
    signature by the same signer on the version they signed needs ``resign``. ``authority_override``
    replaces the authority lines chosen from role and delegation (``""``: none).
    """
    user = caller.person
    doc = documents.get_document(session, org_id=user.org_id, document_id=document_id)
    done = find_idempotent(session, org_id=user.org_id, key=idempotency_key, document_id=doc.id,
                           user=caller.person, kind=kind, doc=doc)
    if done is not None:
        return done, True
    authority = check_can_sign(session, user=user, doc=doc, kind=kind)
    if kind == "personal" and authority_override is not None:
        authority = check_override(authority_override)
    if kind == "personal" and not user.signing_key:
        raise InvalidInput("Máy chủ không giữ khóa ký của bạn: hãy ký bằng USB token (ký số từ xa, "
                           "chế độ external) hoặc nhờ quản trị viên cấu hình khóa ký.")
    org = session.get_one(Organisation, doc.org_id)
    spec = build_spec(session, store, user=user, doc=doc, kind=kind, level=resolve_level(org, level, default_level),
                      authority=authority)
    base = documents.current_version(session, doc)
    if base is None:
        raise NotFound("Văn bản chưa có nội dung để ký.")
    if kind == "personal" and not resign and _already_signed_by(session, doc=doc, user=user, version_id=base.id):
        raise Conflict("Bạn đã ký phiên bản này của văn bản; muốn ký thêm một lần nữa hãy gửi \"resign\": true.")
    read = _ReadState(doc.id, doc.lock_version, base.id, base.sha256, base.size, base.page_count)
    _end_read(session, sessions)
    with store.open(read.base_sha256) as src, tempfile.TemporaryFile() as out:
        port.sign(src, spec, out)
        out.seek(0)
        blob = store.put_stream(out, max_size=max(max_size, read.base_size * 2 + 10 * 1024 * 1024))
    with _guarded_write(session, sessions, read) as (ws, wdoc):
        version = documents.add_version(ws, store, caller=caller, document=wdoc, sha256=blob.sha256, size=blob.size,
                                        kind="signed", is_final=True, page_count=read.base_pages)
        version.document = wdoc
        if kind in ("personal", "seal"):
            lifecycle.transition(wdoc, "sign")
            if kind == "personal":
                wdoc.signer_name = user.full_name
                wdoc.signer_position = user.position
                wdoc.signer_competence = competence(authority)
        details: dict[str, Any] = {"base_sha256": read.base_sha256, "sha256": blob.sha256, "version": version.id,
                   "level": spec.level, "authority": authority}
        if resign:
            details["resign"] = True
        audit.record(ws, caller=caller, action=f"document.sign.{kind}", object_type="document", object_id=wdoc.id,
                     details=details)
        if idempotency_key:
            ws.add(SigningRequest(org_id=wdoc.org_id, idempotency_key=idempotency_key, document_id=wdoc.id,
                                  kind=kind, user_id=user.id, result_version_id=version.id))
    return version, False


def preview_sign(session: Session, store: BlobStore, port: PdfSigningPort, *, caller: Caller, document_id: str,
                 kind: str,
                 authority_override: str | None = None) -> bytes:
    """The PDF signing would produce now, drawn without a key (nothing signed, stored or recorded).
    Same refusals as :func:`sign_document` (rights, status, no room on the page)."""
    user = caller.person
    doc = documents.get_document(session, org_id=user.org_id, document_id=document_id)
    authority = check_can_sign(session, user=user, doc=doc, kind=kind)
    if kind == "personal" and authority_override is not None:
        authority = check_override(authority_override)
    org = session.get_one(Organisation, doc.org_id)
    spec = build_spec(session, store, user=user, doc=doc, kind=kind, level=resolve_level(org, None, "B-B"),
                      authority=authority)
    base = documents.current_version(session, doc)
    if base is None:
        raise NotFound("Văn bản chưa có nội dung để ký.")
    return port.preview(store.read_bytes(base.sha256), spec)


# --------------------------------------------------------------------------------------------
# External signing (the key stays on the official's USB token)
# --------------------------------------------------------------------------------------------

def prepare_external(
    session: Session, store: BlobStore, port: ExternalSigningPort, *, caller: Caller, document_id: str,
    certificate_pem: str, chain_pem: list[str], level: str | None = None, default_level: str = "B-B",
    sessions: Callable[[], Session] | None = None,
) -> tuple[SigningSession, PreparedExternal]:
    """Prepare the PDF for a token signature. With ``sessions``, the read transaction ends before
    the PDF work and the session row is written in a short transaction of its own."""
    user = caller.person
    doc = documents.get_document(session, org_id=user.org_id, document_id=document_id)
    authority = check_can_sign(session, user=user, doc=doc, kind="personal")
    org = session.get_one(Organisation, doc.org_id)
    spec = build_spec(session, store, user=user, doc=doc, kind="personal",
                      level=resolve_level(org, level, default_level), authority=authority)
    base = documents.current_version(session, doc)
    if base is None:
        raise NotFound("Văn bản chưa có nội dung để ký.")
    read = _ReadState(doc.id, doc.lock_version, base.id, base.sha256, base.size, base.page_count)
    _end_read(session, sessions)
    prepared = port.prepare(store.read_bytes(read.base_sha256), spec, certificate_pem=certificate_pem,
                            chain_pem=chain_pem)
    blob = store.put_bytes(prepared.prepared_pdf)
    ws = sessions() if sessions is not None else session
    try:
        sess = SigningSession(org_id=doc.org_id, document_id=doc.id, user_id=user.id, kind="personal",
                              base_version_id=read.base_id, base_sha256=read.base_sha256, prepared_sha256=blob.sha256,
                              state={"engine": prepared.state, "level": spec.level, "authority": authority},
                              expires_at=prepared.expires_at)
        ws.add(sess)
        ws.flush()
        audit.record(ws, caller=caller, action="document.sign.external_prepare", object_type="document",
                     object_id=doc.id, details={"session": sess.id, "base_sha256": read.base_sha256,
                                                "prepared_sha256": blob.sha256})
        if sessions is not None:
            ws.commit()
    except BaseException:
        if sessions is not None:
            ws.rollback()
        raise
    finally:
        if sessions is not None:
            ws.close()
    return sess, prepared


def complete_external(
    session: Session, store: BlobStore, port: ExternalSigningPort, *, caller: Caller, session_id: str,
    signature: bytes, now: datetime | None = None, sessions: Callable[[], Session] | None = None,
) -> DocumentVersion:
    """Embed the token's signature. With ``sessions``, as :func:`sign_document`: read, PDF work
    outside any transaction, then a short write guarded by the document's version counter."""
    user = caller.person
    sess = session.get(SigningSession, session_id)
    if sess is None or sess.org_id != caller.org_id or sess.user_id != user.id:
        raise NotFound("Không tìm thấy phiên ký.")
    if sess.status == "completed":
        return session.get_one(DocumentVersion, sess.result_version_id)
    now = now or utcnow()
    if sess.status not in ("pending", "confirming") or sess.expires_at <= now:
        raise Conflict("Phiên ký đã hết hạn; hãy bắt đầu ký lại.")
    doc = documents.get_document(session, org_id=user.org_id, document_id=sess.document_id)
    current = documents.current_version(session, doc)
    if current is None or current.id != sess.base_version_id:
        raise Conflict("Văn bản đã thay đổi kể từ khi chuẩn bị ký; hãy bắt đầu ký lại.")
    authority = check_can_sign(session, user=user, doc=doc, kind="personal")
    org = session.get_one(Organisation, doc.org_id)
    spec = build_spec(session, store, user=user, doc=doc, kind="personal", level=sess.state.get("level", "B-B"),
                      authority=authority)
    read = _ReadState(doc.id, doc.lock_version, current.id, current.sha256, current.size, current.page_count)
    sess_id, prepared_sha, engine_state = sess.id, sess.prepared_sha256, sess.state["engine"]
    _end_read(session, sessions)
    prepared = store.read_bytes(prepared_sha)
    if hashlib.sha256(prepared).hexdigest() != prepared_sha:
        raise Conflict("Bản chuẩn bị ký đã bị thay đổi; hãy bắt đầu ký lại.")
    signed = port.complete(prepared, engine_state, signature, spec)
    blob = store.put_bytes(signed)
    with _guarded_write(session, sessions, read) as (ws, wdoc):
        wsess = ws.get(SigningSession, sess_id, populate_existing=True)
        if wsess is None or wsess.status not in ("pending", "confirming"):
            raise Conflict("Phiên ký đã được hoàn tất hoặc đã hết hạn.")
        version = documents.add_version(ws, store, caller=caller, document=wdoc, sha256=blob.sha256, size=blob.size,
                                        kind="signed", is_final=True, page_count=read.base_pages)
        version.document = wdoc
        lifecycle.transition(wdoc, "sign")
        wdoc.signer_name, wdoc.signer_position = user.full_name, user.position
        wdoc.signer_competence = competence(authority)
        wsess.status = "completed"
        wsess.result_version_id = version.id
        audit.record(ws, caller=caller, action="document.sign.personal", object_type="document", object_id=wdoc.id,
                     details={"base_sha256": read.base_sha256, "sha256": blob.sha256, "version": version.id,
                              "external_session": sess_id, "org": org.id})
    return version


def abandon_session(session: Session, *, session_id: str, status: str = "expired",
                    detail: str | None = None) -> SigningSession | None:
    """End a pending or confirming session without signing (refused, expired, failed): the
    document is left exactly as it was."""
    sess = session.get(SigningSession, session_id)
    if sess is not None and sess.status in ("pending", "confirming"):
        sess.status = status
        if detail:
            sess.state = {**sess.state, "detail": detail}
        session.flush()
    return sess


def expire_sessions(session: Session, *, now: datetime | None = None) -> int:
    """Mark pending sessions past their expiry as expired (their prepared blobs become sweepable)."""
    now = now or utcnow()
    rows = session.scalars(select(SigningSession).where(SigningSession.status.in_(("pending", "confirming")),
                                                        SigningSession.expires_at <= now)).all()
    for r in rows:
        r.status = "expired"
    return len(rows)
