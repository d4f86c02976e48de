"""Organisations, units, users, roles, password hashing and login throttling."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ioffice.accounts.models import ROLES, LoginAttempt, Organisation, Unit, User
from ioffice.audit import services as audit
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import get_scoped, utcnow
from ioffice.kernel.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)

_hasher = PasswordHasher()
# A hash of a random password, verified when the user does not exist so timing does not leak it.
_DUMMY_HASH = _hasher.hash("ioffice-dummy-password")

MAX_FAILURES = 5  # per (account, address) before delays start
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ADDR = 100  # credential-stuffing brake for one address across many accounts
MAX_DELAY = timedelta(minutes=15)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def _retry_after(failures: int, last: datetime, now: datetime) -> int:
    """Progressive delay: after MAX_FAILURES failures 60 s, doubling per further failure, at most 15 min;
    0 when the caller may try again."""
    if failures < MAX_FAILURES:
        return 0
    delay = min(timedelta(seconds=60 * 2 ** min(failures - MAX_FAILURES, 10)), MAX_DELAY)
    return max(0, int((last + delay - now).total_seconds()) + 1)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise InvalidInput("Mật khẩu phải có ít nhất 8 ký tự.")
    return _hasher.hash(password)


def authenticate(session: Session, *, username: str, password: str, client_addr: str | None) -> User:
    """Check credentials with throttling; every attempt is recorded and audited.

    Throttling is per (account, address): after MAX_FAILURES failures the next attempt waits
    60 s, doubling with each further failure (at most 15 min); a success from that address
    resets it. Failures from one address never lock the account for other addresses. The
    account row is locked while counting (FOR UPDATE), so parallel guesses are counted one by one.
    Raises TooManyRequests or AuthenticationFailed (same message for a wrong username or password).
    """
    now = utcnow()
    since = now - FAILURE_WINDOW
    user = session.scalar(select(User).where(User.username == username).with_for_update())
    last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == username, LoginAttempt.client_addr.is_(client_addr) if client_addr is None
        else LoginAttempt.client_addr == client_addr, LoginAttempt.success.is_(True)))
    start = max(since, last_ok) if last_ok else since
    pair = session.execute(select(func.count(), func.max(LoginAttempt.at)).where(
        LoginAttempt.username == username,
        LoginAttempt.client_addr.is_(None) if client_addr is None else LoginAttempt.client_addr == client_addr,
        LoginAttempt.success.is_(False), LoginAttempt.at > start)).one()
    wait = _retry_after(pair[0], pair[1], now) if pair[1] else 0
    if not wait and client_addr:
        addr_failures = session.scalar(
            select(func.count()).select_from(LoginAttempt).where(
                LoginAttempt.client_addr == client_addr, LoginAttempt.success.is_(False), LoginAttempt.at >= since))
        if (addr_failures or 0) >= MAX_FAILURES_PER_ADDR:
            wait = int(FAILURE_WINDOW.total_seconds())
    if wait:
        raise TooManyRequests(
            f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {max(1, (wait + 59) // 60)} phút.", retry_after=wait)
    verified = False
    try:  # verified against a dummy hash for an unknown name: the same time either way
        verified = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        verified = False
    ok = verified and user is not None and user.is_active
    session.add(LoginAttempt(username=username[:64], client_addr=client_addr, success=ok, at=now))
    if user is None or not ok:
        audit.record(
            session,
            caller=Caller(username=username[:64], client_addr=client_addr, org_id=user.org_id if user else None),
            action="auth.login_failed",
            object_type="user",
            object_id=user.id if user else None,
        )
        raise AuthenticationFailed("Tên đăng nhập hoặc mật khẩu không đúng.")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    audit.record(
        session,
        caller=Caller(user_id=user.id, username=user.username, org_id=user.org_id, client_addr=client_addr),
        action="auth.login",
        object_type="user",
        object_id=user.id,
    )
    return user


def create_organisation(
    session: Session, *, caller: Caller, name: str, abbreviation: str, organ_code: str | None = None,
    parent_name: str | None = None, place: str | None = None,
) -> Organisation:
    org = Organisation(
        name=name, abbreviation=abbreviation, organ_code=organ_code, parent_name=parent_name, place=place
    )
    session.add(org)
    session.flush()
    audit.record(session, caller=caller, org_id=org.id, action="org.create", object_type="organisation",
                 object_id=org.id, details={"name": name})
    return org


def create_unit(session: Session, *, caller: Caller, org_id: str, name: str, abbreviation: str) -> Unit:
    unit = Unit(org_id=org_id, name=name, abbreviation=abbreviation)
    session.add(unit)
    session.flush()
    audit.record(session, caller=caller, org_id=org_id, action="unit.create", object_type="unit", object_id=unit.id,
                 details={"name": name, "abbreviation": abbreviation})
    return unit


def _check_roles(roles: list[str]) -> list[str]:
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise InvalidInput(f"Vai trò không hợp lệ: {', '.join(bad) or '(trống)'}. Các vai trò: {', '.join(ROLES)}.")
    return list(dict.fromkeys(roles))


def create_user(
    session: Session, *, caller: Caller, org_id: str, username: str, full_name: str, password: str,
    roles: list[str], unit_id: str | None = None, position: str | None = None, email: str | None = None,
) -> User:
    """Create a user in ``org_id``. Raises InvalidInput, Conflict (username taken)."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise InvalidInput("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang (2–64 ký tự).")
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"Tên đăng nhập «{username}» đã tồn tại.")
    if unit_id is not None:
        get_scoped(session, Unit, unit_id, org_id, not_found="Không tìm thấy đơn vị.")  # the agency's own unit
    user = User(
        org_id=org_id, username=username, full_name=full_name, password_hash=hash_password(password),
        roles=_check_roles(roles), unit_id=unit_id, position=position, email=email,
    )
    session.add(user)
    session.flush()
    audit.record(session, caller=caller, org_id=org_id, action="user.create", object_type="user", object_id=user.id,
                 details={"username": username, "roles": user.roles})
    return user


