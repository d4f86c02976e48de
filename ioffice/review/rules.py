"""What a finished review decides: the approved version and the signer's authority."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import User
from ioffice.delegation.services import active_delegation
from ioffice.documents.models import Document, DocumentVersion
from ioffice.review.models import ReviewStep
from ioffice.review.queries import approved_round, steps_of

# --------------------------------------------------------------------------- what signing binds to




def approved_sha256(session: Session, document: Document) -> str | None:
    """The SHA-256 that the final approval bound, or None when the document is not approved or a
    newer draft version (kind ``upload``) was added after it. Versions derived by signing/issuing
    (other kinds) do not void the approval."""
    rnd = approved_round(session, document)
    if rnd is None:
        return None
    final = [s for s in steps_of(session, round_id=rnd.id, stage_index=len(rnd.stages) - 1) if s.status == "approved"]
    if not final or any(s.sha256 != rnd.sha256 for s in final):
        return None
    approved = session.get_one(DocumentVersion, rnd.version_id)
    newer = session.scalars(select(DocumentVersion).where(DocumentVersion.document_id == document.id,
                                                          DocumentVersion.seq > approved.seq,
                                                          DocumentVersion.kind == "upload")).first()
    return None if newer is not None else rnd.sha256


def _final_step_for(session: Session, *, user: User, document: Document) -> ReviewStep | None:
    rnd = approved_round(session, document)
    if rnd is None:
        return None
    steps = [s for s in steps_of(session, round_id=rnd.id, stage_index=len(rnd.stages) - 1) if s.status == "approved"]
    return next((s for s in steps if s.acted_by == user.id), steps[0] if steps else None)


def signing_capacity(session: Session, *, user: User, document: Document, step: ReviewStep | None = None
                     ) -> tuple[str | None, str]:
    """(competence prefix or None, the signer's own position) with which ``user`` signs
    ``document``: ``KT.``/``TUQ.`` when they approved/sign through a delegation active today from
    the leader who holds the final approval, else None (signing in their own right)."""
    position = user.position or ""
    step = step or _final_step_for(session, user=user, document=document)
    if step is None:
        return None, position
    if step.acted_by == user.id:
        return step.competence, position
    d = active_delegation(session, delegator_id=step.reviewer_id, delegate_id=user.id)
    if d is not None:
        return d.competence, position
    return None, position


def authority_line(session: Session, *, step: ReviewStep | None = None, user: User | None = None,
                   document: Document | None = None) -> str | None:
    """The authority line printed above the position, e.g. ``KT. CHỦ TỊCH`` (the prefix and the
    position of the leader signed for), or None when the signer signs in their own right."""
    if step is None and user is not None and document is not None:
        step = _final_step_for(session, user=user, document=document)
        if step is not None and step.acted_by != user.id:
            d = active_delegation(session, delegator_id=step.reviewer_id, delegate_id=user.id)
            if d is None:
                return None
            principal = session.get_one(User, d.delegator_id)
            return f"{d.competence} {(principal.position or '').upper()}".strip()
    if step is None or step.competence is None:
        return None
    principal = session.get_one(User, step.reviewer_id)
    return f"{step.competence} {(principal.position or '').upper()}".strip()
