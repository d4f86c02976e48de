"""Register numbers: atomic, gapless allocation per organisation, register, series and year.

A ``RegisterCounter`` row holds the last number handed out. Allocation is one
``UPDATE … SET last_number = last_number + 1 … RETURNING last_number`` inside the caller's
transaction: PostgreSQL keeps the row locked until commit (a concurrent allocation waits and then
sees the new value), SQLite runs every transaction as ``BEGIN IMMEDIATE`` (one writer at a time).
A rolled-back transaction gives its number back, so numbers stay gapless. The first allocation of
a year inserts the row inside a savepoint; when a concurrent transaction inserted it first the
IntegrityError is caught and the update retried.

Which series a document's number comes from is decided by :func:`outgoing_series` from the
organisation's ``settings`` JSON::

    {"outgoing_series": {"NQ": "NQ", "QĐ": "QĐ-QPPL"},   # per-type series (legal normative types)
     "secret_series": true}                               # secret documents: own series (default)

Everything else shares the series ``"chung"``.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ioffice.kernel.errors import ServiceUnavailable
from ioffice.registers.counter import RegisterCounter

REGISTER_KINDS = ("incoming", "outgoing", "copies")
SHARED_SERIES = "chung"
SECRET_SERIES = "mat"


def allocate_number(session: Session, *, org_id: str, register: str, year: int, series: str = SHARED_SERIES) -> int:
    """Hand out the next number (1, 2, …) of ``register``/``series`` for ``year`` in ``org_id``.

    Must run inside the transaction that records the number: the counter row stays locked until
    that transaction ends, and a rollback returns the number. Raises ServiceUnavailable when the
    row cannot be created after retries (should not happen).
    """
    where = (
        (RegisterCounter.org_id == org_id) & (RegisterCounter.register == register)
        & (RegisterCounter.series == series) & (RegisterCounter.year == year)
    )
    stmt = (
        update(RegisterCounter).where(where)
        .values(last_number=RegisterCounter.last_number + 1)
        .returning(RegisterCounter.last_number)
        .execution_options(synchronize_session=False)
    )
    for _ in range(5):
        number = session.execute(stmt).scalar_one_or_none()
        if number is not None:
            return int(number)
        try:
            with session.begin_nested():
                session.add(RegisterCounter(org_id=org_id, register=register, series=series, year=year,
                                            last_number=1))
            return 1
        except IntegrityError:
            continue  # someone else created the row first: their lock now orders us after them
    raise ServiceUnavailable("Không cấp được số văn bản, vui lòng thử lại.")


def last_number(session: Session, *, org_id: str, register: str, year: int, series: str = SHARED_SERIES) -> int:
    """The last number handed out so far (0 when none)."""
    value = session.scalar(select(RegisterCounter.last_number).where(
        RegisterCounter.org_id == org_id, RegisterCounter.register == register,
        RegisterCounter.series == series, RegisterCounter.year == year))
    return int(value or 0)


def is_secret(secrecy: str | None) -> bool:
    return bool(secrecy)


def outgoing_series(org_settings: dict[str, Any] | None, *, doc_type: str, secrecy: str | None) -> str:
    """The series key an outgoing document of ``doc_type`` (abbreviation) is numbered in.

    Secret documents get their own series unless ``secret_series`` is false; a type listed in
    ``outgoing_series`` gets the configured series; everything else the shared series.
    """
    cfg = org_settings or {}
    if is_secret(secrecy) and cfg.get("secret_series", True):
        return SECRET_SERIES
    per_type = cfg.get("outgoing_series") or {}
    if doc_type and doc_type in per_type and per_type[doc_type]:
        return str(per_type[doc_type])
    return SHARED_SERIES


def incoming_series(org_settings: dict[str, Any] | None, *, secrecy: str | None) -> str:
    """Incoming secret documents are registered in their own series unless configured otherwise."""
    cfg = org_settings or {}
    if is_secret(secrecy) and cfg.get("secret_series", True):
        return SECRET_SERIES
    return SHARED_SERIES


def format_number(n: int) -> str:
    """Decree 30: Arabic numerals, zero-padded below 10 (``05``)."""
    return f"{n:02d}"


def build_symbol(number: int, *, doc_type: str, body_abbr: str, unit_abbr: str | None = None) -> str:
    """``05/QĐ-UBND`` for a typed document, ``123/UBND-VP`` for a công văn (no type abbreviation)."""
    num = format_number(number)
    if doc_type:
        return f"{num}/{doc_type}-{body_abbr}"
    return f"{num}/{body_abbr}-{unit_abbr}" if unit_abbr else f"{num}/{body_abbr}"
