"""Queries of review rounds and steps."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.documents.models import Document
from ioffice.review.models import ReviewRound, ReviewStep


def steps_of(session: Session, *, round_id: str, stage_index: int | None = None) -> list[ReviewStep]:
    q = select(ReviewStep).where(ReviewStep.round_id == round_id)
    if stage_index is not None:
        q = q.where(ReviewStep.stage_index == stage_index)
    return list(session.scalars(q.order_by(ReviewStep.stage_index, ReviewStep.id)))


def rounds_of(session: Session, *, org_id: str, document_id: str) -> list[ReviewRound]:
    return list(session.scalars(select(ReviewRound).where(ReviewRound.org_id == org_id,
                                                          ReviewRound.document_id == document_id)
                                .order_by(ReviewRound.submitted_at, ReviewRound.id)))


def active_round(session: Session, doc: Document) -> ReviewRound | None:
    return session.scalars(select(ReviewRound).where(ReviewRound.document_id == doc.id,
                                                     ReviewRound.status == "active")).first()


def approved_round(session: Session, doc: Document) -> ReviewRound | None:
    return session.scalars(select(ReviewRound).where(ReviewRound.document_id == doc.id,
                                                     ReviewRound.status == "approved")
                           .order_by(ReviewRound.submitted_at.desc())).first()
