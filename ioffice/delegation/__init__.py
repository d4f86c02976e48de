"""Delegations: who may act (review, sign) for whom, and with which authority."""
from .models import Delegation  # noqa: F401
from .services import (  # noqa: F401
    DELEGATION_COMPETENCE,
    active_delegation,
    create_delegation,
    get_delegation,
    list_delegations,
    principals_of,
    revoke_delegation,
)
