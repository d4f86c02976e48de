"""Recall of an issued outgoing document (thu hồi văn bản): the issuer freezes it with a reason,
the outgoing register marks it, and the copies delivered on this installation show the recall."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit import services as audit
from ioffice.delivery.models import DeliveryReceipt
from ioffice.documents import lifecycle
from ioffice.documents.models import Document
from ioffice.documents.services import get_document
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import Conflict, InvalidInput, PermissionDenied
from ioffice.kernel.workcalendar import to_vn_date
from ioffice.registers.models import OutgoingEntry


def recall_outgoing(session: Session, *, caller: Caller, document_id: str, reason: str) -> Document:
    """Recall an issued document of the caller's agency. Raises PermissionDenied (not a clerk),
    NotFound, Conflict (not issued), InvalidInput (no reason)."""
    user = caller.person
    if not user.has_role("clerk"):
        raise PermissionDenied("Chỉ văn thư của cơ quan ban hành mới được thu hồi văn bản.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Hãy nêu lý do thu hồi văn bản.")
    doc = get_document(session, org_id=user.org_id, document_id=document_id)
    if doc.direction != "outgoing" or doc.status != "issued":
        raise Conflict("Chỉ văn bản đi đã ban hành mới được thu hồi.", current_status=doc.status)
    lifecycle.transition(doc, "recall")
    now = utcnow()
    mark = {"reason": reason, "at": now.isoformat(), "by": user.full_name, "issuer": doc.issuing_body,
            "number_symbol": doc.number_symbol}
    doc.extra = {**(doc.extra or {}), "recall": mark}
    entry = session.scalar(select(OutgoingEntry).where(OutgoingEntry.org_id == doc.org_id,
                                                       OutgoingEntry.document_id == doc.id))
    if entry is not None:
        note = f"Đã thu hồi ngày {to_vn_date(now):%d/%m/%Y}: {reason}"
        entry.notes = f"{entry.notes}; {note}" if entry.notes else note
    for receipt in session.scalars(select(DeliveryReceipt).where(DeliveryReceipt.org_id == doc.org_id,
                                                                 DeliveryReceipt.document_id == doc.id)):
        copy = session.get(Document, receipt.recipient_document_id)
        if copy is not None:
            copy.extra = {**(copy.extra or {}), "recall": mark}
            receipt.note = f"Văn bản đã bị thu hồi: {reason}"
            receipt.updated_at = now
    session.flush()
    audit.record(session, caller=caller, action="document.recall", object_type="document", object_id=doc.id,
                 details={"reason": reason, "number_symbol": doc.number_symbol})
    return doc
