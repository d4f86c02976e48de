"""The caller: who does something (a user, or nobody for the system and anonymous callers) and
from where. One value travels from the request into every service and into the audit trail."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ioffice.kernel.errors import AuthenticationFailed

if TYPE_CHECKING:  # pragma: no cover
    from ioffice.accounts.models import User


@dataclass(frozen=True)
class Caller:
    """Identity for audit (``user_id``, ``username``, ``org_id``, ``client_addr``) plus, for a signed-in
    user, the ``User`` row that rules (roles, unit, signing key) are checked against."""

    user_id: str | None = None
    username: str | None = None
    org_id: str | None = None
    client_addr: str | None = None
    user: User | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, user: User, *, client_addr: str | None = None) -> Caller:
        """The caller acting as ``user``."""
        return cls(user_id=user.id, username=user.username, org_id=user.org_id, client_addr=client_addr, user=user)

    @property
    def person(self) -> User:
        """The signed-in user; raises AuthenticationFailed for the system or an anonymous caller."""
        if self.user is None:
            raise AuthenticationFailed("Cần đăng nhập.")
        return self.user


SYSTEM = Caller(username="system")
