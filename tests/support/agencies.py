"""Helpers shared by the register tests: direct database sessions on the test installation."""
from __future__ import annotations

from sqlalchemy import select

from ioffice.accounts.models import Organisation, Unit
from ioffice.accounts.services import create_organisation, create_unit, create_user
from ioffice.documents.models import Document
from ioffice.kernel.caller import Caller

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


class IncrementalSigningPort:
    """A small PdfSigningPort for tests about registers, not cryptography: it adds an incremental
    update naming the signer (the real pyHanko adapter is exercised by tests/signing_api)."""

    def sign(self, source, spec, output) -> None:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(source))
        writer.add_metadata({"/Author": spec.full_name})
        writer.write(output)


def approve(env, document_id: str, *, sign: bool = True) -> None:
    """Drive a draft through a one-stage review approved by the chairman (``chutich``), as the
    review route would (another agency: its first leader), and — with ``sign`` — through his personal signature, as the signing route
    would, so that the clerk may issue it."""
    from ioffice import review, signatures
    from ioffice.accounts.models import User
    from ioffice.review.templates import StageSpec

    with db_session(env) as s:
        doc = s.get(Document, document_id)
        drafter = s.get(User, doc.created_by)
        leader = s.scalars(select(User).where(User.org_id == doc.org_id, User.username == "chutich")).first() \
            or next(u for u in s.scalars(select(User).where(User.org_id == doc.org_id).order_by(User.username))
                    if u.has_role("leader"))
        review.submit(s, caller=Caller.of(drafter), document_id=document_id,
                      stages=[StageSpec(name="Chủ tịch phê duyệt", reviewer_ids=[leader.id])])
        review.decide(s, caller=Caller.of(leader), document_id=document_id, decision="approve", comment="Đồng ý")
        assert doc.status == "approved"
        leader_id = leader.id
    if sign:
        from storage import open_blob_store

        store = open_blob_store(env.settings().blob_url)
        with db_session(env) as s:
            leader = s.get(User, leader_id)
            if not leader.signing_key:
                leader.signing_key = "test:chutich"
            signatures.sign_document(s, store, IncrementalSigningPort(), caller=Caller.of(leader),
                                     document_id=document_id, kind="personal")


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
        create_user(s, caller=system, org_id=org.id, username=f"lanhdao_{clerk}", full_name="Lê Văn Khánh",
                    password=DEMO_PASSWORD, roles=["leader"], unit_id=unit.id, position="Chủ tịch")
        org_id = org.id
    return org_id, login(client, clerk)
