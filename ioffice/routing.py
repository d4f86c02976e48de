"""Outgoing drafts on their route: templates, submission, reviews, approval, withdrawal.

A route is an ordered list of stages; a stage has reviewers and a mode, ``all`` (every reviewer
approves) or ``any`` (one approval settles it). Submitting a draft starts a :class:`ReviewRound`
bound to the current version: one :class:`ReviewStep` per reviewer and stage, the first stage
``pending``, the others ``waiting``. Each approval records the SHA-256 of the version it approves;
the approval of the last stage approves the document, and :func:`approved_sha256` is what signing
binds to. A new draft version (:func:`upload_new_version`) supersedes earlier approvals.

Step and round statuses move through :data:`ioffice.workflow.STEP_TRANSITIONS`; the document's
status through :func:`ioffice.states.transition`. Every change is audited with the version hash and
announced with :func:`ioffice.notify.notify` in the same transaction.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from . import audit, documents, states
from .audit import Actor
from .db import Base, UTCDateTime, new_id, utcnow
from .delegation import Delegation, active_delegation, principals_of
from .doctypes import resolve_doc_type
from .errors import Conflict, InvalidInput, NotFound, PermissionDenied
from .models import ROLES, Document, DocumentVersion, User
from .notify import notify
from .ports import BlobStore
from .workflow import check_expected, doc_title, step_transition, touch, version_ref

# --------------------------------------------------------------------------- route specifications


class StageSpec(BaseModel):
    """One stage of a route: named reviewers and/or roles (optionally from the drafter's unit)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=128, examples=["Trưởng phòng xem xét"])
    mode: Literal["all", "any"] = Field(default="all", description="all: every reviewer approves; any: one is enough")
    reviewer_ids: list[str] = Field(default_factory=list, max_length=50)
    roles: list[str] = Field(default_factory=list, max_length=6, description="e.g. unit_head, leader")
    same_unit: bool = Field(default=False, description="roles are taken from the drafter's unit")
    due_working_days: int | None = Field(default=None, ge=1, le=60)


class ConditionIf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secrecy: list[Literal["mat", "toi_mat", "tuyet_mat"]] | None = None
    urgency: list[Literal["khan", "thuong_khan", "hoa_toc"]] | None = None
    doc_type: list[str] | None = None


class ConditionSpec(BaseModel):
    """``{"if": {"secrecy": ["mat", …]}, "add_stage": {…}, "position": "before_last"}``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    if_: ConditionIf = Field(alias="if")
    add_stage: StageSpec
    position: Literal["start", "before_last", "end"] = "before_last"

    def matches(self, doc: Document) -> bool:
        c = self.if_
        if c.secrecy is not None and doc.secrecy not in c.secrecy:
            return False
        if c.urgency is not None and doc.urgency not in c.urgency:
            return False
        if c.doc_type is not None and doc.doc_type not in {resolve_doc_type(t)[1] for t in c.doc_type}:
            return False
        return True


class RouteTemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=255)
    doc_type: str | None = Field(default=None, description="type name or abbreviation; null = any type")
    stages: list[StageSpec] = Field(min_length=1, max_length=20)
    conditions: list[ConditionSpec] = Field(default_factory=list, max_length=20)
    is_active: bool = True


def _check_stage(session: Session, org_id: str, s: StageSpec) -> None:
    bad = [r for r in s.roles if r not in ROLES]
    if bad:
        raise InvalidInput(f"Vai trò không hợp lệ trong bước «{s.name}»: {', '.join(bad)}.")
    if not s.roles and not s.reviewer_ids:
        raise InvalidInput(f"Bước «{s.name}» chưa có người xem xét hoặc vai trò.")
    for uid in s.reviewer_ids:
        u = session.get(User, uid)
        if u is None or u.org_id != org_id:
            raise NotFound(f"Không tìm thấy người xem xét của bước «{s.name}» trong cơ quan.")


# --------------------------------------------------------------------------- tables


class RouteTemplate(Base):
    __tablename__ = "route_templates"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    doc_type: Mapped[str | None] = mapped_column(String(16))  # abbreviation, "" công văn, None any
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class ReviewRound(Base):
    """One submission of one version of a draft on one route."""

    __tablename__ = "review_rounds"
    __table_args__ = (Index("ix_review_rounds_doc_status", "document_id", "status"),)
    STEP_KIND = "review_round"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    template_id: Mapped[str | None] = mapped_column(ForeignKey("route_templates.id"))
    version_id: Mapped[str] = mapped_column(ForeignKey("document_versions.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    stages: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # resolved: name, mode
    current_stage: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class ReviewStep(Base):
    """One reviewer's decision in one stage of a round."""

    __tablename__ = "review_steps"
    __table_args__ = (Index("ix_review_steps_reviewer_status", "reviewer_id", "status"),)
    STEP_KIND = "review_step"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    round_id: Mapped[str] = mapped_column(ForeignKey("review_rounds.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id"), index=True)
    stage_index: Mapped[int] = mapped_column(Integer)
    stage_name: Mapped[str] = mapped_column(String(128))
    mode: Mapped[str] = mapped_column(String(8))
    reviewer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    due_working_days: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column()
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    delegation_id: Mapped[str | None] = mapped_column(ForeignKey("delegations.id"))
    competence: Mapped[str | None] = mapped_column(String(8))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version_id: Mapped[str | None] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64))  # the version this decision applies to
    comment: Mapped[str] = mapped_column(Text, default="")
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