def get_user(session: Session, *, org_id: str, user_id: str) -> User:
    user = get_scoped(session, User, user_id, org_id, not_found="Không tìm thấy người dùng.")
    return user


def set_roles(session: Session, *, caller: Caller, org_id: str, user_id: str, roles: list[str]) -> User:
    user = get_user(session, org_id=org_id, user_id=user_id)
    if user.id == caller.user_id and "admin" not in roles:
        raise PermissionDenied("Không thể tự gỡ vai trò quản trị của chính mình.")
    old = list(user.roles)
    user.roles = _check_roles(roles)
    user.token_version += 1
    audit.record(session, caller=caller, org_id=org_id, action="user.roles", object_type="user", object_id=user.id,
                 details={"old": old, "new": user.roles})
    return user


def set_password(session: Session, *, caller: Caller, org_id: str, user_id: str, password: str) -> User:
    user = get_user(session, org_id=org_id, user_id=user_id)
    user.password_hash = hash_password(password)
    user.token_version += 1
    audit.record(session, caller=caller, org_id=org_id, action="user.password", object_type="user", object_id=user.id)
    return user


def update_profile(session: Session, *, caller: Caller, org_id: str, user_id: str, full_name: str | None = None,
                   position: str | None = None, unit_id: str | None = None, email: str | None = None) -> User:
    """Change a user's full name, position (chức vụ), unit or e-mail. Raises NotFound, InvalidInput."""
    user = get_user(session, org_id=org_id, user_id=user_id)
    changed: dict[str, str | None] = {}
    if full_name is not None:
        if not full_name.strip():
            raise InvalidInput("Họ và tên không được để trống.")
        user.full_name = changed["full_name"] = full_name.strip()
    if position is not None:
        user.position = changed["position"] = position.strip() or None
    if unit_id is not None:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.org_id != org_id:
            raise NotFound("Không tìm thấy đơn vị.")
        user.unit_id = changed["unit_id"] = unit.id
    if email is not None:
        user.email = changed["email"] = email.strip() or None
    if changed:
        audit.record(session, caller=caller, org_id=org_id, action="user.update", object_type="user",
                     object_id=user.id, details=changed)
    return user


def set_active(session: Session, *, caller: Caller, org_id: str, user_id: str, active: bool) -> User:
    user = get_user(session, org_id=org_id, user_id=user_id)
    user.is_active = active
    user.token_version += 1
    audit.record(session, caller=caller, org_id=org_id, action="user.activate" if active else "user.deactivate",
                 object_type="user", object_id=user.id)
    return user
