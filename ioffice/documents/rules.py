"""Small document rules shared by review and handling: optimistic lock, titles, version refs."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ioffice.documents import services as documents
from ioffice.documents.models import Document
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import Conflict


def touch(doc: Document) -> None:
    """Bump the document's optimistic lock even when its status does not change, so two concurrent
    workflow actions on one document cannot both commit."""
    doc.updated_at = utcnow()


def check_expected(doc: Document, expected_lock_version: int | None) -> None:
    """Raise Conflict when the caller saw an older state of the document than the current one."""
    if expected_lock_version is not None and expected_lock_version != doc.lock_version:
        raise Conflict("Văn bản đã thay đổi kể từ khi bạn mở nó. Vui lòng tải lại và thử lại.",
                       current_lock_version=doc.lock_version)


def version_ref(session: Session, doc: Document) -> dict[str, Any]:
    """The current version's id and SHA-256, for audit events."""
    v = documents.current_version(session, doc)
    return {"version": v.id if v else None, "sha256": v.sha256 if v else None}


def doc_title(doc: Document) -> str:
    ref = doc.number_symbol or doc.doc_type_name
    summary = doc.summary if len(doc.summary) <= 120 else doc.summary[:117] + "…"
    return f"{ref}: {summary}"
