"""Request dependencies: the database session owns the transaction (commit on success, rollback on
error, before the response is sent), the current user, role checks, and the caller handed to the core."""
from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from ioffice.kernel.errors import AuthenticationFailed, PermissionDenied
from ioffice.accounts.models import User
from ioffice.kernel.caller import Caller
from ioffice.kernel.ports import BlobStore

from .container import Container
from .security import decode_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_container(request: Request) -> Container:
    return request.app.state.container


ContainerDep = Annotated[Container, Depends(get_container)]


def get_db(container: ContainerDep) -> Iterator[Session]:
    session = container.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def get_store(container: ContainerDep) -> BlobStore:
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


def get_caller(request: Request, user: CurrentUser) -> Caller:
    """The signed-in user as the core's one caller type (identity for audit + the user row)."""
    return Caller.of(user, client_addr=client_addr(request))


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: str):
    """Dependency factory: the current user must hold one of ``roles`` (403 otherwise)."""

    def _check(user: CurrentUser) -> User:
        if not user.has_role(*roles):
            raise PermissionDenied("Vai trò của bạn không được phép thực hiện thao tác này.")
        return user

    return Depends(_check)


def problem_responses(*codes: int) -> dict:
    """OpenAPI ``responses`` entries for the problem+json errors a route can return."""
    from .schemas import Problem

    return {c: {"model": Problem, "content": {"application/problem+json": {}}} for c in codes}
