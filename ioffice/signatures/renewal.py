"""B-LTA renewal: a document timestamp is only as good as its TSA certificate. Before that
certificate expires, the archived PDF gets the validation data of its latest timestamp and a new
document timestamp on top (PAdES B-LTA, ETSI EN 319 142-1 §5.5), recorded as a new final version.

The core decides which documents and records the result; the PDF work is a port
(:class:`TimestampRenewalPort`, implemented with pyHanko in ``signing.renewal``). Each document is
read, renewed with no transaction open and written in a short transaction guarded like a signature
(a concurrent change → that document is left for the next run).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .. import audit, documents
from ..documents.models import Document, DocumentVersion
from ..kernel.caller import Caller
from ..kernel.db import utcnow
from ..kernel.errors import DomainError
from ..kernel.ports import BlobStore
from .services import _guarded_write, _ReadState

log = logging.getLogger(__name__)


class TimestampRenewalPort(Protocol):
    def timestamp_expiry(self, pdf: bytes) -> datetime | None:
        """When the TSA certificate of the PDF's latest document timestamp expires; None when the
        PDF has no document timestamp (not B-LTA: nothing to renew)."""
        ...

    def renew_timestamp(self, pdf: bytes) -> bytes:
        """The PDF with the validation data of its latest timestamp and a new document timestamp
        appended (incremental update). Raises DomainError subclasses (TSA/OCSP unreachable...)."""
        ...


@dataclass
class RenewalResult:
    checked: int = 0
    renewed: list[str] = field(default_factory=list)  # document ids
    failed: list[str] = field(default_factory=list)


def due_for_renewal(sessions: sessionmaker[Session]) -> list[tuple[str, str]]:
    """(document id, org id) of every document whose current version is a final signed PDF."""
    with sessions() as s:
        rows = s.execute(select(Document.id, Document.org_id).join(
            DocumentVersion, DocumentVersion.id == Document.current_version_id).where(
            DocumentVersion.is_final.is_(True), DocumentVersion.kind.in_(("signed", "issued", "timestamped"))))
        return [(r[0], r[1]) for r in rows]


def renew_timestamps(sessions: sessionmaker[Session], store: BlobStore, port: TimestampRenewalPort, *,
                     window: timedelta, now: datetime | None = None) -> RenewalResult:
    """Add a new document timestamp to every archived document whose latest document timestamp's
    TSA certificate expires within ``window`` from ``now``. One document failing does not stop
    the others (it is retried at the next run)."""
    now = now or utcnow()
    result = RenewalResult()
    for doc_id, org_id in due_for_renewal(sessions):
        read_session = sessions()
        try:
            doc = read_session.get(Document, doc_id)
            base = documents.current_version(read_session, doc) if doc is not None else None
            if doc is None or base is None:
                continue
            read = _ReadState(doc.id, doc.lock_version, base.id, base.sha256, base.size, base.page_count)
            read_session.commit()
        finally:
            read_session.close()
        result.checked += 1
        pdf = store.read_bytes(read.base_sha256)
        expiry = port.timestamp_expiry(pdf)
        if expiry is None or expiry > now + window:
            continue
        try:
            renewed = port.renew_timestamp(pdf)
            blob = store.put_bytes(renewed)
            system = Caller(username="system", org_id=org_id)  # recorded on the agency's audit chain
            with _guarded_write(read_session, sessions, read) as (ws, wdoc):
                version = documents.add_version(ws, store, caller=system, document=wdoc, sha256=blob.sha256,
                                                size=blob.size, kind="timestamped", is_final=True,
                                                page_count=read.base_pages)
                audit.record(ws, caller=system, action="document.timestamp.renew", object_type="document",
                             object_id=wdoc.id, details={"base_sha256": read.base_sha256, "sha256": blob.sha256,
                                                         "version": version.id,
                                                         "expiring": expiry.isoformat()})
        except DomainError as exc:
            log.warning("timestamp renewal of document %s failed: %s", doc_id, type(exc).__name__)
            result.failed.append(doc_id)
            continue
        result.renewed.append(doc_id)
    return result
