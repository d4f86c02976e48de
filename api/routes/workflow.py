"""Workflow endpoints: draft versions, submission, review decisions, withdrawal (outgoing);
assignment, passing on, progress, completion and the follow-up report (incoming); route templates
and delegations."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, File, Form, Query, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from ioffice import delegation as dlg
from ioffice import documents as docs
from ioffice import handling
from ioffice import review as routing
from ioffice.accounts.models import User
from ioffice.kernel.vocab import DelegationPrefix

from .. import mailer
from ..deps import CallerDep, ContainerDep, CurrentUser, SessionDep, StoreDep, problem_responses, require_roles
from ..schemas import VersionOut


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    container = app.state.container
    mailer.install(container)
    yield
    mailer.uninstall(container)


router = APIRouter(prefix="/api/v1", tags=["workflow"], lifespan=_lifespan)

STAFF = ("clerk", "specialist", "unit_head", "leader")


# --------------------------------------------------------------------------- models

class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_lock_version: int | None = Field(default=None, description="the document's lock_version the caller saw; "
                                                                        "409 when it changed")


class SubmitIn(Expect):
    template_id: str | None = Field(default=None, description="a route template; omitted → the agency's default")
    stages: list[routing.StageSpec] | None = Field(default=None, min_length=1, max_length=20,
                                                   description="an ad-hoc route instead of a template (at least one "
                                                               "stage; omit it for the template)")
    comment: str = Field(default="", max_length=4000)


class ReviewIn(Expect):
    decision: Literal["approve", "return"]
    comment: str = Field(default="", max_length=4000, description="required when returning")
    step_id: str | None = None
    expected_sha256: str | None = Field(default=None, description="the version hash the reviewer read")


class WithdrawIn(Expect):
    comment: str = Field(default="", max_length=4000)


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    round_id: str
    stage_index: int
    stage_name: str
    mode: str
    reviewer_id: str
    status: str
    due_date: date | None
    acted_by: str | None
    competence: str | None
    decided_at: datetime | None
    sha256: str | None
    comment: str


class RoundStageOut(BaseModel):
    name: str
    mode: Literal["all", "any"]
    reviewers: list[str] = Field(description="user ids resolved at submission")


class RoundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    document_id: str
    template_id: str | None
    version_id: str
    sha256: str
    status: str
    current_stage: int
    stages: list[RoundStageOut]
    submitted_by: str | None
    submitted_at: datetime
    ended_at: datetime | None
    steps: list[StepOut] = []


class DecisionOut(BaseModel):
    step: StepOut
    document_status: str
    lock_version: int
    approved_sha256: str | None


class DocStateOut(BaseModel):
    document_id: str
    status: str
    lock_version: int


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit_id: str | None = None
    user_id: str | None = None


class AssignIn(Expect):
    lead: TargetIn = Field(description="chủ trì: a unit or a person")
    co_handlers: list[TargetIn] = Field(default_factory=list, max_length=50, description="phối hợp")
    info_user_ids: list[str] = Field(default_factory=list, max_length=200, description="nhận để biết")
    directions: str = Field(default="", max_length=4000, description="ý kiến chỉ đạo")
    deadline: date | None = None
    deadline_working_days: int | None = Field(default=None, description="instead of deadline: N working days")


class PassOnIn(Expect):
    user_id: str
    directions: str = Field(default="", max_length=4000)
    deadline: date | None = Field(default=None, description="≤ the leader's deadline; omitted → the same")
    deadline_working_days: int | None = None


class ProgressIn(Expect):
    note: str = Field(min_length=1, max_length=4000)


class ExtendIn(Expect):
    deadline: date = Field(description="the new deadline, later than the current one")
    reason: str = Field(min_length=1, max_length=2000, description="Lý do gia hạn")


class CompleteIn(Expect):
    note: str = Field(default="", max_length=4000)
    reply_document_id: str | None = Field(default=None, description="the outgoing reply of the same agency")


class AssignmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    document_id: str
    parent_id: str | None
    role: str
    assignee_user_id: str | None
    assignee_unit_id: str | None
    assigned_by: str | None
    directions: str
    deadline: date | None
    status: str
    created_at: datetime
    completed_at: datetime | None
    reply_document_id: str | None
    result_note: str
    outcome: str | None = None


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    assignment_id: str
    author_id: str | None
    note: str
    created_at: datetime


class WorkflowOut(BaseModel):
    document_id: str
    direction: str
    status: str
    lock_version: int
    approved_sha256: str | None
    rounds: list[RoundOut]
    assignments: list[AssignmentOut]
    notes: list[NoteOut]


class FollowupRowOut(BaseModel):
    assignment_id: str
    document_id: str
    number_symbol: str | None
    issuing_body: str | None
    summary: str
    role: str
    unit_id: str | None
    unit_name: str | None
    handler_id: str | None
    handler_name: str | None
    assigned_at: datetime
    deadline: date | None
    directions: str
    progress: str
    status: str
    completed_at: datetime | None
    reply_document_id: str | None
    reply_number_symbol: str | None
    outcome: Literal["on_time", "late", "overdue", "pending"]
    outcome_label: str
    arrival_number: int | None = None


class FollowupCount(BaseModel):
    id: str | None
    name: str | None
    on_time: int
    late: int
    overdue: int
    pending: int
    total: int


class FollowupOut(BaseModel):
    rows: list[FollowupRowOut]
    by_unit: list[FollowupCount]
    by_handler: list[FollowupCount]


class RouteTemplateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    name: str
    doc_type: str | None = Field(description="abbreviation; \"\" for công văn; null = any type")
    stages: list[routing.StageSpec]
    conditions: list[routing.ConditionSpec]
    is_active: bool
    lock_version: int
    created_at: datetime
    updated_at: datetime


class DelegationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delegate_id: str
    competence: DelegationPrefix = "KT."
    start_date: date
    end_date: date
    note: str = Field(default="", max_length=2000)
    delegator_id: str | None = Field(default=None, description="admins only: the leader who delegates")


class DelegationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    delegator_id: str
    delegate_id: str
    competence: str
    start_date: date
    end_date: date
    note: str
    revoked_at: datetime | None
    created_at: datetime


def _round_out(db: Session, rnd: routing.ReviewRound) -> RoundOut:
    out = RoundOut.model_validate(rnd)
    out.steps = [StepOut.model_validate(s) for s in routing.steps_of(db, round_id=rnd.id)]
    return out


def _assignment_out(a: handling.Assignment) -> AssignmentOut:
    out = AssignmentOut.model_validate(a)
    if a.role != "info" and a.status in ("assigned", "in_progress", "completed"):
        out.outcome = handling.outcome(a)
    return out


def _state(doc: docs.Document) -> DocStateOut:
    return DocStateOut(document_id=doc.id, status=doc.status, lock_version=doc.lock_version)


# --------------------------------------------------------------------------- outgoing

@router.post("/documents/{document_id}/versions", status_code=201, response_model=VersionOut,
             responses=problem_responses(401, 403, 404, 409, 413, 422, 503),
             dependencies=[require_roles(*STAFF)])
def upload_version(
    document_id: str, db: SessionDep, store: StoreDep, caller: CallerDep, container: ContainerDep,
    file: Annotated[UploadFile, File(description="The new draft PDF")],
    expected_lock_version: Annotated[int | None, Form()] = None,
) -> VersionOut:
    """The drafter uploads a new version of a draft (status draft, returned or approved → draft).
    Approvals of earlier versions no longer count."""
    v = routing.upload_new_version(db, store, caller=caller, document_id=document_id, file=file.file,
                                   filename=file.filename, max_size=container.settings.max_upload_bytes,
                                   expected_lock_version=expected_lock_version)
    return VersionOut.model_validate(v)


@router.post("/documents/{document_id}/submit", status_code=201, response_model=RoundOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles(*STAFF)])
def submit(document_id: str, body: SubmitIn, db: SessionDep, caller: CallerDep) -> RoundOut:
    """The drafter submits the current version on a route (template or ad hoc)."""
    rnd = routing.submit(db, caller=caller, document_id=document_id, template_id=body.template_id,
                         stages=body.stages, comment=body.comment, expected_lock_version=body.expected_lock_version)
    return _round_out(db, rnd)


@router.post("/documents/{document_id}/review", response_model=DecisionOut,
             responses=problem_responses(401, 403, 404, 409, 422))
def review(document_id: str, body: ReviewIn, db: SessionDep, caller: CallerDep) -> DecisionOut:
    """Approve the current version (its SHA-256 is recorded) or return the draft with comments.
    Any user named on the route (or a delegate of one) may decide; others get 403. 409 when the
    step is no longer pending, the document changed (``expected_lock_version``) or another reviewer won a race."""
    step = routing.decide(db, caller=caller, document_id=document_id, decision=body.decision,
                          comment=body.comment, step_id=body.step_id, expected_lock_version=body.expected_lock_version,
                          expected_sha256=body.expected_sha256)
    doc = docs.get_document(db, org_id=caller.person.org_id, document_id=document_id)
    db.flush()
    return DecisionOut(step=StepOut.model_validate(step), document_status=doc.status, lock_version=doc.lock_version,
                       approved_sha256=routing.approved_sha256(db, doc))


@router.post("/documents/{document_id}/withdraw", response_model=DocStateOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles(*STAFF)])
def withdraw(document_id: str, body: WithdrawIn, db: SessionDep, caller: CallerDep) -> DocStateOut:
    """The drafter withdraws a draft: in review → draft; draft or returned → withdrawn."""
    doc = routing.withdraw(db, caller=caller, document_id=document_id, comment=body.comment,
                           expected_lock_version=body.expected_lock_version)
    db.flush()
    return _state(doc)


@router.get("/documents/{document_id}/workflow", response_model=WorkflowOut,
            responses=problem_responses(401, 403, 404), dependencies=[require_roles(*STAFF)])
def get_workflow(document_id: str, db: SessionDep, user: CurrentUser) -> WorkflowOut:
    """The document's workflow history: review rounds with their steps, assignments, progress notes."""
    doc = docs.get_document(db, org_id=user.org_id, document_id=document_id)
    return WorkflowOut(
        document_id=doc.id, direction=doc.direction, status=doc.status, lock_version=doc.lock_version,
        approved_sha256=routing.approved_sha256(db, doc) if doc.direction == "outgoing" else None,
        rounds=[_round_out(db, r) for r in routing.rounds_of(db, org_id=doc.org_id, document_id=doc.id)],
        assignments=[_assignment_out(a) for a in handling.assignments_of(db, org_id=doc.org_id, document_id=doc.id)],
        notes=[NoteOut.model_validate(n) for n in handling.notes_of(db, document_id=doc.id)],
    )


