"""Outgoing drafts on their route: templates, submission, reviews, approval, withdrawal.

A route is an ordered list of stages; a stage has reviewers and a mode, ``all`` (every reviewer
approves) or ``any`` (one approval settles it). Submitting a draft starts a :class:`ReviewRound`
bound to the current version: one :class:`ReviewStep` per reviewer and stage, the first stage
``pending``, the others ``waiting``. Each approval records the SHA-256 of the version it approves;
the approval of the last stage approves the document, and :func:`approved_sha256` is what signing
binds to. A new draft version (:func:`upload_new_version`) supersedes earlier approvals.

Step and round statuses move through :data:`ioffice.workflow.STEP_TRANSITIONS`; the document's
status through :func:`ioffice.lifecycle.transition`. Every change is audited with the version hash and
announced with :func:`ioffice.notify.notify` in the same transaction.
"""
from __future__ import annotations

from datetime import date
from typing import BinaryIO, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import User
from ioffice.audit import services as audit
from ioffice.delegation.models import Delegation
from ioffice.delegation.services import principals_of
from ioffice.documents import lifecycle
from ioffice.documents import services as documents
from ioffice.documents.models import Document, DocumentVersion
from ioffice.documents.rules import check_expected, doc_title, touch, version_ref
from ioffice.documents.steps import step_transition
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ioffice.kernel.ports import BlobStore
from ioffice.notify.services import notify
from ioffice.review.models import ReviewRound, ReviewStep
from ioffice.review.queries import active_round, rounds_of, steps_of
from ioffice.review.rules import authority_line, signing_capacity
from ioffice.review.templates import ConditionSpec, StageSpec, _default_template, get_template, resolve_route

# --------------------------------------------------------------------------- actions


def _due(n: int | None) -> date | None:
    if not n:
        return None
    from ioffice.kernel.workcalendar import add_working_days, vn_today

    return add_working_days(vn_today(), n)


def _activate(session: Session, rnd: ReviewRound, stage_index: int, doc: Document) -> list[ReviewStep]:
    steps = steps_of(session, round_id=rnd.id, stage_index=stage_index)
    now = utcnow()
    for st in steps:
        step_transition(st, "activate")
        st.activated_at = now
        st.due_date = _due(st.due_working_days) or doc.due_date
    rnd.current_stage = stage_index
    title = doc_title(doc)
    notify(session, org_id=doc.org_id, user_ids=[s.reviewer_id for s in steps], kind="review.pending",
           title="Có văn bản chờ bạn xem xét", body=f"{title}.\nBước: {steps[0].stage_name}.", document_id=doc.id)
    for st in steps:  # delegates of a reviewer see the task too
        for d in session.scalars(select(Delegation).where(Delegation.delegator_id == st.reviewer_id,
                                                          Delegation.revoked_at.is_(None))):
            if d.active_on(_today()):
                notify(session, org_id=doc.org_id, user_ids=[d.delegate_id], kind="review.pending",
                       title="Có văn bản chờ xem xét (được ủy quyền)", body=f"{title}.", document_id=doc.id)
    return steps


def _today() -> date:
    from ioffice.kernel.workcalendar import vn_today

    return vn_today()








def _outgoing_of(session: Session, user: User, document_id: str) -> Document:
    doc = documents.get_document(session, org_id=user.org_id, document_id=document_id)
    if doc.direction != "outgoing":
        raise Conflict("Chỉ văn bản đi (dự thảo) mới trình duyệt được.")
    return doc


def _require_drafter(user: User, doc: Document) -> None:
    if doc.created_by != user.id:
        raise PermissionDenied("Chỉ người soạn thảo mới thực hiện được thao tác này.")


