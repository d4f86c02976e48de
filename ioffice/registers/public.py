"""What anyone may learn about a document this installation issued, from the file they hold.

Public verification (``/verify``) looks the uploaded PDF up by its SHA-256 — or by the hash of a
signed revision inside it, when later revisions were appended — in the outgoing registers of every
agency on the installation (the file is the proof of possession: only the facts printed on the
issued document are returned, never an internal note, a recipient list or who pressed the button).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.documents.models import Document
from ioffice.registers.models import OutgoingEntry


def issued_document(session: Session, *, sha256: str | None,
                    revision_sha256s: Iterable[str | None] = ()) -> dict[str, Any] | None:
    """The public facts of the issued document whose issued file is ``sha256`` (``matched``:
    ``same_file``) or one of the signed revisions of the file (``matched``: ``revision`` — the file
    holds the issued document plus later additions), else None."""
    hashes = [h for h in [sha256, *revision_sha256s] if h]
    if not hashes:
        return None
    entries = list(session.scalars(select(OutgoingEntry).where(OutgoingEntry.sha256.in_(hashes))
                                   .order_by(OutgoingEntry.issued_at.desc()).limit(20)))
    if not entries:
        return None
    entry = next((e for e in entries if e.sha256 == sha256), entries[0])
    doc = session.get(Document, entry.document_id)
    if doc is None:
        return None
    secret = bool(doc.secrecy)
    return {
        "source": "register",
        "matched": "same_file" if entry.sha256 == sha256 else "revision",
        "issuing_body": doc.issuing_body,
        "parent_body": doc.parent_body,
        "doc_type": doc.doc_type_name or None,
        "number_symbol": entry.symbol,
        "issued_date": entry.issued_date.isoformat(),
        "issued_date_text": f"{entry.issued_date:%d/%m/%Y}",
        "place": doc.place,
        # the summary line (trích yếu) is printed on the document; a classified one is not repeated
        "summary": None if secret else doc.summary,
        "signer_name": doc.signer_name,
        "signer_position": doc.signer_position,
        "signer_competence": doc.signer_competence,
        "recalled": doc.status == "recalled",
        "recalled_date_text": _recall_date((doc.extra or {}).get("recall")) if doc.status == "recalled" else None,
    }


def _recall_date(mark: Any) -> str | None:
    from datetime import datetime

    from ioffice.kernel.workcalendar import to_vn_date

    try:
        return f"{to_vn_date(datetime.fromisoformat(mark['at'])):%d/%m/%Y}"
    except (TypeError, KeyError, ValueError):
        return None