# --------------------------------------------------------------------------- templates


def _template_values(session: Session, org_id: str, body: RouteTemplateIn) -> dict[str, Any]:
    for s in body.stages:
        _check_stage(session, org_id, s)
    for c in body.conditions:
        _check_stage(session, org_id, c.add_stage)
        if c.if_.doc_type:
            for t in c.if_.doc_type:
                resolve_doc_type(t)
    return {
        "name": body.name,
        "doc_type": resolve_doc_type(body.doc_type)[1] if body.doc_type else None,
        "stages": [s.model_dump() for s in body.stages],
        "conditions": [c.model_dump(by_alias=True) for c in body.conditions],
        "is_active": body.is_active,
    }


def create_template(session: Session, *, actor: Actor, org_id: str, body: RouteTemplateIn) -> RouteTemplate:
    """Create a route template (admin). Raises InvalidInput, NotFound."""
    t = RouteTemplate(org_id=org_id, created_by=actor.user_id, **_template_values(session, org_id, body))
    session.add(t)
    session.flush()
    audit.record(session, actor=actor, org_id=org_id, action="route_template.create", object_type="route_template",
                 object_id=t.id, details={"name": t.name, "doc_type": t.doc_type, "stages": len(t.stages)})
    return t


def get_template(session: Session, *, org_id: str, template_id: str) -> RouteTemplate:
    t = session.get(RouteTemplate, template_id)
    if t is None or t.org_id != org_id:
        raise NotFound("Không tìm thấy quy trình mẫu.")
    return t


def update_template(session: Session, *, actor: Actor, org_id: str, template_id: str, body: RouteTemplateIn,
                    expected_lock_version: int | None = None) -> RouteTemplate:
    """Replace a template's definition. Raises NotFound, InvalidInput, Conflict (stale)."""
    t = get_template(session, org_id=org_id, template_id=template_id)
    if expected_lock_version is not None and expected_lock_version != t.lock_version:
        raise Conflict("Quy trình mẫu vừa được người khác sửa. Vui lòng tải lại.")
    for k, v in _template_values(session, org_id, body).items():
        setattr(t, k, v)
    session.flush()
    audit.record(session, actor=actor, org_id=org_id, action="route_template.update", object_type="route_template",
                 object_id=t.id, details={"name": t.name, "doc_type": t.doc_type, "stages": len(t.stages)})
    return t


def delete_template(session: Session, *, actor: Actor, org_id: str, template_id: str) -> None:
    """Deactivate a template (rounds keep referring to it). Raises NotFound."""
    t = get_template(session, org_id=org_id, template_id=template_id)
    t.is_active = False
    session.flush()
    audit.record(session, actor=actor, org_id=org_id, action="route_template.delete", object_type="route_template",
                 object_id=t.id, details={"name": t.name})


