"""Attachments sent as separate files (phụ lục kèm theo): each is its own PDF, kept with the main
document; once the main document has its number/symbol, the clerk signs each with the agency key
and a text-only mark (number/symbol + signing time) at the top right of page 1."""
from __future__ import annotations

import tempfile
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation
from ioffice.audit import services as audit
from ioffice.documents import services as documents
from ioffice.documents.attachment_models import Attachment
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import Conflict, NotFound, PermissionDenied
from ioffice.kernel.ports import BlobStore

EDITABLE = ("draft", "returned", "in_review", "approved", "signed")


def add_attachment(session: Session, store: BlobStore, *, caller: Caller, document_id: str, file: BinaryIO,
                   filename: str | None, title: str | None, max_size: int) -> Attachment:
    """Store a PDF attachment of an outgoing document that is not yet issued."""
    doc = documents.get_document(session, org_id=caller.person.org_id, document_id=document_id)
    if doc.direction != "outgoing":
        raise Conflict("Chỉ văn bản đi mới có phụ lục ký số kèm theo.")
    if doc.status not in EDITABLE:
        raise Conflict("Văn bản đã ban hành; không thể thêm phụ lục.", current_status=doc.status)
    sha256, size, pages = documents.store_pdf(store, file, max_size=max_size)
    seq = (session.scalar(select(func.max(Attachment.seq)).where(Attachment.document_id == doc.id)) or 0) + 1
    name = documents.sanitize_filename(filename, default=f"phu-luc-{seq}.pdf")
    att = Attachment(org_id=doc.org_id, document_id=doc.id, seq=seq, title=(title or name).strip()[:255],
                     filename=name, sha256=sha256, size=size, original_sha256=sha256, page_count=pages,
                     created_by=caller.user_id)
    session.add(att)
    session.flush()
    audit.record(session, caller=caller, action="document.attachment.add", object_type="document", object_id=doc.id,
                 details={"attachment": att.id, "sha256": sha256})
    return att


def list_attachments(session: Session, *, org_id: str, document_id: str) -> list[Attachment]:
    doc = documents.get_document(session, org_id=org_id, document_id=document_id)
    return list(session.scalars(select(Attachment).where(Attachment.document_id == doc.id).order_by(Attachment.seq)))


def get_attachment(session: Session, *, org_id: str, document_id: str, attachment_id: str) -> Attachment:
    att = session.get(Attachment, attachment_id)
    if att is None or att.org_id != org_id or att.document_id != document_id:
        raise NotFound("Không tìm thấy phụ lục.")
    return att


def sign_attachments(session: Session, store: BlobStore, port, *, caller: Caller, document_id: str,
                     level: str) -> list[Attachment]:
    """Sign every unsigned attachment of an issued document with the agency key and the
    attachment mark (number/symbol + time). The signed bytes become final."""
    user = caller.person
    from ioffice.signatures.agency import agency_spec

    if not user.has_role("clerk"):
        raise PermissionDenied("Chỉ văn thư mới được ký số phụ lục bằng chữ ký số của cơ quan.")
    doc = documents.get_document(session, org_id=user.org_id, document_id=document_id)
    if doc.status != "issued" or not doc.number_symbol:
        raise Conflict("Văn bản chính chưa được ban hành (chưa có số, ký hiệu).", current_status=doc.status)
    org = session.get_one(Organisation, doc.org_id)
    done = []
    for att in list_attachments(session, org_id=user.org_id, document_id=doc.id):
        if att.signed_at is not None:
            continue
        spec = agency_spec(org, store, kind="attachment", level=level, number_symbol=doc.number_symbol,
                           reason=f"Phụ lục kèm theo văn bản số {doc.number_symbol}")
        with store.open(att.sha256) as src, tempfile.TemporaryFile() as out:
            port.sign(src, spec, out)
            out.seek(0)
            blob = store.put_stream(out)
        store.mark_final(blob.sha256)
        before = att.sha256
        att.sha256, att.size, att.signed_at = blob.sha256, blob.size, utcnow()
        audit.record(session, caller=caller, action="document.attachment.sign", object_type="document",
                     object_id=doc.id, details={"attachment": att.id, "base_sha256": before, "sha256": blob.sha256})
        done.append(att)
    session.flush()
    return done
