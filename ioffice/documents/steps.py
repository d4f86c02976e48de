"""Step transitions: review steps, review rounds and assignments move through one table."""
from __future__ import annotations

from typing import Any

from ioffice.kernel.statemachine import StateMachine

STEP_LABELS = {
    "waiting": "Chờ đến lượt",
    "pending": "Đang chờ xử lý",
    "approved": "Đã đồng ý",
    "returned": "Đã trả lại",
    "skipped": "Không cần xử lý",
    "cancelled": "Đã hủy",
    "superseded": "Không còn hiệu lực",
    "active": "Đang trình",
    "withdrawn": "Đã rút",
    "assigned": "Đã giao",
    "in_progress": "Đang xử lý",
    "passed_on": "Đã chuyển xử lý",
    "completed": "Đã hoàn thành",
    "informed": "Nhận để biết",
    "read": "Đã xem",
}

# (kind, from status, action) -> to status
STEP_TRANSITIONS: dict[tuple[str, str, str], str] = {
    # one reviewer's step in a stage of a review round
    ("review_step", "waiting", "activate"): "pending",
    ("review_step", "pending", "approve"): "approved",
    ("review_step", "pending", "return"): "returned",
    ("review_step", "pending", "skip"): "skipped",  # an "any" stage was settled by another reviewer
    ("review_step", "waiting", "cancel"): "cancelled",  # the round ended (returned / withdrawn)
    ("review_step", "pending", "cancel"): "cancelled",
    ("review_step", "approved", "supersede"): "superseded",  # a new version was uploaded
    # a review round: one submission of one version on one route
    ("review_round", "active", "advance"): "active",
    ("review_round", "active", "approve"): "approved",
    ("review_round", "active", "return"): "returned",
    ("review_round", "active", "withdraw"): "withdrawn",
    ("review_round", "approved", "supersede"): "superseded",
    # an assignment of an incoming document to a unit or a person
    ("assignment", "assigned", "pass_on"): "passed_on",
    ("assignment", "in_progress", "pass_on"): "passed_on",
    ("assignment", "assigned", "progress"): "in_progress",
    ("assignment", "in_progress", "progress"): "in_progress",
    ("assignment", "assigned", "complete"): "completed",
    ("assignment", "in_progress", "complete"): "completed",
    ("assignment", "assigned", "cancel"): "cancelled",  # the leader re-assigns
    ("assignment", "in_progress", "cancel"): "cancelled",
    ("assignment", "passed_on", "cancel"): "cancelled",
    ("assignment", "informed", "read"): "read",
    ("assignment", "informed", "cancel"): "cancelled",
}


STEPS = StateMachine(STEP_TRANSITIONS, STEP_LABELS, subject="bước xử lý")


def step_allowed_actions(kind: str, status: str) -> list[str]:
    return STEPS.allowed(kind, status)


def step_transition(step: Any, action: str) -> str:
    """Apply ``action`` to a step-like row (``STEP_KIND`` class attribute + ``status``) and return
    the new status. Raises Conflict when the table does not allow it."""
    return STEPS.apply(step, action, kind=step.STEP_KIND)
