"""Cookie sessions and CSRF protection for the server-rendered pages.

The session cookie holds a signed token (JWT, audience ``ioffice-web``) bound to the user's
``token_version``: a password or role change, deactivation or logout (which bumps the version)
revokes every page session and bearer token of that user. The cookie is HttpOnly, SameSite=Lax and
Secure when the request or the configured base URL is HTTPS.

CSRF: every form carries ``csrf_token``. Signed in, it is an HMAC of the session id (a
synchroniser token that needs no storage); before login it is a random value that must match the
``ioffice_csrf`` cookie (double submit). Every page POST checks it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Form, Request
from starlette.responses import Response

from ioffice.accounts.models import User
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import DomainError

from ..deps import ContainerDep, SessionDep

SESSION_COOKIE = "ioffice_session"
CSRF_COOKIE = "ioffice_csrf"
AUDIENCE = "ioffice-web"


@dataclass(frozen=True)
class Viewer:
    """Who is signed in, detached from the database session (error pages render after it closed)."""

    id: str
    full_name: str
    roles: tuple[str, ...]
    unit_id: str | None

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


class LoginRequired(Exception):
    """No valid page session: the handler redirects to /login."""


class CsrfFailed(DomainError):
    code = "csrf"
    status = 403
    title = "Phiên làm việc không hợp lệ"


def _secure(request: Request) -> bool:
    settings = request.app.state.container.settings
    return request.url.scheme == "https" or str(settings.base_url).startswith("https://")


def issue_session(response: Response, request: Request, user: User) -> None:
    settings = request.app.state.container.settings
    now = utcnow()
    ttl = settings.token_ttl_minutes
    claims = {"sub": user.id, "org": user.org_id, "ver": user.token_version, "sid": secrets.token_urlsafe(16),
              "iat": now, "exp": now + timedelta(minutes=ttl), "aud": AUDIENCE}
    token = jwt.encode(claims, settings.secret, algorithm="HS256")
    response.set_cookie(SESSION_COOKIE, token, max_age=ttl * 60, httponly=True, samesite="lax",
                        secure=_secure(request), path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def _claims(request: Request) -> dict | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return jwt.decode(token, request.app.state.container.settings.secret, algorithms=["HS256"],
                          audience=AUDIENCE, options={"require": ["sub", "exp", "org", "ver", "sid"]})
    except jwt.PyJWTError:
        return None


def optional_user(request: Request, db: SessionDep) -> User | None:
    claims = _claims(request)
    if claims is None:
        return None
    user = db.get(User, claims["sub"])
    if user is None or not user.is_active or user.token_version != claims["ver"] or user.org_id != claims["org"]:
        return None
    request.state.user = user
    request.state.viewer = Viewer(id=user.id, full_name=user.full_name, roles=tuple(user.roles or ()),
                                  unit_id=user.unit_id)
    request.state.sid = claims["sid"]
    return user


async def page_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise LoginRequired()
    return user


PageUser = Annotated[User, Depends(page_user)]


def csrf_token(request: Request) -> str:
    """The token to put in this request's forms (sets the pre-login cookie when needed)."""
    sid = getattr(request.state, "sid", None)
    if sid:
        secret = request.app.state.container.settings.secret
        return hmac.new(secret, f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(24)
        request.state.new_csrf = token
    return token


def attach_csrf_cookie(request: Request, response: Response) -> None:
    token = getattr(request.state, "new_csrf", None)
    if token:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/")


def check_csrf(request: Request, container: ContainerDep,
               _user: Annotated[User | None, Depends(optional_user)],
               csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "") -> None:
    """Dependency of every page POST."""
    sid = getattr(request.state, "sid", None)
    if sid:
        expected = hmac.new(container.settings.secret, f"csrf:{sid}".encode(), hashlib.sha256).hexdigest()
    else:
        expected = request.cookies.get(CSRF_COOKIE) or ""
    if not expected or not hmac.compare_digest(expected, csrf_token_field or ""):
        raise CsrfFailed("Biểu mẫu đã hết hạn hoặc không hợp lệ. Vui lòng tải lại trang và thử lại.")


Csrf = Depends(check_csrf)