def submit(
    session: Session, *, caller: Caller, document_id: str, template_id: str | None = None,
    stages: list[StageSpec] | None = None, comment: str = "", expected_lock_version: int | None = None,
) -> ReviewRound:
    """The drafter submits the current version on a template's route (given, or the agency's
    default for the type) or an ad-hoc route. Raises PermissionDenied, NotFound, InvalidInput,
    Conflict (status or stale)."""
    user = caller.person
    doc = _outgoing_of(session, user, document_id)
    _require_drafter(user, doc)
    check_expected(doc, expected_lock_version)
    if template_id and stages:
        raise InvalidInput("Chọn quy trình mẫu hoặc quy trình riêng, không chọn cả hai.")
    template = None
    conditions: list[ConditionSpec] = []
    if not stages:
        template = get_template(session, org_id=doc.org_id, template_id=template_id) if template_id \
            else _default_template(session, doc)
        if template is None:
            raise InvalidInput("Cơ quan chưa có quy trình trình duyệt cho loại văn bản này; hãy chọn người xem xét.")
        if not template.is_active:
            raise Conflict("Quy trình mẫu đã ngừng sử dụng.")
        stages = [StageSpec.model_validate(s) for s in template.stages]
        conditions = [ConditionSpec.model_validate(c) for c in template.conditions]
    if template is None and stages is None:
        raise InvalidInput("Thiếu quy trình trình duyệt.")
    resolved = resolve_route(session, doc=doc, drafter=user, stages=stages, conditions=conditions)
    before = doc.status
    lifecycle.transition(doc, "submit")
    touch(doc)
    if doc.drafting_unit_id is None:  # the drafting unit is the drafter's (công văn symbols name it)
        doc.drafting_unit_id = user.unit_id
    v = documents.current_version(session, doc)
    if v is None:
        raise Conflict("Dự thảo chưa có nội dung.")
    rnd = ReviewRound(org_id=doc.org_id, document_id=doc.id, template_id=template.id if template else None,
                      version_id=v.id, sha256=v.sha256, submitted_by=user.id, comment=comment,
                      stages=[{"name": s.name, "mode": s.mode, "reviewers": ids} for s, ids in resolved])
    session.add(rnd)
    session.flush()
    for i, (s, ids) in enumerate(resolved):
        for uid in ids:
            session.add(ReviewStep(org_id=doc.org_id, round_id=rnd.id, document_id=doc.id, stage_index=i,
                                   stage_name=s.name, mode=s.mode, reviewer_id=uid, status="waiting",
                                   due_working_days=s.due_working_days))
    session.flush()
    _activate(session, rnd, 0, doc)
    session.flush()
    audit.record(session, caller=caller, action="workflow.submit", object_type="document", object_id=doc.id,
                 details={"version": v.id, "sha256": v.sha256, "from": before, "to": doc.status, "round": rnd.id,
                          "template": rnd.template_id, "stages": rnd.stages})
    return rnd


def _acting_step(session: Session, user: User, rnd: ReviewRound, step_id: str | None
                 ) -> tuple[ReviewStep, Delegation | None]:
    """The step the user decides: their own pending step, else one of a principal who delegated to
    them. A user whose step is no longer pending gets Conflict; one with no step PermissionDenied."""
    steps = steps_of(session, round_id=rnd.id)
    if step_id:
        steps = [s for s in steps if s.id == step_id]
        if not steps:
            raise NotFound("Không tìm thấy bước xem xét.")
    own = [s for s in steps if s.reviewer_id == user.id]
    for s in own:
        if s.status == "pending":
            return s, None
    for d in principals_of(session, delegate_id=user.id):
        for s in steps:
            if s.reviewer_id == d.delegator_id and s.status == "pending":
                return s, d
    if own:
        return own[0], None  # not pending: the transition table says why (409)
    raise PermissionDenied("Bạn không có bước xem xét nào đang chờ đối với văn bản này.")


