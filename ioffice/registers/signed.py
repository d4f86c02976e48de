"""Issue only what was signed: the personal signature an outgoing document needs before issue.

A document may be issued once the approved version (the one the final approval bound) carries the
personal signature of the approving leader or of their delegate. The evidence is the signing
service's own record (``document.sign.personal``): it is written only after ``check_can_sign``
accepted the signer (final approver or active delegate) and only for the approved version or a
version derived from it by signing.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import User
from ioffice.audit.models import AuditEvent
from ioffice.documents.models import Document, DocumentVersion
from ioffice.kernel.errors import Conflict


@dataclass(frozen=True)
class PersonalSignature:
    signer_id: str | None
    signer_name: str | None
    sha256: str  # the signed version


def _approval(session: Session, doc: Document):
    from ioffice import review

    rnd = review.approved_round(session, doc)
    if rnd is None or review.approved_sha256(session, doc) is None:
        return None, []
    steps = review.steps_of(session, round_id=rnd.id, stage_index=len(rnd.stages) - 1)
    return rnd, [s for s in steps if s.status == "approved"]


def personal_signature(session: Session, doc: Document) -> PersonalSignature | None:
    """The personal signature on the approved version of ``doc``, or None."""
    rnd, _ = _approval(session, doc)
    if rnd is None:
        return None
    approved = session.get(DocumentVersion, rnd.version_id)
    if approved is None:
        return None
    since = {v.sha256 for v in session.scalars(select(DocumentVersion).where(
        DocumentVersion.document_id == doc.id, DocumentVersion.seq >= approved.seq))}
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.org_id == doc.org_id, AuditEvent.object_id == doc.id, AuditEvent.object_type == "document",
        AuditEvent.action == "document.sign.personal").order_by(AuditEvent.id))
    for ev in events:
        details = ev.details or {}
        if details.get("base_sha256") in since and details.get("sha256") in since:
            user = session.get(User, ev.actor_id) if ev.actor_id else None
            return PersonalSignature(signer_id=ev.actor_id, signer_name=user.full_name if user else ev.actor_name,
                                     sha256=details["sha256"])
    return None


def who_must_sign(session: Session, doc: Document) -> list[str]:
    """'Full name (position)' of the leaders whose final approval binds ``doc``."""
    _, steps = _approval(session, doc)
    out: list[str] = []
    for s in steps:
        user = session.get(User, s.acted_by or s.reviewer_id)
        if user is not None:
            label = f"{user.full_name} ({user.position})" if user.position else user.full_name
            if label not in out:
                out.append(label)
    return out


def require_personal_signature(session: Session, doc: Document) -> PersonalSignature:
    """Raise Conflict (409) naming who must sign unless the approved version was signed personally."""
    found = personal_signature(session, doc)
    if found is not None:
        return found
    names = who_must_sign(session, doc)
    if names:
        detail = ("Văn bản chưa được ký số bởi lãnh đạo đã phê duyệt: cần "
                  f"{', '.join(names)} (hoặc người được ủy quyền) ký số trước khi phát hành.")
    else:
        detail = ("Văn bản chưa có phiên bản đã được phê duyệt và ký số của lãnh đạo; "
                  "không thể phát hành.")
    raise Conflict(detail, must_sign=names)
