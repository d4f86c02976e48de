"""Outgoing drafts on their route: templates, submission, reviews, approval."""
from .models import RouteTemplate, ReviewRound, ReviewStep  # noqa: F401
from .queries import steps_of, rounds_of, active_round, approved_round  # noqa: F401
from .rules import approved_sha256, signing_capacity, authority_line  # noqa: F401
from .services import submit, decide, withdraw, upload_new_version  # noqa: F401
from .templates import StageSpec, ConditionIf, ConditionSpec, RouteTemplateIn, create_template, get_template, update_template, delete_template, list_templates, resolve_route  # noqa: F401
