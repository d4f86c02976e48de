"""Database engine, session factory and declarative base.

SQLite gets WAL, foreign keys and IMMEDIATE transactions (so that counter allocation is a real
write lock) — except sessions made with ``read_only=True``, whose transactions begin DEFERRED and so
never take the write lock (a WAL reader sees a snapshot and does not block writers); PostgreSQL is
used as is. Nothing here reads settings: callers pass the URL.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


def id_column_type() -> String:
    return String(32)


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 20) -> Engine:
    """Create an engine for ``url`` with the per-backend settings the core relies on. On
    PostgreSQL ``pool_size`` connections stay open; up to ``max_overflow`` more are opened under a
    burst and closed again when returned (each costs a server process fork), so the service sizes
    the pool to its request concurrency (``api.container``).

    JSON columns are read with orjson: with the standard library's decoder, reading the two JSON
    columns of a 50-row page of the document list cost a tenth of the request's instructions."""
    if url.startswith("sqlite"):
        # A pool keeps connections open: closing the last connection of a WAL database makes SQLite
        # checkpoint (and fsync) every time.
        # Beyond ``pool_size`` a burst opens as many more as there are requests (-1: no cap): a
        # connection to a local file costs nothing, and a capped pool made the 33rd concurrent
        # upload wait out the pool timeout and fail (the write lock already queues them).
        pool = {"poolclass": StaticPool} if ":memory:" in url or url.rstrip("/") == "sqlite:" else {
            "pool_size": pool_size, "max_overflow": -1}
        engine = create_engine(url, echo=echo, hide_parameters=True,  # never log values (hashes, personal data)
                               json_deserializer=orjson.loads,
                               connect_args={"check_same_thread": False, "timeout": 30}, **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:  # pragma: no cover - trivial
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            # Each pooled connection keeps its own page cache (2 MiB by default): with the pool's
            # connections a worker grew by ~50 MB as the database grew. 256 KiB each bounds that
            # (pages missed come from the OS's file cache, shared by every connection).
            cur.execute("PRAGMA cache_size=-256")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:  # pragma: no cover - trivial
            read_only = conn.get_execution_options().get(READ_ONLY_OPTION)
            conn.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow,
                         hide_parameters=True, json_deserializer=orjson.loads)


READ_ONLY_OPTION = "ioffice_read_only"


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Sessions on ``engine``. ``read_only``: on SQLite the transactions begin DEFERRED (no write
    lock until the first write, which a read-only request never makes); writers stay IMMEDIATE."""
    bind = engine.execution_options(**{READ_ONLY_OPTION: True}) if read_only else engine
    return sessionmaker(bind=bind, expire_on_commit=False, autoflush=True)


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


M = TypeVar("M")


def get_scoped(session: Session, model: type[M], row_id: str | None, org_id: str | None, *,
               not_found: str = "Không tìm thấy.") -> M:
    """The row of ``model`` with primary key ``row_id`` inside organisation ``org_id``.

    Raises NotFound (with ``not_found`` as the message) when there is no such row or it belongs to
    another organisation: one agency never learns whether another agency's identifier exists.
    """
    from ioffice.kernel.errors import NotFound

    row = session.get(model, row_id) if row_id else None
    if row is None or getattr(row, "org_id", None) != org_id:
        raise NotFound(not_found)
    return row
