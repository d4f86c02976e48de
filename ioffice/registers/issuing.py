"""Issuing with the PDF work outside the register counter's lock.

Stamping the number and date and sealing (three pyHanko signatures, and the attachments' marks)
takes far longer than the database work. :func:`issue_outside_lock` therefore:

1. checks and reads in the caller's session, then ends its transaction (nothing held);
2. takes the number the document would get (the counter's last number + 1, a plain read) and does
   all the PDF work with it, in no transaction;
3. in a short write transaction: the document must be as read (same version counter and current
   version), then the number is allocated under the counter's row lock — if it is the one stamped,
   everything is recorded and committed at once; if another issue took it meanwhile, this
   transaction is rolled back (the number is given back) and step 2 runs again with the next one.

Numbering stays gapless and unique: a number only exists in a committed transaction that also holds
the register row and the stamped version; stamped blobs of a lost race are left to the sweeper.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import date

from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation
from ioffice.audit import services as audit
from ioffice.delivery import services as delivery
from ioffice.documents import lifecycle
from ioffice.documents.attachment_models import Attachment
from ioffice.documents.attachments import list_attachments
from ioffice.documents.models import Document, DocumentVersion
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import Conflict, InvalidInput
from ioffice.kernel.ports import BlobStore
from ioffice.registers import numbering
from ioffice.registers.ports import IssuingPdfPort
from ioffice.signatures.agency import agency_level, agency_spec

MAX_ATTEMPTS = 10


def issue_outside_lock(
    session: Session, store: BlobStore, *, caller: Caller, document_id: str, issued_date: date | None,
    pdf: IssuingPdfPort, sessions, recipient_org_ids: Iterable[str] = (), notes: str | None = None,
    copies: int | None = None,
):
    """:func:`ioffice.registers.services.issue_outgoing` with ``sessions`` (see the module docstring)."""
    from ioffice.registers import services as s

    doc, version, day = s._check_issuable(session, caller=caller, document_id=document_id, issued_date=issued_date)
    if copies is not None and not 0 < copies <= 10000:
        raise InvalidInput("Số lượng bản không hợp lệ.")
    org = session.get(Organisation, doc.org_id)
    assert org is not None
    series = numbering.outgoing_series(org.settings, doc_type=doc.doc_type, secrecy=doc.secrecy)
    lock_version, version_id = doc.lock_version, version.id
    source = store.read_bytes(version.sha256)
    pending = [(a.id, a.sha256) for a in list_attachments(session, org_id=doc.org_id, document_id=doc.id)
               if a.signed_at is None]
    level = agency_level(org, None, pdf.default_level())
    place = doc.place or org.place
    for _ in range(MAX_ATTEMPTS):
        number = numbering.last_number(session, org_id=org.id, register="outgoing", year=day.year,
                                       series=series) + 1
        symbol = s._symbol(session, org, doc, number)
        session.commit()  # end the read: nothing is held while pyHanko runs
        sealed = pdf.seal_issued(source, s.issue_spec(org, store, pdf, doc, number, symbol, day),
                                 number_text=f"Số: {symbol}", date_text=s.date_line(place, day))
        marked = []
        for att_id, att_sha in pending:
            spec = agency_spec(org, store, kind="attachment", level=level, number_symbol=symbol,
                               reason=f"Phụ lục kèm theo văn bản số {symbol}")
            with store.open(att_sha) as src, tempfile.TemporaryFile() as out:
                pdf.sign(src, spec, out)
                out.seek(0)
                marked.append((att_id, att_sha, store.put_stream(out)))
        ws = sessions()
        try:
            wdoc = ws.get(Document, doc.id, with_for_update=True, populate_existing=True)
            if wdoc is None or wdoc.lock_version != lock_version or wdoc.current_version_id != version_id:
                raise Conflict("Văn bản vừa được thay đổi hoặc phát hành bởi một yêu cầu khác; hãy tải lại và thử lại.")
            lifecycle.transition(wdoc, "issue")
            got = numbering.allocate_number(ws, org_id=org.id, register="outgoing", year=day.year, series=series)
            if got != number:  # another issue took this number while we stamped: give ours back, again
                ws.rollback()
                continue
            worg = ws.get(Organisation, org.id)
            wversion = ws.get(DocumentVersion, version_id)
            assert worg is not None and wversion is not None
            entry, final = s.record_issue(ws, store, caller=caller, doc=wdoc, version=wversion, org=worg,
                                          series=series, number=number, symbol=symbol, day=day, sealed=sealed,
                                          notes=notes, copies=copies)
            for att_id, before, blob in marked:
                att = ws.get(Attachment, att_id)
                if att is None or att.signed_at is not None or att.sha256 != before:
                    continue
                store.mark_final(blob.sha256)
                att.sha256, att.size, att.signed_at = blob.sha256, blob.size, utcnow()
                audit.record(ws, caller=caller, action="document.attachment.sign", object_type="document",
                             object_id=wdoc.id, details={"attachment": att.id, "base_sha256": before,
                                                         "sha256": blob.sha256})
            receipts = delivery.deliver(ws, caller=caller, document=wdoc, recipient_org_ids=recipient_org_ids)
            ws.flush()
            ws.commit()
            return s.IssueResult(document=wdoc, entry=entry, version_id=final.id, sha256=final.sha256,
                                 receipts=receipts)
        except BaseException:
            ws.rollback()
            raise
        finally:
            ws.close()
    raise Conflict("Nhiều văn bản đang được cấp số cùng lúc; hãy thử phát hành lại.")
