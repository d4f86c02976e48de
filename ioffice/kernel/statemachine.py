"""One state-machine helper for every status column of the core (documents, review steps and
rounds, assignments): a transition table ``(kind, from status, action) -> to status`` and labels.

``apply`` raises Conflict (409) naming the current status and the allowed actions when the table does
not allow an action; nothing else assigns those status columns.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ioffice.kernel.errors import Conflict


class StateMachine:
    """Transitions keyed by ``(kind, status, action)``; ``kind`` says which table row is moving
    (a document's direction, or a step kind)."""

    def __init__(self, transitions: Mapping[tuple[str, str, str], str], labels: Mapping[str, str], *,
                 subject: str) -> None:
        self.transitions = transitions
        self.labels = labels
        self.subject = subject  # Vietnamese noun for messages, e.g. "văn bản"

    def allowed(self, kind: str, status: str) -> list[str]:
        return sorted({a for (k, s, a) in self.transitions if k == kind and s == status})

    def can(self, kind: str, status: str, action: str) -> bool:
        return (kind, status, action) in self.transitions

    def target(self, kind: str, status: str, action: str) -> str:
        """The status ``action`` leads to; raises Conflict when not allowed."""
        key = (kind, status, action)
        if key not in self.transitions:
            label = self.labels.get(status, status)
            raise Conflict(f"Không thể thực hiện «{action}» khi {self.subject} đang ở trạng thái «{label}».",
                           current_status=status, allowed_actions=self.allowed(kind, status))
        return self.transitions[key]

    def apply(self, row: Any, action: str, *, kind: str, attr: str = "status") -> str:
        """Move ``row.<attr>`` by ``action`` and return the new status. Raises Conflict."""
        new = self.target(kind, getattr(row, attr), action)
        setattr(row, attr, new)
        return new