def list_templates(session: Session, *, org_id: str, include_inactive: bool = False) -> list[RouteTemplate]:
    q = select(RouteTemplate).where(RouteTemplate.org_id == org_id)
    if not include_inactive:
        q = q.where(RouteTemplate.is_active.is_(True))
    return list(session.scalars(q.order_by(RouteTemplate.name, RouteTemplate.id)))


def _default_template(session: Session, doc: Document) -> RouteTemplate | None:
    rows = list_templates(session, org_id=doc.org_id)
    exact = [t for t in rows if t.doc_type == doc.doc_type]
    generic = [t for t in rows if t.doc_type is None]
    return (exact or generic or [None])[0]


# --------------------------------------------------------------------------- route resolution


def _stage_users(session: Session, doc: Document, drafter: User, s: StageSpec) -> list[str]:
    ids = list(s.reviewer_ids)
    if s.roles:
        unit_id = doc.drafting_unit_id or drafter.unit_id
        q = select(User).where(User.org_id == doc.org_id, User.is_active.is_(True))
        if s.same_unit:
            q = q.where(User.unit_id == unit_id)
        ids += [u.id for u in session.scalars(q.order_by(User.username)) if u.has_role(*s.roles)]
    return [i for i in dict.fromkeys(ids) if i != drafter.id]


def resolve_route(session: Session, *, doc: Document, drafter: User, stages: list[StageSpec],
                  conditions: list[ConditionSpec] = ()) -> list[tuple[StageSpec, list[str]]]:
    """Apply ``conditions`` to ``stages`` and resolve each stage to reviewer ids. Stages whose only
    reviewer would be the drafter are dropped. Raises InvalidInput for an empty route or stage."""
    final = list(stages)
    for c in conditions:
        if c.matches(doc):
            if c.position == "start":
                final.insert(0, c.add_stage)
            elif c.position == "end" or not final:
                final.append(c.add_stage)
            else:
                final.insert(len(final) - 1, c.add_stage)
    out = []
    for s in final:
        _check_stage(session, doc.org_id, s)
        users = _stage_users(session, doc, drafter, s)
        if not users:
            if drafter.id in s.reviewer_ids or (s.roles and drafter.has_role(*s.roles)):
                continue  # the drafter would review their own draft
            raise InvalidInput(f"Bước «{s.name}» không có người xem xét phù hợp.")
        out.append((s, users))
    if not out:
        raise InvalidInput("Quy trình trình duyệt không có bước nào.")
    return out


# --------------------------------------------------------------------------- actions


def _due(n: int | None) -> date | None:
    if not n:
        return None
    from .workcalendar import add_working_days, vn_today

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
    from .workcalendar import vn_today

    return vn_today()


def steps_of(session: Session, *, round_id: str, stage_index: int | None = None) -> list[ReviewStep]:
    q = select(ReviewStep).where(ReviewStep.round_id == round_id)
    if stage_index is not None:
        q = q.where(ReviewStep.stage_index == stage_index)
    return list(session.scalars(q.order_by(ReviewStep.stage_index, ReviewStep.id)))


def rounds_of(session: Session, *, org_id: str, document_id: str) -> list[ReviewRound]:
    return list(session.scalars(select(ReviewRound).where(ReviewRound.org_id == org_id,
                                                          ReviewRound.document_id == document_id)
                                .order_by(ReviewRound.submitted_at, ReviewRound.id)))


def active_round(session: Session, doc: Document) -> ReviewRound | None:
    return session.scalars(select(ReviewRound).where(ReviewRound.document_id == doc.id,
                                                     ReviewRound.status == "active")).first()


def _outgoing_of(session: Session, user: User, document_id: str) -> Document:
    doc = documents.get_document(session, org_id=user.org_id, document_id=document_id)
    if doc.direction != "outgoing":
        raise Conflict("Chỉ văn bản đi (dự thảo) mới trình duyệt được.")
    return doc


def _require_drafter(user: User, doc: Document) -> None:
    if doc.created_by != user.id:
        raise PermissionDenied("Chỉ người soạn thảo mới thực hiện được thao tác này.")


