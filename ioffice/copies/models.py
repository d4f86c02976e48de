"""The table of electronic copies: certified copies of originals (chứng thực bản sao từ bản chính,
register SCT/BS) and the agency's own electronic copies (sao y, sao lục, trích sao)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..kernel.db import Base, UTCDateTime, new_id, utcnow

KIND_CERTIFIED = "certified"
AGENCY_FORMS = {"SAO Y": "SY", "SAO LỤC": "SL", "TRÍCH SAO": "TrS"}  # Decree 30 copy forms → abbreviation


class CopyRecord(Base):
    """One electronic copy. ``kind`` is ``certified`` or the agency copy form's abbreviation
    (``SY``, ``SL``, ``TrS``). The code is the public verification code printed in the QR."""

    __tablename__ = "copies"
    __table_args__ = (
        UniqueConstraint("org_id", "kind", "year", "number"),
        Index("ix_copies_org_kind_year", "org_id", "kind", "year"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=KIND_CERTIFIED)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    book: Mapped[str] = mapped_column(String(64))  # e.g. 01-SCTĐT/BS, or the symbol series of an agency copy
    title: Mapped[str] = mapped_column(Text)
    requester_name: Mapped[str | None] = mapped_column(String(255))
    requester_id_number: Mapped[str | None] = mapped_column(String(32))  # never shown publicly
    notes: Mapped[str | None] = mapped_column(Text)
    copies: Mapped[int] = mapped_column(Integer, default=1)
    pages: Mapped[int] = mapped_column(Integer)
    fee: Mapped[int] = mapped_column(Integer, default=0)  # VND
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | revoked
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_date: Mapped[date] = mapped_column(Date)
    certified_date: Mapped[date] = mapped_column(Date)
    certifier_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    certifier_name: Mapped[str] = mapped_column(String(255))
    certifier_position: Mapped[str | None] = mapped_column(String(128))
    document_id: Mapped[str | None] = mapped_column(ForeignKey("documents.id"))  # agency copies of a document
    source_sha256: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[str | None] = mapped_column(String(8))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
