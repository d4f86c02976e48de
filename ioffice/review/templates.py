"""Route templates and route resolution (who reviews a draft, in which stages)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import ROLES, User
from ioffice.audit import services as audit
from ioffice.documents.doctypes import resolve_doc_type
from ioffice.documents.models import Document
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import get_scoped
from ioffice.kernel.errors import Conflict, InvalidInput
from ioffice.kernel.vocab import Secrecy, Urgency
from ioffice.review.models import RouteTemplate

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

    secrecy: list[Secrecy] | None = None
    urgency: list[Urgency] | None = None
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
        get_scoped(
            session, User, uid, org_id, not_found=f"Không tìm thấy người xem xét của bước «{s.name}» trong cơ quan."
        )


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


def create_template(session: Session, *, caller: Caller, org_id: str, body: RouteTemplateIn) -> RouteTemplate:
    """Create a route template (admin). Raises InvalidInput, NotFound."""
    t = RouteTemplate(org_id=org_id, created_by=caller.user_id, **_template_values(session, org_id, body))
    session.add(t)
    session.flush()
    audit.record(session, caller=caller, org_id=org_id, action="route_template.create", object_type="route_template",
                 object_id=t.id, details={"name": t.name, "doc_type": t.doc_type, "stages": len(t.stages)})
    return t


def get_template(session: Session, *, org_id: str, template_id: str) -> RouteTemplate:
    t = get_scoped(session, RouteTemplate, template_id, org_id, not_found="Không tìm thấy quy trình mẫu.")
    return t


def update_template(session: Session, *, caller: Caller, org_id: str, template_id: str, body: RouteTemplateIn,
                    expected_lock_version: int | None = None) -> RouteTemplate:
    """Replace a template's definition. Raises NotFound, InvalidInput, Conflict (stale)."""
    t = get_template(session, org_id=org_id, template_id=template_id)
    if expected_lock_version is not None and expected_lock_version != t.lock_version:
        raise Conflict("Quy trình mẫu vừa được người khác sửa. Vui lòng tải lại.")
    for k, v in _template_values(session, org_id, body).items():
        setattr(t, k, v)
    session.flush()
    audit.record(session, caller=caller, org_id=org_id, action="route_template.update", object_type="route_template",
                 object_id=t.id, details={"name": t.name, "doc_type": t.doc_type, "stages": len(t.stages)})
    return t


def delete_template(session: Session, *, caller: Caller, org_id: str, template_id: str) -> None:
    """Deactivate a template (rounds keep referring to it). Raises NotFound."""
    t = get_template(session, org_id=org_id, template_id=template_id)
    t.is_active = False
    session.flush()
    audit.record(session, caller=caller, org_id=org_id, action="route_template.delete", object_type="route_template",
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
    return (exact or generic)[0] if exact or generic else None


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
                  conditions: Sequence[ConditionSpec] = ()) -> list[tuple[StageSpec, list[str]]]:
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
