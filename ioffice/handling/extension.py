"""Extending the deadline of incoming work (gia hạn xử lý) with a reason.

The handler of an assignment (the person assigned, or the head of the unit assigned) moves its
deadline later, giving the reason. A specialist's deadline cannot pass the deadline the leader gave
the unit (the unit head extends the unit's assignment first). The reason goes on the document as
a progress note and in the audit trail; whoever assigned the work is notified. The follow-up report
then judges on time / late against the extended deadline (the original one stays in the audit).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ioffice.audit import services as audit
from ioffice.documents import services as documents
from ioffice.documents.rules import check_expected, doc_title, touch, version_ref
from ioffice.handling.models import Assignment, AssignmentNote
from ioffice.handling.services import _is_handler, _may_act_for_unit, get_assignment
from ioffice.kernel.caller import Caller
from ioffice.kernel.errors import Conflict, InvalidInput, PermissionDenied
from ioffice.kernel.workcalendar import vn_today
from ioffice.notify.services import notify

OPEN = ("assigned", "in_progress", "passed_on")
MAX_REASON = 2000


def _vn(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def extend_deadline(session: Session, *, caller: Caller, assignment_id: str, deadline: date, reason: str,
                    expected_lock_version: int | None = None, today: date | None = None) -> Assignment:
    """Move the assignment's deadline to ``deadline`` (later than now) for ``reason``.

    Raises PermissionDenied (not the handler), NotFound, Conflict (finished or information-only
    work), InvalidInput (no reason, not later, past the unit's deadline)."""
    user = caller.person
    a = get_assignment(session, org_id=user.org_id, assignment_id=assignment_id)
    if not (_is_handler(user, a) or _may_act_for_unit(user, a)):
        raise PermissionDenied("Chỉ người được giao xử lý hoặc trưởng đơn vị được giao mới gia hạn xử lý.")
    if a.role == "info":
        raise Conflict("Văn bản nhận để biết không có hạn xử lý để gia hạn.")
    if a.status not in OPEN:
        raise Conflict("Việc này đã kết thúc, không gia hạn được.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput("Cần nêu lý do gia hạn.")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"Lý do gia hạn tối đa {MAX_REASON} ký tự.")
    today = today or vn_today()
    if deadline < today:
        raise InvalidInput("Hạn mới không được trước ngày hôm nay.")
    if a.deadline is not None and deadline <= a.deadline:
        raise InvalidInput(f"Hạn mới phải sau hạn hiện tại ({_vn(a.deadline)}).")
    parent = session.get(Assignment, a.parent_id) if a.parent_id else None
    if parent is not None and parent.deadline is not None and deadline > parent.deadline:
        raise InvalidInput(f"Hạn mới không được sau hạn lãnh đạo giao cho đơn vị ({_vn(parent.deadline)}); "
                           "trưởng đơn vị cần gia hạn cho đơn vị trước.")
    doc = documents.get_document(session, org_id=user.org_id, document_id=a.document_id)
    check_expected(doc, expected_lock_version)
    before = a.deadline
    a.deadline = deadline
    touch(doc)
    was = f" (hạn cũ {_vn(before)})" if before else ""
    session.add(AssignmentNote(org_id=doc.org_id, assignment_id=a.id, document_id=doc.id, author_id=user.id,
                               note=f"Gia hạn xử lý đến {_vn(deadline)}{was}. Lý do: {reason}"))
    session.flush()
    audit.record(session, caller=caller, action="workflow.extend_deadline", object_type="document",
                 object_id=doc.id, details={**version_ref(session, doc), "assignment": a.id,
                                            "from": before.isoformat() if before else None,
                                            "to": deadline.isoformat(), "reason": reason})
    chain, parent_id = [a.assigned_by], a.parent_id
    while parent_id:
        up = session.get(Assignment, parent_id)
        if up is None:
            break
        chain.append(up.assigned_by)
        parent_id = up.parent_id
    notify(session, org_id=doc.org_id, user_ids=[u for u in chain if u], kind="assignment.extended",
           title="Gia hạn xử lý văn bản đến",
           body=f"{doc_title(doc)}.\n{user.full_name} gia hạn đến {_vn(deadline)}{was}.\nLý do: {reason}",
           document_id=doc.id, exclude=[user.id])
    return a