def submit(
    session: Session, *, actor: Actor, user: User, document_id: str, template_id: str | None = None,
    stages: list[StageSpec] | None = None, comment: str = "", expected_lock_version: int | None = None,
) -> ReviewRound:
    """The drafter submits the current version on a template's route (given, or the agency's
    default for the type) or an ad-hoc route. Raises PermissionDenied, NotFound, InvalidInput,
    Conflict (status or stale)."""
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
    states.transition(doc, "submit")
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
    audit.record(session, actor=actor, action="workflow.submit", object_type="document", object_id=doc.id,
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
    session: Session, *, actor: Actor, user: User, document_id: str, decision: Literal["approve", "return"],
    comment: str = "", step_id: str | None = None, expected_lock_version: int | None = None,
    expected_sha256: str | None = None,
) -> ReviewStep:
    """A reviewer (or their delegate) approves the current version or returns the draft.

    Approval records the version's SHA-256; the last stage's approval approves the document.
    Returning needs a comment and sends the draft back to the drafter. Raises PermissionDenied,
    NotFound, InvalidInput, Conflict (not in review, step not pending, stale, hash mismatch).
    """
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
        raise Conflict(f"Văn bản không ở trạng thái chờ xem xét (hiện: «{states.STATUS_LABELS.get(doc.status, doc.status)}»).")
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
        states.transition(doc, "return")
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
            states.transition(doc, "review")
        elif settled:
            step_transition(rnd, "approve")
            rnd.ended_at = now
            states.transition(doc, "approve")
            competence, position = signing_capacity(session, user=user, document=doc, step=step)
            doc.signer_name, doc.signer_position, doc.signer_competence = user.full_name, position, competence
            extra = dict(doc.extra or {})
            extra["signer_authority"] = authority_line(session, step=step)
            extra["approved_sha256"] = step.sha256
            doc.extra = extra
            clerks = [u.id for u in session.scalars(select(User).where(User.org_id == doc.org_id,
                                                                       User.is_active.is_(True))) if u.has_role("clerk")]
            notify(session, org_id=doc.org_id, user_ids=[doc.created_by or ""], kind="review.approved",
                   title="Dự thảo đã được phê duyệt", body=f"{title}.\nNgười duyệt: {user.full_name}.",
                   document_id=doc.id)
            notify(session, org_id=doc.org_id, user_ids=clerks, kind="issue.pending",
                   title="Có văn bản đã duyệt chờ phát hành", body=f"{title}.", document_id=doc.id,
                   exclude=[doc.created_by or ""])
        else:
            step_transition(rnd, "advance")  # serialises concurrent decisions on the round
            states.transition(doc, "review")
    session.flush()
    audit.record(session, actor=actor, action=f"workflow.review.{decision}", object_type="document", object_id=doc.id,
                 details={"version": step.version_id, "sha256": step.sha256, "from": before, "to": doc.status,
                          "round": rnd.id, "step": step.id, "stage": step.stage_index,
                          "reviewer": step.reviewer_id, "on_behalf_of": step.reviewer_id if delegation else None,
                          "competence": step.competence, "comment": step.comment})
    return step


def withdraw(session: Session, *, actor: Actor, user: User, document_id: str, comment: str = "",
             expected_lock_version: int | None = None) -> Document:
    """The drafter withdraws: a draft in review goes back to draft (its round ends); a draft or a
    returned draft is abandoned (withdrawn). Raises PermissionDenied, NotFound, Conflict."""
    doc = _outgoing_of(session, user, document_id)
    _require_drafter(user, doc)
    check_expected(doc, expected_lock_version)
    before = doc.status
    rnd = active_round(session, doc)
    states.transition(doc, "withdraw")
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
    audit.record(session, actor=actor, action="workflow.withdraw", object_type="document", object_id=doc.id,
                 details={**version_ref(session, doc), "from": before, "to": doc.status,
                          "round": rnd.id if rnd else None, "comment": comment})
    notify(session, org_id=doc.org_id, user_ids=notified, kind="review.withdrawn", title="Dự thảo đã được rút lại",
           body=f"{doc_title(doc)}.", document_id=doc.id)
    return doc


