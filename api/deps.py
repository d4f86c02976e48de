"""Request dependencies: the database session owns the transaction (commit on success, rollback on
error, before the response is sent), the current user, role checks, and the caller handed to the core.

FastAPI runs a plain ``def`` dependency in the thread pool: each one is a hand-over between the
event loop and a worker thread (and a wait for the GIL under load). The dependencies that do no
I/O are ``async def`` so they run on the loop; the session's end (commit/rollback, I/O) is one
hand-over; only the user lookup and the route itself run in a thread."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ioffice.accounts.models import User
from ioffice.kernel.caller import Caller
from ioffice.kernel.errors import AuthenticationFailed, PermissionDenied
from ioffice.kernel.ports import BlobStore

from .container import Container
from .security import decode_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


_Endpoint = TypeVar("_Endpoint", bound=Callable[..., Any])
# route function -> "read"/"write": the session kind its requests get, when not given by the method
_SESSION_MODE: dict[Callable[..., Any], str] = {}


def writes(endpoint: _Endpoint) -> _Endpoint:
    """Mark a GET route that writes (e.g. an audited download): its request session is a writer."""
    _SESSION_MODE[endpoint] = "write"
    return endpoint


def own_transactions(endpoint: _Endpoint) -> _Endpoint:
    """Mark a route whose service runs its own short write transactions (signing: read, sign with
    no transaction open, guarded write): its request session only reads and never holds the
    SQLite write lock, whatever the method."""
    _SESSION_MODE[endpoint] = "read"
    return endpoint


def _session_for(request: Request, container: Container) -> Session:
    endpoint = request.scope.get("endpoint")
    mode = _SESSION_MODE.get(endpoint) if endpoint is not None else None
    if mode == "read" or (mode is None and request.method in READ_METHODS):
        return container.read_session()
    return container.sessions()


async def get_db(request: Request, container: ContainerDep) -> AsyncIterator[Session]:
    """The request's session: read-only requests (GET/HEAD) begin DEFERRED transactions (on SQLite
    they never take the write lock), the others IMMEDIATE; commits on success, rolls back on error.

    Made on the loop (a session takes its connection on first use, in the route's thread); its end
    runs in the thread pool."""
    session = _session_for(request, container)
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_end_session, session, False)
        raise
    await run_in_threadpool(_end_session, session, True)


def _end_session(session: Session, ok: bool) -> None:
    """Commit (``ok``) or roll back, and close: a failed commit is rolled back."""
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]




async def get_store(container: ContainerDep) -> BlobStore:
    return container.store


StoreDep = Annotated[BlobStore, Depends(get_store)]


def client_addr(request: Request) -> str | None:
    return request.client.host if request.client else None


def get_current_user(request: Request, db: SessionDep, container: ContainerDep,
                     token: Annotated[str | None, Depends(oauth2)]) -> User:
    if not token:
        raise AuthenticationFailed("Cần đăng nhập (thiếu mã truy cập Bearer).")
    claims = decode_token(token, secret=container.settings.token_key)
    user = db.get(User, claims["sub"])
    if user is None or not user.is_active or user.token_version != claims["ver"] or user.org_id != claims["org"]:
        raise AuthenticationFailed("Mã truy cập không còn hiệu lực, vui lòng đăng nhập lại.")
    request.state.user = user
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_caller(request: Request, user: CurrentUser) -> Caller:
    """The signed-in user as the core's one caller type (identity for audit + the user row)."""
    return Caller.of(user, client_addr=client_addr(request))


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: str) -> Any:
    """Dependency factory: the current user must hold one of ``roles`` (403 otherwise)."""

    async def _check(user: CurrentUser) -> User:
        if not user.has_role(*roles):
            raise PermissionDenied("Vai trò của bạn không được phép thực hiện thao tác này.")
        return user

    return Depends(_check)


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem+json errors a route can return."""
    from .schemas import Problem

    return {c: {"model": Problem, "content": {"application/problem+json": {}}} for c in codes}
