"""Register counters: the last number handed out per series and year."""
from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.kernel.db import Base, new_id


class RegisterCounter(Base):
    """The last number handed out in one series of one register for one calendar year."""

    __tablename__ = "register_counters"
    __table_args__ = (UniqueConstraint("org_id", "register", "series", "year"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(String(32), index=True)
    register: Mapped[str] = mapped_column(String(16))  # incoming | outgoing | copies | …
    series: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
