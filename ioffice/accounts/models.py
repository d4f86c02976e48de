"""Core tables: organisations, units, users, documents and their versions, audit events.

Other domain modules (registers, workflows, copies, signing sessions) add their own tables on the
same ``Base``; every table that holds agency data has an ``org_id`` column and every query filters
on it.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ioffice.kernel.db import Base, UTCDateTime, new_id, utcnow

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

    units: Mapped[list[Unit]] = relationship(back_populates="organisation")


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


class RateLimitBucket(Base):
    """Fixed-window request counters for public endpoints, shared by every API process."""

    __tablename__ = "rate_limit_buckets"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix minute
    count: Mapped[int] = mapped_column(Integer, default=0)
