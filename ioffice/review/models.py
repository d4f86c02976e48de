"""Route templates, review rounds and review steps."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.kernel.db import Base, UTCDateTime, new_id, utcnow

# --------------------------------------------------------------------------- tables


class RouteTemplate(Base):
    __tablename__ = "route_templates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    doc_type: Mapped[str | None] = mapped_column(String(16))  # abbreviation, "" công văn, None any
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class ReviewRound(Base):
    """One submission of one version of a draft on one route."""

    __tablename__ = "review_rounds"
    __table_args__ = (Index("ix_review_rounds_doc_status", "document_id", "status"),)
    STEP_KIND = "review_round"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    template_id: Mapped[str | None] = mapped_column(ForeignKey("route_templates.id"))
    version_id: Mapped[str] = mapped_column(ForeignKey("document_versions.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # resolved: name, mode
    current_stage: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class ReviewStep(Base):
    """One reviewer's decision in one stage of a round."""

    __tablename__ = "review_steps"
    __table_args__ = (Index("ix_review_steps_reviewer_status", "reviewer_id", "status"),)
    STEP_KIND = "review_step"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    stage_index: Mapped[int] = mapped_column(Integer)
    stage_name: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(8))
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    due_working_days: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column()
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    delegation_id: Mapped[str | None] = mapped_column(ForeignKey("delegations.id"))
    competence: Mapped[str | None] = mapped_column(String(8))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version_id: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))  # the version this decision applies to
    comment: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}
