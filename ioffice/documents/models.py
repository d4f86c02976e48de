"""Documents (Decree 30 metadata) and their immutable versions."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.kernel.db import Base, UTCDateTime, new_id, utcnow


class Document(Base):
    """An official document (Decree 30 metadata) with an append-only list of versions."""

    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_org_direction_created", "org_id", "direction", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # incoming | outgoing
    doc_type: Mapped[str] = mapped_column(String(16))  # abbreviation, "" for công văn
    doc_type_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="draft", index=True)
    number: Mapped[int | None] = mapped_column(Integer)
    number_symbol: Mapped[str | None] = mapped_column(String(128), index=True)  # CodeNumber/CodeNotation
    issuing_body: Mapped[str | None] = mapped_column(String(255))  # OrganName
    issuing_body_code: Mapped[str | None] = mapped_column(String(13))
    parent_body: Mapped[str | None] = mapped_column(String(255))
    place: Mapped[str | None] = mapped_column(String(128))
    issued_date: Mapped[date | None] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    signer_competence: Mapped[str | None] = mapped_column(String(16))  # TM., KT., Q., TL., TUQ.
    signer_position: Mapped[str | None] = mapped_column(String(128))
    signer_name: Mapped[str | None] = mapped_column(String(255))
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    urgency: Mapped[str | None] = mapped_column(String(16))  # khan | thuong_khan | hoa_toc
    secrecy: Mapped[str | None] = mapped_column(String(16))  # mat | toi_mat | tuyet_mat
    due_date: Mapped[date | None] = mapped_column(Date)
    page_count: Mapped[int | None] = mapped_column(Integer)
    drafting_unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    search_text: Mapped[str] = mapped_column(Text, default="")  # case/diacritic-folded, see documents.search_key
    current_version_id: Mapped[str | None] = mapped_column(String(32))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.seq"
    )

    __mapper_args__ = {"version_id_col": lock_version}


class DocumentVersion(Base):
    """One immutable file state of a document: the blob's SHA-256 and how it came to be."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "seq"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(128), default="application/pdf")
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32), default="upload")  # upload | signed | issued | ...
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    page_count: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship(back_populates="versions")