def decide(
    session: Session, *, caller: Caller, document_id: str, decision: Literal["approve", "return"],
    comment: str = "", step_id: str | None = None, expected_lock_version: int | None = None,
    expected_sha256: str | None = None,
) -> ReviewStep:
    """A reviewer (or their delegate) approves the current version or returns the draft.

    Approval records the version's SHA-256; the last stage's approval approves the document.
    Returning needs a comment and sends the draft back to the drafter. Raises PermissionDenied,
    NotFound, InvalidInput, Conflict (not in review, step not pending, stale, hash mismatch).
    """
    user = caller.person
    doc = _outgoing_of(session, user, document_id)
    check_expected(doc, expected_lock_version)
    rnd = active_round(session, doc)
    if rnd is None:
        # The latest round settles whether this is a repeated decision (409) or no business of the user (403).
        rounds = rounds_of(session, org_id=doc.org_id, document_id=doc.id)
        if rounds:
            last, _ = _acting_step(session, user, rounds[-1], step_id)
            if last.status != "pending":
                step_transition(last, decision)  # raises: the table has no such move from a settled step
        raise Conflict(
            f"Văn bản không ở trạng thái chờ xem xét (hiện: «{lifecycle.STATUS_LABELS.get(doc.status, doc.status)}»)."
        )
    step, delegation = _acting_step(session, user, rnd, step_id)
    if step.stage_index != rnd.current_stage and step.status == "waiting":
        raise Conflict("Chưa đến lượt bạn xem xét văn bản này.")
    v = documents.current_version(session, doc)
    if expected_sha256 and v is not None and expected_sha256 != v.sha256:
        raise Conflict("Phiên bản bạn xem không phải phiên bản hiện tại của văn bản. Vui lòng tải lại.")
    if decision == "return" and not comment.strip():
        raise InvalidInput("Khi trả lại dự thảo cần ghi ý kiến.")
    step_transition(step, decision)
    now = utcnow()
    step.acted_by, step.decided_at, step.comment = user.id, now, comment.strip()
    step.version_id, step.sha256 = (v.id, v.sha256) if v else (None, None)
    if delegation is not None:
        step.delegation_id, step.competence = delegation.id, delegation.competence
    touch(doc)
    before = doc.status
    title = doc_title(doc)
    stage_steps = steps_of(session, round_id=rnd.id, stage_index=step.stage_index)
    if decision == "return":
        for s in steps_of(session, round_id=rnd.id):
            if s.status in ("waiting", "pending"):
                step_transition(s, "cancel")
        step_transition(rnd, "return")
        rnd.ended_at = now
        lifecycle.transition(doc, "return")
        notify(session, org_id=doc.org_id, user_ids=[doc.created_by or ""], kind="review.returned",
               title="Dự thảo bị trả lại", body=f"{title}.\nNgười trả lại: {user.full_name}.\nÝ kiến: {step.comment}",
               document_id=doc.id)
    else:
        settled = step.mode == "any" or all(s.status == "approved" for s in stage_steps)
        if settled:
            for s in stage_steps:
                if s.status == "pending":
                    step_transition(s, "skip")
        if settled and step.stage_index + 1 < len(rnd.stages):
            step_transition(rnd, "advance")
            _activate(session, rnd, step.stage_index + 1, doc)
            lifecycle.transition(doc, "review")
        elif settled:
            step_transition(rnd, "approve")
            rnd.ended_at = now
            lifecycle.transition(doc, "approve")
            competence, position = signing_capacity(session, user=user, document=doc, step=step)
            doc.signer_name, doc.signer_position, doc.signer_competence = user.full_name, position, competence
            extra = dict(doc.extra or {})
            extra["signer_authority"] = authority_line(session, step=step)
            extra["approved_sha256"] = step.sha256
            doc.extra = extra
            clerks = [
                u.id
                for u in session.scalars(select(User).where(User.org_id == doc.org_id, User.is_active.is_(True)))
                if u.has_role("clerk")
            ]
            notify(session, org_id=doc.org_id, user_ids=[doc.created_by or ""], kind="review.approved",
                   title="Dự thảo đã được phê duyệt", body=f"{title}.\nNgười duyệt: {user.full_name}.",
                   document_id=doc.id)
            notify(session, org_id=doc.org_id, user_ids=clerks, kind="issue.pending",
                   title="Có văn bản đã duyệt chờ phát hành", body=f"{title}.", document_id=doc.id,
                   exclude=[doc.created_by or ""])
        else:
            step_transition(rnd, "advance")  # serialises concurrent decisions on the round
            lifecycle.transition(doc, "review")
    session.flush()
    audit.record(session, caller=caller, action=f"workflow.review.{decision}", object_type="document", object_id=doc.id,
                 details={"version": step.version_id, "sha256": step.sha256, "from": before, "to": doc.status,
                          "round": rnd.id, "step": step.id, "stage": step.stage_index,
                          "reviewer": step.reviewer_id, "on_behalf_of": step.reviewer_id if delegation else None,
                          "competence": step.competence, "comment": step.comment})
    return step


