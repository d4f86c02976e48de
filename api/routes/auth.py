"""Login (OAuth2 password form) and the caller's own profile."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from ioffice import accounts

from ..deps import ContainerDep, CurrentUser, SessionDep, client_addr, problem_responses
from ..schemas import MeOut, OrganisationOut, TokenOut
from ..security import issue_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, responses=problem_responses(401, 422, 429))
def login(request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], db: SessionDep,
          container: ContainerDep) -> TokenOut:
    """Exchange a username and password for a bearer token (throttled after repeated failures)."""
    try:
        user = accounts.authenticate(db, username=form.username.strip().lower(), password=form.password,
                                     client_addr=client_addr(request))
    except Exception:
        db.commit()  # keep the failed attempt and its audit event
        raise
    token, ttl = issue_token(
        user, secret=container.settings.token_key, ttl_minutes=container.settings.token_ttl_minutes
    )
    return TokenOut(access_token=token, expires_in=ttl)


@router.get("/me", response_model=MeOut, responses=problem_responses(401))
def me(user: CurrentUser, db: SessionDep) -> MeOut:
    from ioffice import signing_methods

    out = MeOut.model_validate(user)
    out.organisation = OrganisationOut.model_validate(user.organisation)
    out.signing_method = signing_methods.effective_method(db, user)
    return out
