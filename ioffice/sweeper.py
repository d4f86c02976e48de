"""Removes blobs that no database row references, once they are older than a grace period.

A row is only written after its blob is durably stored, so a blob younger than the grace period may
belong to a transaction still in flight; it is left alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.kernel.blobrefs import _JSON_REFERENCES, _REFERENCES, hashes_in_json
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import BlobLocked
from ioffice.kernel.ports import BlobStore


def referenced_hashes(session: Session) -> set[str]:
    from ioffice import schema  # noqa: F401  (imports every module that registers references)

    refs: set[str] = set()
    for col in _REFERENCES:
        refs.update(h for h in session.scalars(select(col).where(col.is_not(None)).distinct()) if h)
    for col in _JSON_REFERENCES:
        for value in session.scalars(select(col).where(col.is_not(None))):
            refs.update(hashes_in_json(value))
    return refs


def _is_referenced(session: Session, sha256: str) -> bool:
    if any(session.scalar(select(col).where(col == sha256).limit(1)) for col in _REFERENCES):
        return True
    return any(sha256 in hashes_in_json(value) for col in _JSON_REFERENCES
               for value in session.scalars(select(col).where(col.is_not(None))))


@dataclass
class SweepResult:
    scanned: int = 0
    removed: int = 0
    kept_young: int = 0
    kept_final: int = 0
    freed_bytes: int = 0


def sweep(
    session: Session, store: BlobStore, *, grace: timedelta = timedelta(hours=24), dry_run: bool = False
) -> SweepResult:
    """Delete unreferenced blobs older than ``grace``. Final (locked) blobs are never deleted."""
    cutoff = utcnow() - grace
    refs = referenced_hashes(session)
    result = SweepResult()
    for info in store.iter_blobs():
        result.scanned += 1
        if info.sha256 in refs:
            continue
        if info.modified > cutoff:
            result.kept_young += 1
            continue
        if dry_run:
            result.removed += 1
            result.freed_bytes += info.size
            continue
        # Re-check right before deleting: a row may have appeared since the scan started.
        if _is_referenced(session, info.sha256):
            continue
        try:
            store.delete(info.sha256)
        except BlobLocked:
            result.kept_final += 1
            continue
        result.removed += 1
        result.freed_bytes += info.size
    return result