def withdraw(session: Session, *, caller: Caller, document_id: str, comment: str = "",
             expected_lock_version: int | None = None) -> Document:
    """The drafter withdraws: a draft in review goes back to draft (its round ends); a draft or a
    returned draft is abandoned (withdrawn). Raises PermissionDenied, NotFound, Conflict."""
    user = caller.person
    doc = _outgoing_of(session, user, document_id)
    _require_drafter(user, doc)
    check_expected(doc, expected_lock_version)
    before = doc.status
    rnd = active_round(session, doc)
    lifecycle.transition(doc, "withdraw")
    touch(doc)
    notified: list[str] = []
    if rnd is not None:
        for s in steps_of(session, round_id=rnd.id):
            if s.status == "pending":
                notified.append(s.reviewer_id)
            if s.status in ("waiting", "pending"):
                step_transition(s, "cancel")
        step_transition(rnd, "withdraw")
        rnd.ended_at = utcnow()
    session.flush()
    audit.record(session, caller=caller, action="workflow.withdraw", object_type="document", object_id=doc.id,
                 details={**version_ref(session, doc), "from": before, "to": doc.status,
                          "round": rnd.id if rnd else None, "comment": comment})
    notify(session, org_id=doc.org_id, user_ids=notified, kind="review.withdrawn", title="Dự thảo đã được rút lại",
           body=f"{doc_title(doc)}.", document_id=doc.id)
    return doc


def upload_new_version(
    session: Session, store: BlobStore, *, caller: Caller, document_id: str, file: BinaryIO,
    filename: str | None, max_size: int = documents.DEFAULT_MAX_UPLOAD, expected_lock_version: int | None = None,
) -> DocumentVersion:
    """The drafter uploads a new draft version (status draft, returned or approved → draft).
    Approvals given to earlier versions no longer count. Raises PermissionDenied, NotFound,
    Conflict, InvalidDocument, PayloadTooLarge."""
    user = caller.person
    doc = _outgoing_of(session, user, document_id)
    _require_drafter(user, doc)
    check_expected(doc, expected_lock_version)
    before = doc.status
    lifecycle.transition(doc, "new_version")
    touch(doc)
    v = documents.add_version(session, store, caller=caller, document=doc, file=file, filename=filename,
                              kind="upload", max_size=max_size)
    superseded = []
    for rnd in rounds_of(session, org_id=doc.org_id, document_id=doc.id):
        if rnd.status == "approved":
            step_transition(rnd, "supersede")
        for s in steps_of(session, round_id=rnd.id):
            if s.status == "approved":
                step_transition(s, "supersede")
                superseded.append(s.id)
    if before == "approved":
        doc.signer_name = doc.signer_position = doc.signer_competence = None
        extra = dict(doc.extra or {})
        extra.pop("approved_sha256", None)
        extra.pop("signer_authority", None)
        doc.extra = extra
    session.flush()
    audit.record(session, caller=caller, action="workflow.new_version", object_type="document", object_id=doc.id,
                 details={"version": v.id, "sha256": v.sha256, "seq": v.seq, "from": before, "to": doc.status,
                          "superseded_approvals": superseded})
    return v
