"""The step transition table: labelled statuses, settled steps stay settled, refusals are 409."""
from __future__ import annotations

import pytest

from ioffice.documents.steps import STEP_LABELS, STEP_TRANSITIONS, step_transition
from ioffice.handling.models import Assignment
from ioffice.kernel.errors import Conflict
from ioffice.review.models import ReviewRound, ReviewStep

SETTLED = {
    "review_step": {"returned", "skipped", "cancelled", "superseded"},
    "review_round": {"returned", "withdrawn", "superseded"},
    "assignment": {"completed", "cancelled", "read"},
}


def test_every_status_has_a_vietnamese_label():
    statuses = {s for (_, s, _) in STEP_TRANSITIONS} | set(STEP_TRANSITIONS.values())
    assert statuses <= set(STEP_LABELS)


@pytest.mark.parametrize("kind", sorted(SETTLED))
def test_settled_statuses_admit_no_action(kind):
    for (k, status, _action) in STEP_TRANSITIONS:
        if k == kind:
            assert status not in SETTLED[kind], (kind, status)


@pytest.mark.parametrize("row, status, action", [
    (ReviewStep, "approved", "approve"), (ReviewStep, "waiting", "approve"), (ReviewStep, "skipped", "return"),
    (ReviewRound, "approved", "return"), (Assignment, "completed", "progress"), (Assignment, "passed_on", "complete"),
])
def test_refused_moves_are_conflicts_naming_what_is_allowed(row, status, action):
    obj = row(status=status)
    with pytest.raises(Conflict) as exc:
        step_transition(obj, action)
    assert exc.value.status == 409 and obj.status == status
    assert exc.value.extra["allowed_actions"] == sorted(
        a for (k, s, a) in STEP_TRANSITIONS if k == row.STEP_KIND and s == status)
    assert STEP_LABELS[status] in exc.value.detail
