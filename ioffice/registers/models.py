"""Rows of the incoming and outgoing registers."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.kernel.db import Base, UTCDateTime, new_id, utcnow

# --------------------------------------------------------------------------------------------
# tables


class IncomingEntry(Base):
    """A row of the incoming register (sổ đăng ký văn bản đến)."""

    __tablename__ = "incoming_register"
    __table_args__ = (UniqueConstraint("org_id", "series", "year", "arrival_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), unique=True)
    series: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    arrival_number: Mapped[int] = mapped_column(Integer)
    arrival_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    arrival_date: Mapped[date]
    duplicate_key: Mapped[str | None] = mapped_column(String(400), index=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(32))  # registered despite this earlier document
    recipient: Mapped[str | None] = mapped_column(String(255))  # Đơn vị hoặc người nhận
    notes: Mapped[str | None] = mapped_column(Text)
    registered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))


class OutgoingEntry(Base):
    """A row of the outgoing register (sổ đăng ký văn bản đi)."""

    __tablename__ = "outgoing_register"
    __table_args__ = (UniqueConstraint("org_id", "series", "year", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), unique=True)
    series: Mapped[str] = mapped_column(String(64))
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    symbol: Mapped[str] = mapped_column(String(128))
    issued_date: Mapped[date]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    file_copy: Mapped[str | None] = mapped_column(String(255))  # Đơn vị, người nhận bản lưu
    copies: Mapped[int | None] = mapped_column(Integer)  # Số lượng bản
    notes: Mapped[str | None] = mapped_column(Text)
    issued_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str] = mapped_column(String(64))
