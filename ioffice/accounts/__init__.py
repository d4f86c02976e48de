"""Organisations, units, users, roles, passwords, login throttling and rate limits."""
from .models import ROLE_LABELS, ROLES, LoginAttempt, Organisation, RateLimitBucket, Unit, User  # noqa: F401
from .ratelimit import hit  # noqa: F401
from .services import (  # noqa: F401
    FAILURE_WINDOW,
    MAX_FAILURES,
    MAX_FAILURES_PER_ADDR,
    USERNAME_RE,
    authenticate,
    create_organisation,
    create_unit,
    create_user,
    get_user,
    hash_password,
    set_active,
    set_password,
    set_roles,
    update_profile,
)
