"""Signing documents in the workflow: who may sign what, with which look, binding the approved
version; idempotent requests; external (USB token) signing sessions.

The PDF work is done by adapters behind :class:`PdfSigningPort` and :class:`ExternalSigningPort`
(implemented with pyHanko in ``signing``/``api``). This module decides and records: the signed
bytes are stored first, then the version row, the status transition and the audit event commit
together — a failure anywhere leaves the previous version current and untouched.
"""
from __future__ import annotations

from datetime import datetime
import hashlib
import tempfile

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation, User
from ioffice.audit import services as audit
from ioffice.kernel.caller import Caller
from ioffice.documents import lifecycle
from ioffice.documents import services as documents
from ioffice.documents.models import DocumentVersion
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import Conflict, InvalidInput, NotFound
from ioffice.signatures.models import SigningRequest, SigningSession
from ioffice.signatures.ports import ExternalSigningPort, PdfSigningPort, PreparedExternal
from ioffice.signatures.rules import build_spec, check_can_sign, resolve_level


# --------------------------------------------------------------------------------------------
# Server-side signing
# --------------------------------------------------------------------------------------------

def find_idempotent(session: Session, *, org_id: str, key: str | None, document_id: str,
                    user: User | None = None, kind: str | None = None, doc=None) -> DocumentVersion | None:
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
        if doc is not None:
            check_can_sign(session, user=user, doc=doc, kind=kind)  # the caller's own right comes first
        raise Conflict("Idempotency-Key này đã được dùng cho một yêu cầu khác (người ký, thao tác hoặc văn bản "
                       "khác); hãy dùng khóa mới.")
    if req.document_id != document_id:
        raise Conflict("Idempotency-Key này đã được dùng cho một văn bản khác.")
    return session.get(DocumentVersion, req.result_version_id)


def sign_document(
    session: Session, store, port: PdfSigningPort, *, caller: Caller, document_id: str, kind: str,
    idempotency_key: str | None = None, level: str | None = None, default_level: str = "B-B",
    max_size: int = documents.DEFAULT_MAX_UPLOAD,
) -> tuple[DocumentVersion, bool]:
    """Sign the current version of an outgoing document and record the result as a new, final
    version. Returns (version, replayed) — replayed is True when ``idempotency_key`` was already
    used for this document (the earlier result is returned, nothing is signed again).
    """
    user = caller.person
    doc = documents.get_document(session, org_id=caller.org_id, document_id=document_id)
    done = find_idempotent(session, org_id=caller.org_id, key=idempotency_key, document_id=doc.id,
                           user=caller.person, kind=kind, doc=doc)
    if done is not None:
        return done, True
    authority = check_can_sign(session, user=user, doc=doc, kind=kind)
    if kind == "personal" and not user.signing_key:
        raise InvalidInput("Máy chủ không giữ khóa ký của bạn: hãy ký bằng USB token (ký số từ xa, "
                           "chế độ external) hoặc nhờ quản trị viên cấu hình khóa ký.")
    org = session.get(Organisation, doc.org_id)
    spec = build_spec(session, store, user=user, doc=doc, kind=kind, level=resolve_level(org, level, default_level),
                      authority=authority)
    base = documents.current_version(session, doc)
    if base is None:
        raise NotFound("Văn bản chưa có nội dung để ký.")
    with store.open(base.sha256) as src, tempfile.TemporaryFile() as out:
        port.sign(src, spec, out)
        out.seek(0)
        blob = store.put_stream(out, max_size=max(max_size, base.size * 2 + 10 * 1024 * 1024))
    version = documents.add_version(session, store, caller=caller, document=doc, sha256=blob.sha256, size=blob.size,
                                    kind="signed", is_final=True, page_count=base.page_count)
    if kind in ("personal", "seal"):
        lifecycle.transition(doc, "sign")
        if kind == "personal":
            doc.signer_name = user.full_name
            doc.signer_position = user.position
            doc.signer_competence = authority.split(" ", 1)[0] if authority else None
    audit.record(session, caller=caller, action=f"document.sign.{kind}", object_type="document", object_id=doc.id,
                 details={"base_sha256": base.sha256, "sha256": blob.sha256, "version": version.id,
                          "level": spec.level, "authority": authority})
    if idempotency_key:
        session.add(SigningRequest(org_id=doc.org_id, idempotency_key=idempotency_key, document_id=doc.id,
                                   kind=kind, user_id=user.id, result_version_id=version.id))
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent request with the same key won
            raise Conflict("Yêu cầu ký với cùng Idempotency-Key đang được xử lý; vui lòng thử lại.") from exc
    return version, False