# --------------------------------------------------------------------------- incoming

@router.post("/documents/{document_id}/assign", status_code=201, response_model=list[AssignmentOut],
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles("leader")])
def assign(document_id: str, body: AssignIn, db: SessionDep, caller: CallerDep
           ) -> list[AssignmentOut]:
    """The leader assigns a registered incoming document: lead, co-handlers, for information,
    directions and a deadline (a date or N working days)."""
    deadline = handling.resolve_deadline(deadline=body.deadline, working_days=body.deadline_working_days)
    rows = handling.assign(
        db, caller=caller, document_id=document_id,
        lead=handling.Target(unit_id=body.lead.unit_id, user_id=body.lead.user_id),
        co_handlers=[handling.Target(unit_id=t.unit_id, user_id=t.user_id) for t in body.co_handlers],
        info_user_ids=body.info_user_ids, directions=body.directions, deadline=deadline,
        expected_lock_version=body.expected_lock_version)
    return [_assignment_out(a) for a in rows]


@router.post("/assignments/{assignment_id}/pass-on", status_code=201, response_model=AssignmentOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles("unit_head")])
def pass_on(assignment_id: str, body: PassOnIn, db: SessionDep, caller: CallerDep) -> AssignmentOut:
    """The unit head hands the unit's assignment to a specialist of the unit."""
    deadline = handling.resolve_deadline(deadline=body.deadline, working_days=body.deadline_working_days)
    child = handling.pass_on(db, caller=caller, assignment_id=assignment_id, to_user_id=body.user_id,
                             directions=body.directions, deadline=deadline,
                             expected_lock_version=body.expected_lock_version)
    return _assignment_out(child)


