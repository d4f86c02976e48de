"""Outgoing drafts on their route: templates, submission, reviews, approval."""
from .models import ReviewRound, ReviewStep, RouteTemplate  # noqa: F401
from .queries import active_round, approved_round, rounds_of, steps_of  # noqa: F401
from .rules import approved_sha256, authority_line, signing_capacity  # noqa: F401
from .services import decide, submit, upload_new_version, withdraw  # noqa: F401
from .templates import (  # noqa: F401
    ConditionIf,
    ConditionSpec,
    RouteTemplateIn,
    StageSpec,
    create_template,
    delete_template,
    get_template,
    list_templates,
    resolve_route,
    update_template,
)
