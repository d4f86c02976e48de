"""Core tables: organisations, units, users, documents and their versions, audit events.

Other domain modules (registers, workflows, copies, signing sessions) add their own tables on the
same ``Base``; every table that holds agency data has an ``org_id`` column and every query filters
on it.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base, UTCDateTime, new_id, utcnow

ROLES = ("clerk", "specialist", "unit_head", "leader", "certifier", "admin")
ROLE_LABELS = {
    "clerk": "Văn thư",
    "specialist": "Chuyên viên",
    "unit_head": "Trưởng phòng",
    "leader": "Lãnh đạo",
    "certifier": "Cán bộ chứng thực",
    "admin": "Quản trị",
}


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    organ_code: Mapped[str | None] = mapped_column(String(13), unique=True)  # OrganId
    abbreviation: Mapped[str] = mapped_column(String(32))  # e.g. UBND
    parent_name: Mapped[str | None] = mapped_column(String(255))
    place: Mapped[str | None] = mapped_column(String(128))  # date line place, e.g. "Yên Khánh"
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    units: Mapped[list["Unit"]] = relationship(back_populates="organisation")


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("org_id", "abbreviation"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    abbreviation: Mapped[str] = mapped_column(String(32))

    organisation: Mapped[Organisation] = relationship(back_populates="units")


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    position: Mapped[str | None] = mapped_column(String(128))  # e.g. "Chủ tịch"
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    signing_key: Mapped[str | None] = mapped_column(String(1024))  # key spec: PKCS#12 path or pkcs11: URI
    signature_image_sha256: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    unit: Mapped[Unit | None] = relationship()

    def has_role(self, *roles: str) -> bool:
        return any(r in (self.roles or []) for r in roles)


class LoginAttempt(Base):
    """Login attempts, kept in the database so throttling holds across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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

    versions: Mapped[list["DocumentVersion"]] = relationship(
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


class AuditHead(Base):
    """The tip of each audit hash chain (one chain per organisation, plus '_system')."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only, hash-chained record of a state change."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    org_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RateLimitBucket(Base):
    """Fixed-window request counters for public endpoints, shared by every API process."""

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix minute
    count: Mapped[int] = mapped_column(Integer, default=0)
