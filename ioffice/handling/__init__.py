"""Incoming documents handled: assignments, passing on, progress, completion, follow-up."""
from .extension import extend_deadline  # noqa: F401
from .followup import (  # noqa: F401
    OUTCOME_LABELS,
    OUTCOMES,
    UNASSIGNED,
    FollowUpCount,
    FollowUpItem,
    FollowupRow,
    follow_up_items,
    follow_up_register,
    follow_up_report,
    followup_rows,
    followup_summary,
    outcome,
    tally,
)
from .models import Assignment, AssignmentNote  # noqa: F401
from .services import (  # noqa: F401
    ROLE_LABELS,
    Target,
    acknowledge,
    assign,
    assignments_of,
    complete,
    get_assignment,
    notes_of,
    open_assignments,
    pass_on,
    record_progress,
    resolve_deadline,
    unit_heads,
)