@router.post("/assignments/{assignment_id}/progress", status_code=201, response_model=NoteOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles(*STAFF)])
def progress(assignment_id: str, body: ProgressIn, db: SessionDep, caller: CallerDep) -> NoteOut:
    """The handler records a progress note."""
    n = handling.record_progress(db, caller=caller, assignment_id=assignment_id, note=body.note,
                                 expected_lock_version=body.expected_lock_version)
    return NoteOut.model_validate(n)


@router.post("/assignments/{assignment_id}/deadline", response_model=AssignmentOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles(*STAFF)])
def extend_deadline(assignment_id: str, body: ExtendIn, db: SessionDep, caller: CallerDep) -> AssignmentOut:
    """The handler (or the head of the unit assigned) extends the deadline, with a reason; the
    assigner is notified and the follow-up report judges against the new deadline."""
    a = handling.extend_deadline(db, caller=caller, assignment_id=assignment_id, deadline=body.deadline,
                                 reason=body.reason, expected_lock_version=body.expected_lock_version)
    return _assignment_out(a)


@router.post("/assignments/{assignment_id}/complete", response_model=AssignmentOut,
             responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles(*STAFF)])
def complete(assignment_id: str, body: CompleteIn, db: SessionDep, caller: CallerDep
             ) -> AssignmentOut:
    """The handler completes the assignment, optionally linking the outgoing reply."""
    a = handling.complete(db, caller=caller, assignment_id=assignment_id, note=body.note,
                          reply_document_id=body.reply_document_id, expected_lock_version=body.expected_lock_version)
    return _assignment_out(a)


