"""Delegations: who may act (review, sign) for whom, and with which authority."""
from .models import Delegation  # noqa: F401
from .services import DELEGATION_COMPETENCE, create_delegation, get_delegation, revoke_delegation, list_delegations, active_delegation, principals_of  # noqa: F401
