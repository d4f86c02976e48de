"""Assignments of incoming documents and their progress notes."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.kernel.db import Base, UTCDateTime, new_id, utcnow


class Assignment(Base):
    """Who handles (or is informed of) an incoming document, from whom, with which deadline.

    A leader's assignment to a unit is ``passed_on`` by the unit head to a specialist: the child
    row (``parent_id``) is the one that is handled and counted in the follow-up report.
    """

    __tablename__ = "assignments"
    __table_args__ = (Index("ix_assignments_org_status", "org_id", "status"),)
    STEP_KIND = "assignment"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("assignments.id"))
    role: Mapped[str] = mapped_column(String(8))  # lead | co | info
    assignee_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    assignee_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"), index=True)
    assigned_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    directions: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str | None] = mapped_column(String(64))  # the version it was assigned on
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    completed_on: Mapped[date | None] = mapped_column()  # Vietnam calendar date of completion
    result_note: Mapped[str] = mapped_column(Text, default="")
    reply_document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class AssignmentNote(Base):
    """A progress note recorded by a handler."""

    __tablename__ = "assignment_notes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    assignment_id: Mapped[str] = mapped_column(ForeignKey("assignments.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