@router.post("/assignments/{assignment_id}/read", response_model=AssignmentOut,
             responses=problem_responses(401, 403, 404, 409))
def acknowledge(assignment_id: str, db: SessionDep, caller: CallerDep) -> AssignmentOut:
    """Someone who received the document for information (nhận để biết) marks it read."""
    return _assignment_out(handling.acknowledge(db, caller=caller, assignment_id=assignment_id))


@router.get("/reports/follow-up/details", response_model=FollowupOut, responses=problem_responses(401, 403, 422),
            dependencies=[require_roles("clerk", "unit_head", "leader")])
def followup(db: SessionDep, user: CurrentUser, year: int | None = Query(default=None, ge=2000, le=2100),
             start: date | None = None, end: date | None = None) -> FollowupOut:
    """Every assignment with its outcome (on time, late, overdue, pending) and the counts per unit and
    handler, by assignment date. The summary at /reports/follow-up also counts unassigned documents."""
    rows = handling.followup_rows(db, org_id=user.org_id, year=year, start=start, end=end)
    return FollowupOut(rows=[FollowupRowOut(**r.__dict__) for r in rows],
                       by_unit=[FollowupCount(**c) for c in handling.followup_summary(rows, by="unit")],
                       by_handler=[FollowupCount(**c) for c in handling.followup_summary(rows, by="handler")])


# --------------------------------------------------------------------------- route templates

@router.get("/route-templates", response_model=list[RouteTemplateOut], responses=problem_responses(401),
            tags=["route templates"])
def list_route_templates(db: SessionDep, user: CurrentUser, include_inactive: bool = False) -> list[RouteTemplateOut]:
    """The agency's route templates (any signed-in user, to choose one when submitting)."""
    return [RouteTemplateOut.model_validate(t)
            for t in routing.list_templates(db, org_id=user.org_id, include_inactive=include_inactive)]


