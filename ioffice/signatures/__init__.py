"""Signing documents in the workflow: who signs what, idempotent requests, external sessions."""
from .models import SigningRequest, SigningSession  # noqa: F401
from .ports import KINDS, LEVELS, ExternalSigningPort, Kind, PdfSigningPort, PreparedExternal, SignSpec  # noqa: F401
from .rules import build_spec, check_can_sign, personal_capacity, resolve_level  # noqa: F401
from .services import (  # noqa: F401
    abandon_session,
    complete_external,
    expire_sessions,
    find_idempotent,
    prepare_external,
    preview_sign,
    sign_document,
)
