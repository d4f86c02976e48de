"""Delivery receipts of documents sent to other agencies (QCVN 102:2016 statuses)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ioffice.kernel.db import Base, UTCDateTime, new_id, utcnow

# QCVN 102:2016 status codes
RECEIVED, REJECTED, ACCEPTED, ASSIGNED, PROCESSING, COMPLETED = 1, 2, 3, 4, 5, 6
STATUS_LABELS = {
    RECEIVED: "Đã đến",
    REJECTED: "Từ chối tiếp nhận",
    ACCEPTED: "Đã tiếp nhận",
    ASSIGNED: "Đã phân công",
    PROCESSING: "Đang xử lý",
    COMPLETED: "Đã hoàn thành",
}


class DeliveryReceipt(Base):
    """One issued document sent to one organisation of this installation, and how far it got."""

    __tablename__ = "delivery_receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)  # sender
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)  # sender's document
    recipient_org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    recipient_document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True, unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer, default=RECEIVED)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(1000))
