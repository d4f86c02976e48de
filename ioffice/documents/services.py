"""Documents: upload (blob first, row second), versions, listing with filters, content access."""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Unit
from ioffice.audit import services as audit
from ioffice.documents.doctypes import COMPETENCE, resolve_doc_type
from ioffice.documents.models import Document, DocumentVersion
from ioffice.documents.pdfcheck import inspect_pdf
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import get_scoped
from ioffice.kernel.errors import InvalidInput, NotFound, PayloadTooLarge
from ioffice.kernel.ports import BlobStore
from ioffice.kernel.vocab import Secrecy, Urgency

DEFAULT_MAX_UPLOAD = 100 * 1024 * 1024


class DocumentMetadata(BaseModel):
    """The ``metadata`` JSON of an upload (Decree 30 fields; unknown keys are rejected)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    direction: Literal["incoming", "outgoing"]
    doc_type: str = Field(min_length=1, max_length=64, description="Vietnamese type name or its abbreviation")
    summary: str = Field(min_length=1, max_length=4000, description="Trích yếu")
    number_symbol: str | None = Field(default=None, max_length=128, description="e.g. 15/QĐ-UBND")
    issuing_body: str | None = Field(default=None, max_length=255)
    issuing_body_code: str | None = Field(default=None, max_length=13)
    parent_body: str | None = Field(default=None, max_length=255)
    place: str | None = Field(default=None, max_length=128)
    issued_date: date | None = None
    signer_competence: str | None = Field(default=None, description="TM., Q., KT., TL., TUQ.")
    signer_position: str | None = Field(default=None, max_length=128)
    signer_name: str | None = Field(default=None, max_length=255)
    recipients: list[str] = Field(default_factory=list, max_length=500)
    urgency: Urgency | None = None
    secrecy: Secrecy | None = None
    due_date: date | None = None
    drafting_unit_id: str | None = None
    replaces_id: str | None = Field(default=None, max_length=32, description="the issued document this one replaces")

    @field_validator("urgency", "secrecy", mode="before")
    @classmethod
    def _vietnamese_marks(cls, v: object) -> object:
        """Accept the Vietnamese words (``thượng khẩn``, ``Tối mật``) as well as the codes."""
        if not isinstance(v, str):
            return v
        import unicodedata

        plain = "".join(c for c in unicodedata.normalize("NFD", v.strip().lower().replace("đ", "d"))
                        if not unicodedata.combining(c))
        return "_".join(plain.replace("-", " ").replace("_", " ").split()) or None

    @field_validator("signer_competence")
    @classmethod
    def _competence(cls, v: str | None) -> str | None:
        if v is None:
            return v
        norm = v.upper().rstrip(".") + "."
        if norm not in COMPETENCE:
            raise ValueError(f"must be one of {', '.join(COMPETENCE)}")
        return norm


_FILENAME_BAD = re.compile(r"[^\w.\- ()]+", re.UNICODE)


_BIDI_CONTROLS = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
_RUNNABLE = frozenset({"exe", "com", "bat", "cmd", "scr", "pif", "msi", "js", "jse", "vbs", "vbe", "wsf", "hta",
                       "ps1", "jar", "lnk", "reg", "cpl", "dll", "sh", "app"})


def sanitize_filename(name: str | None, default: str = "document.pdf") -> str:
    """A safe display file name: no path parts, no control or shell characters, ≤ 120 chars."""
    if not name:
        return default
    name = unicodedata.normalize("NFC", name).replace("\\", "/").split("/")[-1]
    spoofed = any(unicodedata.bidirectional(ch) in _BIDI_CONTROLS for ch in name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C"
                   and unicodedata.bidirectional(ch) not in _BIDI_CONTROLS)
    name = _FILENAME_BAD.sub("_", name).strip(" ._")
    if not name:
        return default
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, "pdf"
    if spoofed or ext.lower() in _RUNNABLE:  # "hoadon<RLO>fdp.exe" shows as "hoadonexe.pdf": never keep it
        stem, ext = f"{stem}_{ext}", default.rpartition(".")[2] or "pdf"
    return f"{stem[:110]}.{ext[:8]}"


def search_key(text: str) -> str:
    """Case- and diacritic-insensitive form used for text search (Vietnamese aware: đ → d)."""
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return text.replace("đ", "d")


def _search_text(doc: Document) -> str:
    parts = [doc.summary, doc.number_symbol or "", doc.issuing_body or "", doc.doc_type_name, doc.signer_name or ""]
    return search_key(" ".join(parts))


def _file_size(f: BinaryIO) -> int:
    f.seek(0, os.SEEK_END)
    n = f.tell()
    f.seek(0)
    return n


def store_pdf(store: BlobStore, f: BinaryIO, *, max_size: int) -> tuple[str, int, int]:
    """Validate the PDF in the seekable file ``f`` and stream it to the store.

    Returns (sha256, size, page count). Raises PayloadTooLarge, InvalidDocument (nothing stored),
    StorageUnavailable.
    """
    size = _file_size(f)
    if size > max_size:
        raise PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({max_size // (1024 * 1024)} MB).")
    pages = inspect_pdf(f)
    blob = store.put_stream(f, max_size=max_size)
    return blob.sha256, blob.size, pages


def create_document(
    session: Session, store: BlobStore, *, caller: Caller, metadata: DocumentMetadata, file: BinaryIO,
    filename: str | None, max_size: int = DEFAULT_MAX_UPLOAD, status: str | None = None,
) -> Document:
    """Store the file, then record the document and its first version (caller commits)."""
    assert caller.org_id and caller.user_id
    type_name, type_abbr = resolve_doc_type(metadata.doc_type)
    if metadata.drafting_unit_id is not None:
        unit = session.get(Unit, metadata.drafting_unit_id)
        if unit is None or unit.org_id != caller.org_id:
            raise NotFound("Không tìm thấy đơn vị soạn thảo (drafting_unit_id).")
    replaced = None
    if metadata.replaces_id is not None:
        replaced = session.get(Document, metadata.replaces_id)
        if replaced is None or replaced.org_id != caller.org_id or replaced.direction != "outgoing" \
                or metadata.direction != "outgoing":
            raise NotFound("Không tìm thấy văn bản đi được thay thế (replaces_id).")
    sha256, size, pages = store_pdf(store, file, max_size=max_size)
    data = metadata.model_dump(exclude={"doc_type", "replaces_id"})
    doc = Document(
        org_id=caller.org_id, doc_type=type_abbr, doc_type_name=type_name, created_by=caller.user_id,
        status=status or ("received" if metadata.direction == "incoming" else "draft"), page_count=pages, **data,
    )
    doc.search_text = _search_text(doc)
    session.add(doc)
    session.flush()
    if replaced is not None:
        doc.extra = {**(doc.extra or {}), "replaces_id": replaced.id}
        replaced.extra = {**(replaced.extra or {}), "replaced_by_id": doc.id}
    version = _new_version(session, doc, caller=caller, sha256=sha256, size=size, filename=filename, kind="upload",
                           page_count=pages)
    audit.record(session, caller=caller, action="document.upload", object_type="document", object_id=doc.id,
                 details={"version": version.id, "sha256": sha256, "size": size, "direction": doc.direction})
    return doc


def _new_version(session: Session, doc: Document, *, caller: Caller, sha256: str, size: int, filename: str | None,
                 kind: str, page_count: int | None, is_final: bool = False) -> DocumentVersion:
    seq = (session.scalar(select(func.max(DocumentVersion.seq)).where(DocumentVersion.document_id == doc.id)) or 0) + 1
    version = DocumentVersion(
        document_id=doc.id, org_id=doc.org_id, seq=seq, sha256=sha256, size=size,
        filename=sanitize_filename(filename), kind=kind, is_final=is_final, page_count=page_count,
        created_by=caller.user_id,
    )
    session.add(version)
    session.flush()
    doc.current_version_id = version.id
    if page_count:
        doc.page_count = page_count
    return version


def add_version(
    session: Session, store: BlobStore, *, caller: Caller, document: Document, file: BinaryIO | None = None,
    sha256: str | None = None, size: int | None = None, filename: str | None = None, kind: str = "upload",
    max_size: int = DEFAULT_MAX_UPLOAD, is_final: bool = False, page_count: int | None = None,
) -> DocumentVersion:
    """Append a version: either from ``file`` (validated and stored here) or from an already
    stored blob ``sha256``/``size`` (e.g. a signing result). Final versions are locked in storage.
    """
    if file is not None:
        sha256, size, page_count = store_pdf(store, file, max_size=max_size)
    elif sha256 is None or size is None:
        raise InvalidInput("A version needs a file or a stored blob.")
    elif not store.exists(sha256):
        raise NotFound("Nội dung phiên bản chưa được lưu trong kho.")
    current = current_version(session, document)
    version = _new_version(session, document, caller=caller, sha256=sha256, size=size,
                           filename=filename or (current.filename if current else None), kind=kind,
                           page_count=page_count, is_final=is_final)
    if is_final:
        store.mark_final(sha256)
    audit.record(session, caller=caller, action=f"document.version.{kind}", object_type="document",
                 object_id=document.id, details={"version": version.id, "seq": version.seq, "sha256": sha256})
    return version


def get_document(session: Session, *, org_id: str, document_id: str) -> Document:
    """The document ``document_id`` of ``org_id``; another agency's id is NotFound."""
    doc = get_scoped(session, Document, document_id, org_id, not_found="Không tìm thấy văn bản.")
    return doc


