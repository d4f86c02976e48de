"""Route templates of the demo agency: every document type has a route, so a specialist submits a
draft with no hand-written stages (the head of their unit reviews, the chairman approves)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.kernel.caller import Caller
from ioffice.review import templates
from ioffice.review.models import RouteTemplate

_HEAD = {"name": "Trưởng phòng xem xét", "roles": ["unit_head"], "same_unit": True, "due_working_days": 2}
_CHAIRMAN = {"name": "Chủ tịch phê duyệt", "roles": ["leader"], "due_working_days": 2}
_OFFICE = {"name": "Văn phòng kiểm tra thể thức, bảo mật", "roles": ["clerk"], "mode": "any", "due_working_days": 1}
_SECRET = {"if": {"secrecy": ["mat", "toi_mat", "tuyet_mat"]}, "add_stage": _OFFICE, "position": "before_last"}

# (name, document type or None for any other type, stages, conditions)
DEMO_ROUTES = [
    ("Công văn: Trưởng phòng → Chủ tịch", "Công văn", [_HEAD, _CHAIRMAN], [_SECRET]),
    ("Quyết định: Trưởng phòng → Văn phòng → Chủ tịch", "Quyết định", [_HEAD, _OFFICE, _CHAIRMAN], []),
    ("Tờ trình: Trưởng phòng → Chủ tịch", "Tờ trình", [_HEAD, _CHAIRMAN], [_SECRET]),
    ("Báo cáo: Trưởng phòng → Chủ tịch", "Báo cáo", [_HEAD, _CHAIRMAN], [_SECRET]),
    ("Kế hoạch: Trưởng phòng → Chủ tịch", "Kế hoạch", [_HEAD, _CHAIRMAN], [_SECRET]),
    ("Thông báo: Trưởng phòng → Chủ tịch", "Thông báo", [_HEAD, _CHAIRMAN], [_SECRET]),
    ("Văn bản khác: Trưởng phòng → Chủ tịch", None, [_HEAD, _CHAIRMAN], [_SECRET]),
]


def seed_demo_routes(session: Session, *, caller: Caller, org_id: str) -> int:
    """Create the demo route templates once (none are added to an agency that already has some).
    Returns how many were created."""
    if session.scalar(select(RouteTemplate.id).where(RouteTemplate.org_id == org_id).limit(1)) is not None:
        return 0
    for name, doc_type, stages, conditions in DEMO_ROUTES:
        body = templates.RouteTemplateIn.model_validate(
            {"name": name, "doc_type": doc_type, "stages": stages, "conditions": conditions})
        templates.create_template(session, caller=caller, org_id=org_id, body=body)
    return len(DEMO_ROUTES)
