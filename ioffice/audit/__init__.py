"""The append-only, hash-chained audit trail."""
from .models import AuditEvent, AuditHead  # noqa: F401
from .services import GENESIS, SYSTEM_CHAIN, ChainProblem, event_hash, record, verify_chains  # noqa: F401
