"""Delegation of signing capacity: a leader lets a deputy approve and sign in their stead for a
period (``KT.`` a deputy for the head, ``TUQ.`` by authorisation). The prefix is recorded on the
delegation and copied to the document's ``signer_competence`` when the delegate approves."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import User
from ioffice.audit import services as audit
from ioffice.delegation.models import Delegation
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import get_scoped, utcnow
from ioffice.kernel.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from ioffice.kernel.vocab import DELEGATION_PREFIXES

DELEGATION_COMPETENCE = DELEGATION_PREFIXES


def _today() -> date:
    from ioffice.kernel.workcalendar import vn_today

    return vn_today()


def create_delegation(
    session: Session, *, caller: Caller, delegator: User, delegate_id: str, competence: str, start_date: date,
    end_date: date, note: str = "",
) -> Delegation:
    """Record that ``delegator`` (a leader) hands signing capacity to ``delegate_id`` for the period.

    Raises InvalidInput (bad prefix, period, self-delegation), NotFound (delegate of another agency),
    PermissionDenied (the delegator is not a leader).
    """
    comp = competence.upper().rstrip(".") + "."
    if comp not in DELEGATION_COMPETENCE:
        raise InvalidInput("Thẩm quyền ký khi ủy quyền phải là «KT.» hoặc «TUQ.».")
    if end_date < start_date:
        raise InvalidInput("Ngày kết thúc ủy quyền phải sau hoặc trùng ngày bắt đầu.")
    if not delegator.has_role("leader"):
        raise PermissionDenied("Chỉ lãnh đạo mới có thể ủy quyền ký.")
    delegate = session.get(User, delegate_id)
    if delegate is None or delegate.org_id != delegator.org_id or not delegate.is_active:
        raise NotFound("Không tìm thấy người được ủy quyền trong cơ quan.")
    if delegate.id == delegator.id:
        raise InvalidInput("Không thể tự ủy quyền cho chính mình.")
    d = Delegation(org_id=delegator.org_id, delegator_id=delegator.id, delegate_id=delegate.id, competence=comp,
                   start_date=start_date, end_date=end_date, note=note, created_by=caller.user_id)
    session.add(d)
    session.flush()
    audit.record(session, caller=caller, org_id=delegator.org_id, action="delegation.create", object_type="delegation",
                 object_id=d.id, details={"delegator": delegator.id, "delegate": delegate.id, "competence": comp,
                                          "start": start_date.isoformat(), "end": end_date.isoformat()})
    return d


def get_delegation(session: Session, *, org_id: str, delegation_id: str) -> Delegation:
    d = get_scoped(session, Delegation, delegation_id, org_id, not_found="Không tìm thấy ủy quyền.")
    return d


def revoke_delegation(session: Session, *, caller: Caller, delegation_id: str) -> Delegation:
    """End a delegation now (the delegator or an admin). Raises NotFound, PermissionDenied, Conflict."""
    user = caller.person
    d = get_delegation(session, org_id=user.org_id, delegation_id=delegation_id)
    if d.delegator_id != user.id and not user.has_role("admin"):
        raise PermissionDenied("Chỉ người ủy quyền hoặc quản trị mới thu hồi được ủy quyền.")
    if d.revoked_at is not None:
        raise Conflict("Ủy quyền đã được thu hồi trước đó.")
    d.revoked_at = utcnow()
    session.flush()
    audit.record(session, caller=caller, org_id=d.org_id, action="delegation.revoke", object_type="delegation",
                 object_id=d.id, details={"delegator": d.delegator_id, "delegate": d.delegate_id})
    return d


def list_delegations(session: Session, *, org_id: str, user_id: str | None = None) -> list[Delegation]:
    """Delegations of the organisation (or those given or received by ``user_id``), newest first."""
    q = select(Delegation).where(Delegation.org_id == org_id)
    if user_id:
        q = q.where((Delegation.delegator_id == user_id) | (Delegation.delegate_id == user_id))
    return list(session.scalars(q.order_by(Delegation.created_at.desc())))


def active_delegation(session: Session, *, delegator_id: str, delegate_id: str, on: date | None = None
                      ) -> Delegation | None:
    """The delegation letting ``delegate_id`` act for ``delegator_id`` on ``on`` (default: today in
    Vietnam), or None."""
    day = on or _today()
    q = select(Delegation).where(Delegation.delegator_id == delegator_id, Delegation.delegate_id == delegate_id,
                                 Delegation.revoked_at.is_(None), Delegation.start_date <= day,
                                 Delegation.end_date >= day).order_by(Delegation.created_at.desc())
    return session.scalars(q).first()


def principals_of(session: Session, *, delegate_id: str, on: date | None = None) -> list[Delegation]:
    """Active delegations received by ``delegate_id`` on ``on``."""
    day = on or _today()
    q = select(Delegation).where(Delegation.delegate_id == delegate_id, Delegation.revoked_at.is_(None),
                                 Delegation.start_date <= day, Delegation.end_date >= day)
    return list(session.scalars(q))
