"""Login and logout for the pages (cookie session), and the home page: my tasks and notifications."""
from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request

from ioffice import accounts, audit, notify, tasks
from ioffice.accounts.models import User
from ioffice.kernel.caller import Caller
from ioffice.kernel.errors import DomainError

from ..deps import SessionDep, client_addr
from .common import redirect, render
from .session import Csrf, PageUser, clear_session, issue_session, optional_user

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, _viewer: Annotated[User | None, Depends(optional_user)], next: str | None = None):
    # (the viewer is resolved so that a signed-in visitor gets the session-bound CSRF token)
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login", dependencies=[Csrf])
def login(request: Request, db: SessionDep, username: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=256)] = "", next: Annotated[str, Form()] = "/"):
    try:
        user = accounts.authenticate(db, username=username.strip().lower(), password=password,
                                     client_addr=client_addr(request))
    except DomainError as exc:
        db.commit()  # keep the failed attempt and its audit event
        return render(request, "login.html", {"error": exc.detail, "username": username, "next": _safe_next(next)},
                      status_code=exc.status)
    response = redirect(_safe_next(next))
    issue_session(response, request, user)
    return response


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, db: SessionDep, user: PageUser):
    """Ends every session of the user: the token version moves on, so the cookie (and any copy of
    it) no longer opens anything."""
    user.token_version += 1
    audit.record(db, caller=Caller.of(user, client_addr=client_addr(request)),
                 action="auth.logout", object_type="user", object_id=user.id, details={})
    response = redirect("/login")
    clear_session(response)
    return response


@router.get("/")
def home(request: Request, db: SessionDep, user: PageUser):
    items = tasks.my_tasks(db, user=user)
    counts = Counter(t.label for t in items)
    notes, total, unread = notify.list_notifications(db, user=user, limit=10, offset=0)
    return render(request, "home.html", {
        "tasks": items, "overdue": sum(1 for t in items if t.overdue), "counts": sorted(counts.items()),
        "notifications": notes, "unread": unread})


@router.post("/notifications/read-all", dependencies=[Csrf])
def read_all(db: SessionDep, user: PageUser):
    notify.mark_all_read(db, user=user)
    return redirect("/")
