"""Signing documents in the workflow: who signs what, idempotent requests, external sessions."""
from .models import SigningRequest, SigningSession  # noqa: F401
from .ports import Kind, KINDS, LEVELS, SignSpec, PdfSigningPort, PreparedExternal, ExternalSigningPort  # noqa: F401
from .rules import personal_capacity, check_can_sign, resolve_level, build_spec  # noqa: F401
from .services import find_idempotent, sign_document, preview_sign, prepare_external, complete_external, expire_sessions, abandon_session  # noqa: F401
