"""The document lifecycle as an explicit transition table.

Every status change of a document goes through :func:`transition`, which raises Conflict (409)
for an action that the current status does not allow. Domain modules (registers, workflow,
signing) call it; they never assign ``Document.status`` directly.
"""
from __future__ import annotations

from ioffice.documents.models import Document
from ioffice.kernel.statemachine import StateMachine

STATUS_LABELS = {
    # incoming
    "received": "Đã tiếp nhận",
    "registered": "Đã vào sổ",
    "assigned": "Đã giao xử lý",
    "in_progress": "Đang xử lý",
    "completed": "Đã hoàn thành",
    "returned_to_sender": "Đã trả lại nơi gửi",
    # outgoing
    "draft": "Dự thảo",
    "in_review": "Đang trình duyệt",
    "returned": "Bị trả lại",
    "approved": "Đã phê duyệt",
    "signed": "Đã ký",
    "issued": "Đã ban hành",
    "withdrawn": "Đã rút",
    "recalled": "Đã thu hồi",
}

# (direction, from status, action) -> to status
TRANSITIONS: dict[tuple[str, str, str], str] = {
    # incoming: check → register or return → assign → handle → complete
    ("incoming", "received", "register"): "registered",
    ("incoming", "received", "return"): "returned_to_sender",
    ("incoming", "registered", "assign"): "assigned",
    ("incoming", "assigned", "assign"): "assigned",  # leader re-assigns
    ("incoming", "assigned", "pass_on"): "assigned",  # unit head hands it to a specialist
    ("incoming", "in_progress", "pass_on"): "in_progress",
    ("incoming", "assigned", "progress"): "in_progress",
    ("incoming", "in_progress", "progress"): "in_progress",
    ("incoming", "assigned", "complete"): "completed",
    ("incoming", "in_progress", "complete"): "completed",
    # outgoing: draft → review steps → approve → sign → issue
    ("outgoing", "draft", "new_version"): "draft",
    ("outgoing", "returned", "new_version"): "draft",
    ("outgoing", "approved", "new_version"): "draft",  # approvals of the old version no longer apply
    ("outgoing", "draft", "submit"): "in_review",
    ("outgoing", "returned", "submit"): "in_review",
    ("outgoing", "in_review", "review"): "in_review",  # one step approved, more remain
    ("outgoing", "in_review", "approve"): "approved",  # the last step approved
    ("outgoing", "in_review", "return"): "returned",
    ("outgoing", "in_review", "withdraw"): "draft",
    ("outgoing", "draft", "withdraw"): "withdrawn",
    ("outgoing", "returned", "withdraw"): "withdrawn",
    ("outgoing", "approved", "sign"): "signed",
    ("outgoing", "signed", "sign"): "signed",  # further signatures
    ("outgoing", "approved", "issue"): "issued",
    ("outgoing", "signed", "issue"): "issued",
    ("outgoing", "issued", "recall"): "recalled",
    ("outgoing", "issued", "sign_attachment"): "issued",
}


LIFECYCLE = StateMachine(TRANSITIONS, STATUS_LABELS, subject="văn bản")


def allowed_actions(doc: Document) -> list[str]:
    return LIFECYCLE.allowed(doc.direction, doc.status)


def can(doc: Document, action: str) -> bool:
    return LIFECYCLE.can(doc.direction, doc.status, action)


def transition(doc: Document, action: str) -> str:
    """Apply ``action`` to ``doc`` and return its new status. Raises Conflict when not allowed."""
    return LIFECYCLE.apply(doc, action, kind=doc.direction)
