"""Organisations, units, users, roles, passwords, login throttling and rate limits."""
from .models import ROLES, ROLE_LABELS, Organisation, Unit, User, LoginAttempt, RateLimitBucket  # noqa: F401
from .services import MAX_FAILURES, FAILURE_WINDOW, MAX_FAILURES_PER_ADDR, USERNAME_RE, hash_password, authenticate, create_organisation, create_unit, create_user, get_user, set_roles, set_password, set_active, update_profile  # noqa: F401
from .ratelimit import hit  # noqa: F401