# --------------------------------------------------------------------------------------------
# External signing (the key stays on the official's USB token)
# --------------------------------------------------------------------------------------------

def prepare_external(
    session: Session, store, port: ExternalSigningPort, *, caller: Caller, document_id: str,
    certificate_pem: str, chain_pem: list[str], level: str | None = None, default_level: str = "B-B",
) -> tuple[SigningSession, PreparedExternal]:
    user = caller.person
    doc = documents.get_document(session, org_id=caller.org_id, document_id=document_id)
    authority = check_can_sign(session, user=user, doc=doc, kind="personal")
    org = session.get(Organisation, doc.org_id)
    spec = build_spec(session, store, user=user, doc=doc, kind="personal",
                      level=resolve_level(org, level, default_level), authority=authority)
    base = documents.current_version(session, doc)
    prepared = port.prepare(store.read_bytes(base.sha256), spec, certificate_pem=certificate_pem, chain_pem=chain_pem)
    blob = store.put_bytes(prepared.prepared_pdf)
    sess = SigningSession(org_id=doc.org_id, document_id=doc.id, user_id=user.id, kind="personal",
                          base_version_id=base.id, base_sha256=base.sha256, prepared_sha256=blob.sha256,
                          state={"engine": prepared.state, "level": spec.level, "authority": authority},
                          expires_at=prepared.expires_at)
    session.add(sess)
    session.flush()
    audit.record(session, caller=caller, action="document.sign.external_prepare", object_type="document",
                 object_id=doc.id, details={"session": sess.id, "base_sha256": base.sha256,
                                            "prepared_sha256": blob.sha256})
    return sess, prepared


def complete_external(
    session: Session, store, port: ExternalSigningPort, *, caller: Caller, session_id: str,
    signature: bytes, now: datetime | None = None,
) -> DocumentVersion:
    user = caller.person
    sess = session.get(SigningSession, session_id)
    if sess is None or sess.org_id != caller.org_id or sess.user_id != user.id:
        raise NotFound("Không tìm thấy phiên ký.")
    if sess.status == "completed":
        return session.get(DocumentVersion, sess.result_version_id)
    now = now or utcnow()
    if sess.status not in ("pending", "confirming") or sess.expires_at <= now:
        if sess.status in ("pending", "confirming"):
            sess.status = "expired"
        session.flush()
        raise Conflict("Phiên ký đã hết hạn; hãy bắt đầu ký lại.")
    doc = documents.get_document(session, org_id=caller.org_id, document_id=sess.document_id)
    current = documents.current_version(session, doc)
    if current is None or current.id != sess.base_version_id:
        sess.status = "expired"
        session.flush()
        raise Conflict("Văn bản đã thay đổi kể từ khi chuẩn bị ký; hãy bắt đầu ký lại.")
    authority = check_can_sign(session, user=user, doc=doc, kind="personal")
    org = session.get(Organisation, doc.org_id)
    spec = build_spec(session, store, user=user, doc=doc, kind="personal", level=sess.state.get("level", "B-B"),
                      authority=authority)
    prepared = store.read_bytes(sess.prepared_sha256)
    if hashlib.sha256(prepared).hexdigest() != sess.prepared_sha256:
        raise Conflict("Bản chuẩn bị ký đã bị thay đổi; hãy bắt đầu ký lại.")
    signed = port.complete(prepared, sess.state["engine"], signature, spec)
    blob = store.put_bytes(signed)
    version = documents.add_version(session, store, caller=caller, document=doc, sha256=blob.sha256, size=blob.size,
                                    kind="signed", is_final=True, page_count=current.page_count)
    lifecycle.transition(doc, "sign")
    doc.signer_name, doc.signer_position = user.full_name, user.position
    doc.signer_competence = authority.split(" ", 1)[0] if authority else None
    sess.status = "completed"
    sess.result_version_id = version.id
    audit.record(session, caller=caller, action="document.sign.personal", object_type="document", object_id=doc.id,
                 details={"base_sha256": current.sha256, "sha256": blob.sha256, "version": version.id,
                          "external_session": sess.id, "org": org.id})
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
