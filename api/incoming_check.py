"""The check at the door, as the HTTP layers run it: validate an incoming upload's signatures with
no transaction open, then keep the result with a short write."""
from __future__ import annotations

import logging
from typing import Any, BinaryIO

from ioffice.documents import signature_check
from ioffice.documents.models import Document, DocumentVersion

from .container import Container

log = logging.getLogger("ioffice")


def check_upload(container: Container, f: BinaryIO, *, max_size: int) -> dict[str, Any] | None:
    """Validate an incoming upload before anything is written (None: too large to be a document
    at all — the store refuses it with 413 next)."""
    f.seek(0, 2)
    size = f.tell()
    f.seek(0)
    if size > max_size:
        return None
    return signature_check.run_check(container.validator, f)


def check_after_commit(container: Container, document_id: str) -> None:
    """For an upload that was stored inside a request transaction (the web form): read the stored
    version, validate it with no transaction open, then record the verdict (a background task)."""
    with container.read_sessions() as s:  # type: ignore[misc]
        doc = s.get(Document, document_id)
        version = s.get(DocumentVersion, doc.current_version_id) if doc and doc.current_version_id else None
        if doc is None or version is None or doc.direction != "incoming":
            return
        sha256 = version.sha256
    try:
        with container.store.open(sha256) as f:
            check = signature_check.run_check(container.validator, f)
    except Exception:  # noqa: BLE001 - the document stays unchecked; the log says why
        log.exception("signature check of incoming document %s failed", document_id)
        return
    with container.sessions() as s, s.begin():
        doc = s.get(Document, document_id)
        if doc is not None and signature_check.of(doc) is None:
            signature_check.record(doc, check, sha256=sha256)