def current_version(session: Session, doc: Document) -> DocumentVersion | None:
    if doc.current_version_id is None:
        return None
    return session.get(DocumentVersion, doc.current_version_id)


def get_version(session: Session, *, org_id: str, document_id: str, version_id: str) -> DocumentVersion:
    v = session.get(DocumentVersion, version_id)
    if v is None or v.org_id != org_id or v.document_id != document_id:
        raise NotFound("Không tìm thấy phiên bản văn bản.")
    return v


def open_content(
    session: Session, store: BlobStore, *, caller: Caller, document_id: str, version_id: str | None = None,
) -> tuple[DocumentVersion, BinaryIO]:
    """Verified bytes of the current (or given) version; the download is audited."""
    org_id = caller.person.org_id
    doc = get_document(session, org_id=org_id, document_id=document_id)
    version = (get_version(session, org_id=org_id, document_id=doc.id, version_id=version_id)
               if version_id else current_version(session, doc))
    if version is None:
        raise NotFound("Văn bản chưa có nội dung.")
    f = store.open(version.sha256)
    audit.record(session, caller=caller, action="document.download", object_type="document", object_id=doc.id,
                 details={"version": version.id, "sha256": version.sha256})
    return version, f


@dataclass
class DocumentFilter:
    direction: str | None = None
    doc_type: str | None = None
    status: str | None = None
    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    limit: int = 50
    offset: int = 0


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def _filter_conditions(org_id: str, f: DocumentFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``f`` on ``documents`` (always scoped to ``org_id``)."""
    if not 1 <= f.limit <= 200 or f.offset < 0:
        raise InvalidInput("limit phải trong khoảng 1–200 và offset ≥ 0.")
    conds: list[ColumnElement[bool]] = [Document.org_id == org_id]
    if f.direction:
        conds.append(Document.direction == f.direction)
    if f.doc_type:
        conds.append(Document.doc_type == resolve_doc_type(f.doc_type)[1])
    if f.status:
        conds.append(Document.status == f.status)
    if f.date_from:
        conds.append(Document.created_at >= _day_start(f.date_from))
    if f.date_to and f.date_to < date.max:
        conds.append(Document.created_at < _day_start(f.date_to) + timedelta(days=1))
    if f.issued_from:
        conds.append(Document.issued_date >= f.issued_from)
    if f.issued_to:
        conds.append(Document.issued_date <= f.issued_to)
    if f.q:
        needle = search_key(f.q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append(Document.search_text.like(f"%{needle}%", escape="\\"))
    return conds


_NEWEST_FIRST = (Document.created_at.desc(), Document.id)


def list_documents(session: Session, *, org_id: str, f: DocumentFilter) -> tuple[list[Document], int]:
    """Documents of ``org_id`` matching ``f``, newest first, and the total count."""
    conds = _filter_conditions(org_id, f)
    total = session.scalar(select(func.count()).select_from(Document).where(*conds))
    rows = session.scalars(select(Document).where(*conds).order_by(*_NEWEST_FIRST).limit(f.limit).offset(f.offset))
    return list(rows.all()), int(total or 0)


# The columns a page of the list shows: every column of the row but the search key and the
# bookkeeping ones, and the current version's hash, size and file name.
_PAGE_COLUMNS = tuple(c for c in Document.__table__.c
                      if c.name not in ("search_text", "lock_version", "org_id", "drafting_unit_id"))


def list_page(session: Session, *, org_id: str, f: DocumentFilter) -> tuple[list[dict[str, Any]], int]:
    """One page of :func:`list_documents` as plain dicts (column name → value), each with the
    current version's ``sha256``, ``size`` and ``filename`` joined in, and the total count.

    The list is the service's most frequent read, so it costs one statement: the total rides on
    every row (``count(*) OVER ()``), and the rows are read through the session's connection (no
    ORM objects, no identity map). Only a page past the end, which has no row to carry the total,
    costs a second statement."""
    conds = _filter_conditions(org_id, f)
    stmt = (select(*_PAGE_COLUMNS, DocumentVersion.sha256, DocumentVersion.size, DocumentVersion.filename,
                   func.count().over().label("total_count"))
            .select_from(Document)
            .outerjoin(DocumentVersion, DocumentVersion.id == Document.current_version_id)
            .where(*conds).order_by(*_NEWEST_FIRST).limit(f.limit).offset(f.offset))
    result = session.connection().execute(stmt)
    keys = tuple(result.keys())
    rows = [dict(zip(keys, row, strict=True)) for row in result]
    if rows:
        return rows, int(rows[0]["total_count"])
    if f.offset == 0:
        return [], 0
    return [], int(session.scalar(select(func.count()).select_from(Document).where(*conds)) or 0)


def refresh_search(doc: Document) -> None:
    """Recompute the search key after metadata changes (number/symbol, summary…)."""
    doc.search_text = _search_text(doc)
