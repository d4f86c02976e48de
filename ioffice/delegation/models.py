"""Delegations of signing and review authority (KT., TUQ.)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.kernel.db import Base, UTCDateTime, new_id, utcnow


class Delegation(Base):
    __tablename__ = "delegations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    delegator_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    delegate_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    competence: Mapped[str] = mapped_column(String(8))  # KT. | TUQ.
    start_date: Mapped[date] = mapped_column()
    end_date: Mapped[date] = mapped_column()
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}

    def active_on(self, day: date) -> bool:
        return self.revoked_at is None and self.start_date <= day <= self.end_date
