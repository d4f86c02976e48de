"""Delivery of issued documents to agencies on the same installation, with receipts.

When the clerk issues a document, every recipient that is an organisation of this installation
(matched by OrganId, by exact name in the document's ``recipients``, or given explicitly) gets a
new incoming document in its own organisation: status ``received``, the same final bytes (same
blob SHA-256, a new ``DocumentVersion`` row) and the sender as issuing body. A ``DeliveryReceipt``
row on the sender's side tracks it with the QCVN 102:2016 status codes; the receiving side moves
it on (registering acknowledges it, returning rejects it; the workflow reports 4–6).
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation
from ioffice.audit import services as audit
from ioffice.delivery.models import (
    ACCEPTED,
    ASSIGNED,
    COMPLETED,
    PROCESSING,
    RECEIVED,
    REJECTED,
    STATUS_LABELS,
    DeliveryReceipt,
)
from ioffice.documents.models import Document, DocumentVersion
from ioffice.documents.services import current_version, refresh_search
from ioffice.kernel.caller import SYSTEM, Caller
from ioffice.kernel.db import get_scoped, utcnow
from ioffice.kernel.errors import InvalidInput, NotFound


def _norm(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).casefold().split())


def resolve_recipients(session: Session, *, sender_org_id: str, recipients: Iterable[str],
                       recipient_org_ids: Iterable[str] = ()) -> list[Organisation]:
    """Organisations of this installation named by ``recipients`` (OrganId or exact name, case and
    spacing ignored) plus ``recipient_org_ids``; never the sender. Raises NotFound for an unknown id.
    """
    found: dict[str, Organisation] = {}
    for oid in recipient_org_ids:
        org = session.get(Organisation, oid)
        if org is None:
            raise NotFound("Không tìm thấy cơ quan nhận.")
        if org.id != sender_org_id:
            found[org.id] = org
    wanted = [r for r in recipients if r and r.strip()]
    if wanted:
        by_name: dict[str, Organisation] = {}
        by_code: dict[str, Organisation] = {}
        for org in session.scalars(select(Organisation)):
            by_name[_norm(org.name)] = org
            if org.organ_code:
                by_code[org.organ_code.strip().upper()] = org
        for r in wanted:
            org = by_code.get(r.strip().upper()) or by_name.get(_norm(r))
            if org is not None and org.id != sender_org_id:
                found.setdefault(org.id, org)
    return list(found.values())


def deliver(session: Session, *, caller: Caller, document: Document, recipient_org_ids: Iterable[str] = ()
            ) -> list[DeliveryReceipt]:
    """Send the issued ``document``'s final version to the organisations among its recipients.

    Each gets an incoming document (status ``received``); the sender gets one receipt per
    recipient. Raises InvalidInput when the document has no version.
    """
    version = current_version(session, document)
    if version is None:
        raise InvalidInput("Văn bản chưa có nội dung để gửi.")
    sender = session.get(Organisation, document.org_id)
    assert sender is not None
    targets = resolve_recipients(session, sender_org_id=document.org_id, recipients=document.recipients or [],
                                 recipient_org_ids=recipient_org_ids)
    already = set(session.scalars(select(DeliveryReceipt.recipient_org_id)
                                  .where(DeliveryReceipt.document_id == document.id)))
    receipts = []
    now = utcnow()
    for org in targets:
        if org.id in already:
            continue
        incoming = Document(
            org_id=org.id, direction="incoming", status="received",
            doc_type=document.doc_type, doc_type_name=document.doc_type_name,
            number=document.number, number_symbol=document.number_symbol,
            issuing_body=sender.name, issuing_body_code=sender.organ_code, parent_body=sender.parent_name,
            place=document.place, issued_date=document.issued_date, summary=document.summary,
            signer_competence=document.signer_competence, signer_position=document.signer_position,
            signer_name=document.signer_name, recipients=list(document.recipients or []),
            urgency=document.urgency, secrecy=document.secrecy, page_count=document.page_count,
            extra={"delivered_from": {"org_id": sender.id, "document_id": document.id}},
        )
        refresh_search(incoming)
        session.add(incoming)
        session.flush()
        copy = DocumentVersion(
            document_id=incoming.id, org_id=org.id, seq=1, sha256=version.sha256, size=version.size,
            media_type=version.media_type, filename=version.filename, kind="received", is_final=True,
            page_count=version.page_count,
        )
        session.add(copy)
        session.flush()
        incoming.current_version_id = copy.id
        receipt = DeliveryReceipt(org_id=sender.id, document_id=document.id, recipient_org_id=org.id,
                                  recipient_document_id=incoming.id, sha256=version.sha256, status=RECEIVED,
                                  sent_at=now, received_at=now, updated_at=now)
        session.add(receipt)
        session.flush()
        audit.record(session, caller=caller, action="document.deliver", object_type="document",
                     object_id=document.id, details={"to_org": org.id, "receipt": receipt.id,
                                                     "sha256": version.sha256})
        audit.record(session, caller=SYSTEM, org_id=org.id, action="document.receive",
                     object_type="document", object_id=incoming.id,
                     details={"from_org": sender.id, "receipt": receipt.id, "sha256": version.sha256})
        receipts.append(receipt)
    return receipts


def receipt_for(session: Session, *, recipient_document_id: str) -> DeliveryReceipt | None:
    """The receipt of an incoming document that came by internal delivery (None otherwise)."""
    return session.scalar(select(DeliveryReceipt).where(DeliveryReceipt.recipient_document_id == recipient_document_id))


def report_status(session: Session, *, caller: Caller, document: Document, status: int, note: str | None = None
                  ) -> DeliveryReceipt | None:
    """Record on the sender's receipt how far the receiving side got with ``document`` (its incoming
    copy): 2 rejected, 3 accepted (registered), 4 assigned, 5 processing, 6 completed. Statuses only
    move forward (except a rejection). No-op for documents that did not come by internal delivery.
    """
    if status not in STATUS_LABELS:
        raise InvalidInput("Mã trạng thái không hợp lệ.")
    receipt = receipt_for(session, recipient_document_id=document.id)
    if receipt is None or (status != REJECTED and status <= receipt.status and receipt.status != REJECTED):
        return receipt
    now = utcnow()
    receipt.status = status
    receipt.updated_at = now
    if status in (ACCEPTED, REJECTED) and receipt.acknowledged_at is None:
        receipt.acknowledged_at = now
    if note:
        receipt.note = note[:1000]
    session.flush()
    audit.record(session, caller=caller, action="document.delivery_status", object_type="document",
                 object_id=document.id, details={"receipt": receipt.id, "status": status,
                                                 "sha256": receipt.sha256})
    return receipt


# How far the receiving side got, read from its document's status (QCVN 102 codes).
_STATUS_OF_DOCUMENT = {"received": RECEIVED, "registered": ACCEPTED, "assigned": ASSIGNED,
                       "in_progress": PROCESSING, "completed": COMPLETED, "returned_to_sender": REJECTED}


def effective_status(receipt: DeliveryReceipt, recipient_status: str | None) -> int:
    """The receipt's status, moved forward to what the recipient's document shows (assigned,
    processing, completed) so the sender sees progress without the workflow writing receipts."""
    if receipt.status == REJECTED:
        return REJECTED
    seen = _STATUS_OF_DOCUMENT.get(recipient_status or "", RECEIVED)
    if seen == REJECTED:
        return REJECTED
    return max(receipt.status, seen)


def list_deliveries(session: Session, *, org_id: str, document_id: str
                    ) -> list[tuple[DeliveryReceipt, Organisation, int]]:
    """The receipts of the sender's document ``document_id`` (org-scoped): (receipt, recipient
    organisation, effective QCVN 102 status). Raises NotFound for another agency's document."""
    get_scoped(session, Document, document_id, org_id, not_found="Không tìm thấy văn bản.")  # 404 for another agency's
    rows = session.execute(
        select(DeliveryReceipt, Organisation, Document.status)
        .join(Organisation, Organisation.id == DeliveryReceipt.recipient_org_id)
        .join(Document, Document.id == DeliveryReceipt.recipient_document_id)
        .where(DeliveryReceipt.org_id == org_id, DeliveryReceipt.document_id == document_id)
        .order_by(DeliveryReceipt.sent_at, Organisation.name)
    ).all()
    return [(r, o, effective_status(r, st)) for r, o, st in rows]
