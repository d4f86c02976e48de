"""The append-only, hash-chained audit trail."""
from .models import AuditHead, AuditEvent  # noqa: F401
from .services import GENESIS, SYSTEM_CHAIN, event_hash, record, ChainProblem, verify_chains  # noqa: F401
