"""Administration of the caller's organisation: units and users, roles (admin only)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel
from sqlalchemy import select

from ioffice import accounts, agency
from ioffice.accounts.models import Organisation, Unit, User

from ..deps import CallerDep, ContainerDep, SessionDep, StoreDep, problem_responses, require_roles
from ..keystore import give_dev_certificate
from ..schemas import UnitOut, UserCreate, UserOut, UserUpdate

router = APIRouter(prefix="/api/v1", tags=["admin"])
ADMIN = require_roles("admin")


@router.get("/units", response_model=list[UnitOut], responses=problem_responses(401))
def list_units(db: SessionDep, caller: CallerDep) -> list[UnitOut]:
    """Units of the caller's organisation (any signed-in user)."""
    rows = db.scalars(select(Unit).where(Unit.org_id == caller.person.org_id).order_by(Unit.name))
    return [UnitOut.model_validate(u) for u in rows]


@router.get("/users", response_model=list[UserOut], responses=problem_responses(401))
def list_users(db: SessionDep, caller: CallerDep) -> list[UserOut]:
    """Users of the caller's organisation (for choosing handlers and signers)."""
    rows = db.scalars(select(User).where(User.org_id == caller.person.org_id).order_by(User.username))
    return [UserOut.model_validate(u) for u in rows]


@router.post("/users", status_code=201, response_model=UserOut, responses=problem_responses(401, 403, 409, 422),
             dependencies=[ADMIN])
def create_user(body: UserCreate, db: SessionDep, caller: CallerDep, container: ContainerDep) -> UserOut:
    """Create an official. On the development PKI a signer (leader, unit head, certifier, clerk) gets
    a personal certificate and can sign at once; otherwise give them a key with
    ``PUT /users/{id}/signing-key`` or a certificate with ``PUT /users/{id}/certificate``."""
    user = accounts.create_user(db, caller=caller, org_id=caller.person.org_id, username=body.username,
                                full_name=body.full_name, password=body.password, roles=body.roles,
                                unit_id=body.unit_id, position=body.position, email=body.email)
    give_dev_certificate(container, user)
    return UserOut.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserOut, responses=problem_responses(401, 403, 404, 422),
              dependencies=[ADMIN])
def update_user(user_id: str, body: UserUpdate, db: SessionDep, caller: CallerDep, container: ContainerDep
                ) -> UserOut:
    """Change an official's full name, position, unit, e-mail, roles, password or activity."""
    user = accounts.get_user(db, org_id=caller.person.org_id, user_id=user_id)
    if any(v is not None for v in (body.full_name, body.position, body.unit_id, body.email)):
        user = accounts.update_profile(db, caller=caller, org_id=caller.person.org_id, user_id=user_id,
                                       full_name=body.full_name, position=body.position, unit_id=body.unit_id,
                                       email=body.email)
    if body.roles is not None:
        user = accounts.set_roles(db, caller=caller, org_id=caller.person.org_id, user_id=user_id, roles=body.roles)
        give_dev_certificate(container, user)
    if body.password is not None:
        user = accounts.set_password(
            db, caller=caller, org_id=caller.person.org_id, user_id=user_id, password=body.password
        )
    if body.is_active is not None:
        user = accounts.set_active(
            db, caller=caller, org_id=caller.person.org_id, user_id=user_id, active=body.is_active
        )
    return UserOut.model_validate(user)


class OrganisationSettingsOut(BaseModel):
    id: str
    name: str
    settings: dict[str, Any]


@router.get("/organisation", response_model=OrganisationSettingsOut, responses=problem_responses(401))
def get_organisation(db: SessionDep, caller: CallerDep) -> OrganisationSettingsOut:
    """The caller's agency and its settings (numbering series, signature layout and level)."""
    org = db.get_one(Organisation, caller.person.org_id)
    return OrganisationSettingsOut(id=org.id, name=org.name, settings=dict(org.settings or {}))


@router.patch("/organisation/settings", response_model=OrganisationSettingsOut,
              responses=problem_responses(401, 403, 422), dependencies=[ADMIN])
def update_organisation_settings(body: agency.AgencySettings, db: SessionDep, caller: CallerDep
                                 ) -> OrganisationSettingsOut:
    """Change some settings; a key sent as null is removed (back to the default)."""
    org = db.get_one(Organisation, caller.person.org_id)
    settings = agency.update_settings(db, caller=caller, org=org, changes=body)
    return OrganisationSettingsOut(id=org.id, name=org.name, settings=settings)


@router.put("/organisation/seal-image", response_model=OrganisationSettingsOut,
            responses=problem_responses(401, 403, 422, 503), dependencies=[ADMIN])
def put_seal_image(file: Annotated[UploadFile, File(description="the red seal, transparent PNG")], db: SessionDep,
                   store: StoreDep, caller: CallerDep) -> OrganisationSettingsOut:
    org = db.get_one(Organisation, caller.person.org_id)
    agency.set_seal_image(db, store, caller=caller, org=org, png=file.file.read(agency.MAX_IMAGE_BYTES + 1))
    return OrganisationSettingsOut(id=org.id, name=org.name, settings=dict(org.settings or {}))


@router.put("/users/{user_id}/signature-image", response_model=UserOut,
            responses=problem_responses(401, 403, 404, 422, 503))
def put_signature_image(user_id: str, file: Annotated[UploadFile, File(description="blue signature, transparent PNG")],
                        db: SessionDep, store: StoreDep, caller: CallerDep) -> UserOut:
    """An official's handwritten signature image (by the official or the administrator)."""
    user = accounts.get_user(db, org_id=caller.person.org_id, user_id=user_id)
    agency.set_signature_image(db, store, caller=caller, user=user,
                               png=file.file.read(agency.MAX_IMAGE_BYTES + 1))
    return UserOut.model_validate(user)
