"""Incoming documents handled: assignments, passing on, progress, completion, follow-up."""
from .models import Assignment, AssignmentNote  # noqa: F401
from .services import ROLE_LABELS, Target, resolve_deadline, unit_heads, open_assignments, assign, get_assignment, pass_on, record_progress, complete, acknowledge, notes_of, assignments_of  # noqa: F401
from .followup import OUTCOMES, outcome, OUTCOME_LABELS, FollowupRow, followup_rows, tally, followup_summary, UNASSIGNED, FollowUpItem, follow_up_items, follow_up_register, FollowUpCount, follow_up_report  # noqa: F401
from .extension import extend_deadline  # noqa: F401
