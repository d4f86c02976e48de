"""Helpers shared by the register tests: direct database sessions on the test installation."""
from __future__ import annotations

from sqlalchemy import select

from ioffice.documents import lifecycle
from ioffice.accounts.services import create_organisation, create_unit, create_user
from ioffice.kernel.caller import Caller
from ioffice.accounts.models import Organisation, Unit
from ioffice.documents.models import Document

from ..conftest import DEMO_PASSWORD, db_session, login




def demo_org(session) -> Organisation:
    return session.scalars(select(Organisation).where(Organisation.abbreviation == "UBND")
                           .order_by(Organisation.created_at)).first()


def unit_id(env, abbreviation: str) -> str:
    with db_session(env) as s:
        org = demo_org(s)
        return s.scalar(select(Unit.id).where(Unit.org_id == org.id, Unit.abbreviation == abbreviation))


def set_org_settings(env, settings: dict) -> None:
    with db_session(env) as s:
        org = demo_org(s)
        org.settings = dict(settings)


def approve(env, document_id: str) -> None:
    """Shortcut until the workflow routes exist in these tests: drive a draft to ``approved``
    through the transition table (submit → approve), as the review route would."""
    with db_session(env) as s:
        doc = s.get(Document, document_id)
        lifecycle.transition(doc, "submit")
        lifecycle.transition(doc, "approve")


def second_agency(env, client, *, name: str = "UBND xã Khánh Hòa", code: str = "000.00.31.H41",
                  clerk: str = "vanthu_xa") -> tuple[str, dict[str, str]]:
    """Create another agency with a clerk on the same installation → (org id, clerk auth headers)."""
    system = Caller(username="test")
    with db_session(env) as s:
        org = create_organisation(s, caller=system, name=name, abbreviation="UBND", organ_code=code,
                                  place="Khánh Hòa")
        unit = create_unit(s, caller=system, org_id=org.id, name="Văn phòng", abbreviation="VP")
        create_user(s, caller=system, org_id=org.id, username=clerk, full_name="Trần Thị Văn Thư",
                    password=DEMO_PASSWORD, roles=["clerk"], unit_id=unit.id)
        org_id = org.id
    return org_id, login(client, clerk)