def upload_new_version(
    session: Session, store: BlobStore, *, actor: Actor, user: User, document_id: str, file: BinaryIO,
    filename: str | None, max_size: int = documents.DEFAULT_MAX_UPLOAD, expected_lock_version: int | None = None,
) -> DocumentVersion:
    """The drafter uploads a new draft version (status draft, returned or approved → draft).
    Approvals given to earlier versions no longer count. Raises PermissionDenied, NotFound,
    Conflict, InvalidDocument, PayloadTooLarge."""
    doc = _outgoing_of(session, user, document_id)
    _require_drafter(user, doc)
    check_expected(doc, expected_lock_version)
    before = doc.status
    states.transition(doc, "new_version")
    touch(doc)
    v = documents.add_version(session, store, actor=actor, document=doc, file=file, filename=filename,
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
    audit.record(session, actor=actor, action="workflow.new_version", object_type="document", object_id=doc.id,
                 details={"version": v.id, "sha256": v.sha256, "seq": v.seq, "from": before, "to": doc.status,
                          "superseded_approvals": superseded})
    return v


# --------------------------------------------------------------------------- what signing binds to


def approved_round(session: Session, doc: Document) -> ReviewRound | None:
    return session.scalars(select(ReviewRound).where(ReviewRound.document_id == doc.id,
                                                     ReviewRound.status == "approved")
                           .order_by(ReviewRound.submitted_at.desc())).first()


def approved_sha256(session: Session, document: Document) -> str | None:
    """The SHA-256 that the final approval bound, or None when the document is not approved or a
    newer draft version (kind ``upload``) was added after it. Versions derived by signing/issuing
    (other kinds) do not void the approval."""
    rnd = approved_round(session, document)
    if rnd is None:
        return None
    final = [s for s in steps_of(session, round_id=rnd.id, stage_index=len(rnd.stages) - 1) if s.status == "approved"]
    if not final or any(s.sha256 != rnd.sha256 for s in final):
        return None
    approved = session.get(DocumentVersion, rnd.version_id)
    newer = session.scalars(select(DocumentVersion).where(DocumentVersion.document_id == document.id,
                                                          DocumentVersion.seq > approved.seq,
                                                          DocumentVersion.kind == "upload")).first()
    return None if newer is not None else rnd.sha256


def _final_step_for(session: Session, *, user: User, document: Document) -> ReviewStep | None:
    rnd = approved_round(session, document)
    if rnd is None:
        return None
    steps = [s for s in steps_of(session, round_id=rnd.id, stage_index=len(rnd.stages) - 1) if s.status == "approved"]
    return next((s for s in steps if s.acted_by == user.id), steps[0] if steps else None)


def signing_capacity(session: Session, *, user: User, document: Document, step: ReviewStep | None = None
                     ) -> tuple[str | None, str]:
    """(competence prefix or None, the signer's own position) with which ``user`` signs
    ``document``: ``KT.``/``TUQ.`` when they approved/sign through a delegation active today from
    the leader who holds the final approval, else None (signing in their own right)."""
    position = user.position or ""
    step = step or _final_step_for(session, user=user, document=document)
    if step is None:
        return None, position
    if step.acted_by == user.id:
        return step.competence, position
    d = active_delegation(session, delegator_id=step.reviewer_id, delegate_id=user.id)
    if d is not None:
        return d.competence, position
    return None, position


def authority_line(session: Session, *, step: ReviewStep | None = None, user: User | None = None,
                   document: Document | None = None) -> str | None:
    """The authority line printed above the position, e.g. ``KT. CHỦ TỊCH`` (the prefix and the
    position of the leader signed for), or None when the signer signs in their own right."""
    if step is None and user is not None and document is not None:
        step = _final_step_for(session, user=user, document=document)
        if step is not None and step.acted_by != user.id:
            d = active_delegation(session, delegator_id=step.reviewer_id, delegate_id=user.id)
            if d is None:
                return None
            principal = session.get(User, d.delegator_id)
            return f"{d.competence} {(principal.position or '').upper()}".strip()
    if step is None or step.competence is None:
        return None
    principal = session.get(User, step.reviewer_id)
    return f"{step.competence} {(principal.position or '').upper()}".strip()
