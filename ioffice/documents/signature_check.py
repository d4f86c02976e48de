"""The check at the door: every uploaded incoming PDF has its signatures validated.

The validation runs with no transaction open (:func:`run_check`, through the
:class:`~ioffice.kernel.ports.PdfValidationPort`); its result is kept on the document
(``extra["signature_check"]``) by a short write (:func:`record`). Registering a document whose
verdict is ``modified`` or ``invalid`` needs the clerk's confirmation; returning it to the sender
carries the reason.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, BinaryIO

from ioffice.documents.models import Document
from ioffice.kernel.db import utcnow
from ioffice.kernel.ports import PdfValidationPort, SignatureCheck

# Verdicts that hold a document at registration (the clerk must confirm or return it).
HELD_VERDICTS = ("modified", "invalid")


def run_check(validator: PdfValidationPort, source: BinaryIO) -> dict[str, Any]:
    """Validate ``source`` (seconds; call it outside any transaction). ``source`` is left at 0."""
    try:
        source.seek(0)
        result: SignatureCheck = validator.check(source)
    finally:
        source.seek(0)
    return as_dict(result, checked_at=utcnow())


def as_dict(result: SignatureCheck, *, checked_at: datetime) -> dict[str, Any]:
    return {"verdict": result.verdict, "trusted": bool(result.trusted), "checked_at": checked_at.isoformat(),
            "summary": result.summary, "problems": list(result.problems)[:10]}


def record(doc: Document, check: dict[str, Any], *, sha256: str | None) -> None:
    """Keep ``check`` on ``doc`` (for the version ``sha256``)."""
    doc.extra = {**(doc.extra or {}), "signature_check": {**check, "sha256": sha256}}


def of(doc: Document) -> dict[str, Any] | None:
    value = (doc.extra or {}).get("signature_check")
    return value if isinstance(value, dict) else None


def is_held(doc: Document) -> bool:
    check = of(doc)
    return check is not None and check.get("verdict") in HELD_VERDICTS


def problem_text(doc: Document) -> str:
    """One Vietnamese sentence (or two) saying what is wrong with the signatures; '' when nothing."""
    check = of(doc)
    if check is None or check.get("verdict") not in HELD_VERDICTS:
        return ""
    text = str(check.get("summary") or "Chữ ký số trên văn bản không hợp lệ.").strip()
    problems = [str(p) for p in check.get("problems") or [] if p]
    if problems and problems[0] not in text:
        text = f"{text} ({problems[0].rstrip('.')})"
    return text