@router.post("/route-templates", status_code=201, response_model=RouteTemplateOut,
             responses=problem_responses(401, 403, 404, 422), dependencies=[require_roles("admin")],
             tags=["route templates"])
def create_route_template(body: routing.RouteTemplateIn, db: SessionDep, caller: CallerDep) -> RouteTemplateOut:
    """Create a route template for a document type (or any type), with conditional stages."""
    return RouteTemplateOut.model_validate(
        routing.create_template(db, caller=caller, org_id=caller.person.org_id, body=body)
    )


@router.get("/route-templates/{template_id}", response_model=RouteTemplateOut, responses=problem_responses(401, 404),
            tags=["route templates"])
def get_route_template(template_id: str, db: SessionDep, user: CurrentUser) -> RouteTemplateOut:
    return RouteTemplateOut.model_validate(routing.get_template(db, org_id=user.org_id, template_id=template_id))


@router.put("/route-templates/{template_id}", response_model=RouteTemplateOut,
            responses=problem_responses(401, 403, 404, 409, 422), dependencies=[require_roles("admin")],
            tags=["route templates"])
def update_route_template(template_id: str, body: routing.RouteTemplateIn, db: SessionDep, caller: CallerDep,
                          expected_lock_version: int | None = None) -> RouteTemplateOut:
    """Replace a template (rounds already started keep their resolved route)."""
    t = routing.update_template(db, caller=caller, org_id=caller.person.org_id, template_id=template_id, body=body,
                                expected_lock_version=expected_lock_version)
    db.flush()
    return RouteTemplateOut.model_validate(t)


@router.delete("/route-templates/{template_id}", status_code=204, responses=problem_responses(401, 403, 404),
               dependencies=[require_roles("admin")], tags=["route templates"])
def delete_route_template(template_id: str, db: SessionDep, caller: CallerDep) -> None:
    """Deactivate a template."""
    routing.delete_template(db, caller=caller, org_id=caller.person.org_id, template_id=template_id)


# --------------------------------------------------------------------------- delegations

@router.get("/delegations", response_model=list[DelegationOut], responses=problem_responses(401),
            tags=["delegations"])
def list_delegations(db: SessionDep, user: CurrentUser, mine: bool = False) -> list[DelegationOut]:
    """The agency's delegations (``mine``: those given or received by the caller)."""
    rows = dlg.list_delegations(db, org_id=user.org_id, user_id=user.id if mine else None)
    return [DelegationOut.model_validate(d) for d in rows]


@router.post("/delegations", status_code=201, response_model=DelegationOut,
             responses=problem_responses(401, 403, 404, 422), dependencies=[require_roles("leader", "admin")],
             tags=["delegations"])
def create_delegation(body: DelegationIn, db: SessionDep, caller: CallerDep, user: CurrentUser) -> DelegationOut:
    """A leader hands signing capacity to a deputy for a period (``KT.`` or ``TUQ.``)."""
    delegator: User = user
    if body.delegator_id and body.delegator_id != user.id:
        if not user.has_role("admin"):
            from ioffice.kernel.errors import PermissionDenied

            raise PermissionDenied("Chỉ quản trị mới ghi nhận ủy quyền thay cho lãnh đạo khác.")
        from ioffice.accounts.services import get_user

        delegator = get_user(db, org_id=user.org_id, user_id=body.delegator_id)
    d = dlg.create_delegation(db, caller=caller, delegator=delegator, delegate_id=body.delegate_id,
                              competence=body.competence, start_date=body.start_date, end_date=body.end_date,
                              note=body.note)
    return DelegationOut.model_validate(d)


@router.post("/delegations/{delegation_id}/revoke", response_model=DelegationOut,
             responses=problem_responses(401, 403, 404, 409), tags=["delegations"])
def revoke_delegation(delegation_id: str, db: SessionDep, caller: CallerDep) -> DelegationOut:
    """End a delegation now (the delegator or an admin)."""
    d = dlg.revoke_delegation(db, caller=caller, delegation_id=delegation_id)
    db.flush()
    return DelegationOut.model_validate(d)
