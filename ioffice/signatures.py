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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Literal, Protocol

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import audit, documents, states
from .audit import Actor
from .db import Base, UTCDateTime, new_id, utcnow
from .errors import Conflict, InvalidInput, NotFound, PermissionDenied
from .models import Document, DocumentVersion, Organisation, User

Kind = Literal["personal", "seal", "attachment", "copy"]
KINDS = ("personal", "seal", "attachment", "copy")
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


class SigningRequest(Base):
    """An idempotency record: the same key returns the same resulting version."""

    __tablename__ = "signing_requests"
    __table_args__ = (UniqueConstraint("org_id", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"))
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    result_version_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SigningSession(Base):
    """An external signing in progress: the prepared PDF is stored, the token signs elsewhere."""

    __tablename__ = "signing_sessions"
    __table_args__ = (Index("ix_signing_sessions_org_status", "org_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    base_version_id: Mapped[str] = mapped_column(String(32))
    base_sha256: Mapped[str] = mapped_column(String(64))
    prepared_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    # pending | confirming (remote: waiting for the official's confirmation) | completed | expired
    # | refused | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    result_version_id: Mapped[str | None] = mapped_column(String(32))


@dataclass(frozen=True)
class SignSpec:
    """What the PDF adapter must produce."""

    kind: Kind
    level: str
    key_ref: str | None  # personal: the user's key spec; None → the agency seal key
    full_name: str
    position: str
    authority: str | None = None  # e.g. "KT. CHỦ TỊCH"
    agency_name: str = ""
    number_symbol: str | None = None
    copy_form: str | None = None
    signature_image: bytes | None = None
    seal_image: bytes | None = None
    certify: bool = False
    field_name: str | None = None
    reason: str | None = None
    location: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class PdfSigningPort(Protocol):
    def sign(self, source: BinaryIO, spec: SignSpec, output: BinaryIO) -> None:
        """Write the signed PDF to ``output``. Raises DomainError subclasses (never leaks details)."""
        ...


@dataclass
class PreparedExternal:
    prepared_pdf: bytes
    state: dict[str, Any]
    data_to_sign: bytes
    digest_algorithm: str
    signature_mechanism: str
    expires_at: datetime


class ExternalSigningPort(Protocol):
    def prepare(self, pdf: bytes, spec: SignSpec, *, certificate_pem: str, chain_pem: list[str]) -> PreparedExternal:
        ...

    def complete(self, prepared_pdf: bytes, state: dict[str, Any], signature: bytes, spec: SignSpec) -> bytes:
        ...


# --------------------------------------------------------------------------------------------
# Rules: who may sign what
# --------------------------------------------------------------------------------------------

def _final_approval(session: Session, doc: Document):
    from . import routing

    rnd = routing.approved_round(session, doc)
    if rnd is None:
        return None
    steps = routing.steps_of(session, round_id=rnd.id, stage_index=len(rnd.stages) - 1)
    return [s for s in steps if s.status == "approved"]


def personal_capacity(session: Session, *, user: User, doc: Document) -> tuple[str | None, str]:
    """(authority line or None, position) for ``user`` signing ``doc`` personally.

    Raises PermissionDenied unless the user gave the final approval or holds an active
    delegation from the leader who did.
    """
    from . import routing
    from .delegation import active_delegation

    steps = _final_approval(session, doc) or []
    mine = [s for s in steps if s.acted_by == user.id]
    delegated = [s for s in steps if active_delegation(session, delegator_id=s.reviewer_id, delegate_id=user.id)]
    if not mine and not delegated:
        raise PermissionDenied("Chỉ lãnh đạo đã phê duyệt văn bản (hoặc người được ủy quyền ký) mới được ký văn bản này.")
    authority = routing.authority_line(session, step=mine[0] if mine else None, user=user, document=doc)
    return authority, user.position or ""


def check_can_sign(session: Session, *, user: User, doc: Document, kind: str) -> str | None:
    """Role, direction and status rules. Returns the personal authority line (personal kind)."""
    if kind not in KINDS:
        raise InvalidInput(f"Loại chữ ký không hợp lệ: {kind}. Dùng: {', '.join(KINDS)}.")
    if doc.direction != "outgoing":
        raise Conflict("Chỉ văn bản đi mới được ký số trong hệ thống.")
    if kind == "personal":
        if not user.has_role("leader", "unit_head"):
            raise PermissionDenied("Chỉ lãnh đạo mới được ký số cá nhân lên văn bản đi.")
        if not states.can(doc, "sign"):
            states.transition(doc, "sign")  # raises the 409 naming the status
        if doc.status == "approved":
            approved = _approved_sha(session, doc)
            current = documents.current_version(session, doc)
            if approved is None or current is None or current.sha256 != approved:
                raise Conflict("Phiên bản hiện tại không phải là phiên bản đã được phê duyệt; không thể ký.",
                               approved_sha256=approved, current_sha256=current.sha256 if current else None)
        authority, _ = personal_capacity(session, user=user, doc=doc)
        return authority
    if not user.has_role("clerk"):
        raise PermissionDenied("Chỉ văn thư mới được ký số của cơ quan (con dấu).")
    if kind in ("attachment", "copy"):
        if doc.status not in ("approved", "signed", "issued"):
            raise Conflict("Văn bản chưa được phê duyệt; chưa thể ký số của cơ quan.", current_status=doc.status)
        if kind == "attachment" and not doc.number_symbol:
            raise Conflict("Văn bản chưa có số, ký hiệu: hãy phát hành văn bản chính trước khi ký phụ lục.")
        return None
    if not states.can(doc, "sign"):
        states.transition(doc, "sign")
    return None


def _approved_sha(session: Session, doc: Document) -> str | None:
    from . import routing

    return routing.approved_sha256(session, doc)


def resolve_level(org: Organisation, requested: str | None, default: str) -> str:
    level = requested or (org.settings or {}).get("signature_level") or default
    if level not in LEVELS:
        raise InvalidInput(f"Mức chữ ký PAdES không hợp lệ: {level}. Dùng: {', '.join(LEVELS)}.")
    return level


def build_spec(session: Session, store, *, user: User, doc: Document, kind: str, level: str,
               authority: str | None) -> SignSpec:
    org = session.get(Organisation, doc.org_id)
    sig_img = store.read_bytes(user.signature_image_sha256) if (kind == "personal" and user.signature_image_sha256) else None
    seal_sha = (org.settings or {}).get("seal_image_sha256")
    seal_img = store.read_bytes(seal_sha) if (kind == "seal" and seal_sha) else None
    return SignSpec(
        kind=kind, level=level, key_ref=user.signing_key if kind == "personal" else None,
        full_name=user.full_name, position=user.position or "", authority=authority, agency_name=org.name,
        number_symbol=doc.number_symbol, signature_image=sig_img, seal_image=seal_img,
        location=org.place,
        reason="Ký số văn bản" if kind == "personal" else "Văn thư ký số của cơ quan",
        extra={"parent_body": org.parent_name, "username": user.username, "org_settings": dict(org.settings or {})},
    )


# --------------------------------------------------------------------------------------------
# Server-side signing
# --------------------------------------------------------------------------------------------

def find_idempotent(session: Session, *, org_id: str, key: str | None, document_id: str) -> DocumentVersion | None:
    if not key:
        return None
    if len(key) > 128:
        raise InvalidInput("Idempotency-Key dài tối đa 128 ký tự.")
    req = session.scalar(select(SigningRequest).where(SigningRequest.org_id == org_id,
                                                      SigningRequest.idempotency_key == key))
    if req is None:
        return None
    if req.document_id != document_id:
        raise Conflict("Idempotency-Key này đã được dùng cho một văn bản khác.")
    return session.get(DocumentVersion, req.result_version_id)


def sign_document(
    session: Session, store, port: PdfSigningPort, *, actor: Actor, user: User, document_id: str, kind: str,
    idempotency_key: str | None = None, level: str | None = None, default_level: str = "B-B",
    max_size: int = documents.DEFAULT_MAX_UPLOAD,
) -> tuple[DocumentVersion, bool]:
    """Sign the current version of an outgoing document and record the result as a new, final
    version. Returns (version, replayed) — replayed is True when ``idempotency_key`` was already
    used for this document (the earlier result is returned, nothing is signed again).
    """
    doc = documents.get_document(session, org_id=actor.org_id, document_id=document_id)
    done = find_idempotent(session, org_id=actor.org_id, key=idempotency_key, document_id=doc.id)
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
    version = documents.add_version(session, store, actor=actor, document=doc, sha256=blob.sha256, size=blob.size,
                                    kind="signed", is_final=True, page_count=base.page_count)
    if kind in ("personal", "seal"):
        states.transition(doc, "sign")
        if kind == "personal":
            doc.signer_name = user.full_name
            doc.signer_position = user.position
            doc.signer_competence = authority.split(" ", 1)[0] if authority else None
    audit.record(session, actor=actor, action=f"document.sign.{kind}", object_type="document", object_id=doc.id,
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
    session: Session, store, port: ExternalSigningPort, *, actor: Actor, user: User, document_id: str,
    certificate_pem: str, chain_pem: list[str], level: str | None = None, default_level: str = "B-B",
) -> tuple[SigningSession, PreparedExternal]:
    doc = documents.get_document(session, org_id=actor.org_id, document_id=document_id)
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
    audit.record(session, actor=actor, action="document.sign.external_prepare", object_type="document",
                 object_id=doc.id, details={"session": sess.id, "base_sha256": base.sha256,
                                            "prepared_sha256": blob.sha256})
    return sess, prepared


def complete_external(
    session: Session, store, port: ExternalSigningPort, *, actor: Actor, user: User, session_id: str,
    signature: bytes, now: datetime | None = None,
) -> DocumentVersion:
    sess = session.get(SigningSession, session_id)
    if sess is None or sess.org_id != actor.org_id or sess.user_id != user.id:
        raise NotFound("Không tìm thấy phiên ký.")
    if sess.status == "completed":
        return session.get(DocumentVersion, sess.result_version_id)
    now = now or utcnow()
    if sess.status not in ("pending", "confirming") or sess.expires_at <= now:
        if sess.status in ("pending", "confirming"):
            sess.status = "expired"
        session.flush()
        raise Conflict("Phiên ký đã hết hạn; hãy bắt đầu ký lại.")
    doc = documents.get_document(session, org_id=actor.org_id, document_id=sess.document_id)
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
    version = documents.add_version(session, store, actor=actor, document=doc, sha256=blob.sha256, size=blob.size,
                                    kind="signed", is_final=True, page_count=current.page_count)
    states.transition(doc, "sign")
    doc.signer_name, doc.signer_position = user.full_name, user.position
    doc.signer_competence = authority.split(" ", 1)[0] if authority else None
    sess.status = "completed"
    sess.result_version_id = version.id
    audit.record(session, actor=actor, action="document.sign.personal", object_type="document", object_id=doc.id,
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

