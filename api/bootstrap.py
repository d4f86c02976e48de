"""`ioffice init`: create or migrate the database, create the development PKI when no keys are
configured, and optionally the demo agency and users. Idempotent."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from ioffice import accounts
from ioffice.accounts.models import Organisation, Unit, User
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import make_engine, make_session_factory
from ioffice.migrate import upgrade

from .settings import Settings

if TYPE_CHECKING:
    from certs.devpki import DevPki

DEMO_ORG = {
    "name": "UBND huyện Yên Khánh",
    "abbreviation": "UBND",
    "organ_code": "000.00.31.H40",
    "parent_name": "UBND tỉnh Ninh Bình",
    "place": "Yên Khánh",
}
DEMO_UNITS = [("Văn phòng", "VP"), ("Phòng Tư pháp", "TP"), ("Phòng Tài nguyên và Môi trường", "TNMT")]
# username, full name, roles, unit abbreviation, position
DEMO_USERS = [
    ("vanthu", "Nguyễn Thị Hoa", ["clerk"], "VP", "Văn thư"),
    ("chuyenvien", "Trần Văn Bình", ["specialist"], "TP", "Chuyên viên"),
    ("truongphong", "Lê Thị Thu Hà", ["unit_head"], "TP", "Trưởng phòng"),
    ("chutich", "Phạm Văn Đức", ["leader"], None, "Chủ tịch"),
    ("chungthuc", "Đỗ Thị Ánh", ["certifier"], "TP", "Công chức Tư pháp - Hộ tịch"),
    ("admin", "Quản trị hệ thống", ["admin"], "VP", "Quản trị"),
]
DEMO_SIGNERS = ("chutich", "truongphong", "chungthuc")


@dataclass
class InitResult:
    database_url: str
    created_demo: bool = False
    demo_password: str | None = None
    demo_users: list[str] = field(default_factory=list)
    pki_dir: Path | None = None


def _demo_password(settings: Settings) -> str:
    if settings.demo_password:
        return settings.demo_password
    path = settings.resolved_data_dir / "demo-password.txt"
    if path.exists():
        return path.read_text().strip()
    pw = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pw)
    return pw


def ensure_pki(settings: Settings, signers: list[tuple[str, str]], agency_name: str) -> DevPki | None:
    """The development PKI (created on first use); None when production keys are configured."""
    if settings.trust_roots and not settings.pki_dir.exists():
        return None
    from certs.devpki import ensure_dev_pki

    return ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name=agency_name,
                          signers=signers, base_url=settings.base_url.rstrip("/") + "/dev-pki")


def init(settings: Settings, *, demo: bool = False, dev_pki: bool = True) -> InitResult:
    """Create or migrate the database; with ``demo`` add the demo agency; with ``dev_pki`` (the default)
    create the development PKI/TSA when no production trust roots are set. ``dev_pki=False`` is the
    production path: no development keys, TSA or demo password are ever generated."""
    from .hardening import secure_data_dir

    secure_data_dir(settings)
    engine = make_engine(settings.db_url)
    try:
        upgrade(engine)
        result = InitResult(database_url=engine.url.render_as_string(hide_password=True))
        sessions = make_session_factory(engine)
        system = Caller(username="system")
        with sessions() as s, s.begin():
            org = s.scalar(select(Organisation).where(Organisation.organ_code == DEMO_ORG["organ_code"]))
            if demo:
                password = _demo_password(settings)
                result.demo_password = password
                if org is None:
                    org = accounts.create_organisation(s, caller=system, **DEMO_ORG)
                    result.created_demo = True
                units = {u.abbreviation: u for u in s.scalars(select(Unit).where(Unit.org_id == org.id))}
                for name, abbr in DEMO_UNITS:
                    if abbr not in units:
                        units[abbr] = accounts.create_unit(
                            s, caller=system, org_id=org.id, name=name, abbreviation=abbr
                        )
                for username, full_name, roles, unit, position in DEMO_USERS:
                    result.demo_users.append(username)
                    if s.scalar(select(User.id).where(User.username == username)) is None:
                        accounts.create_user(s, caller=system, org_id=org.id, username=username, full_name=full_name,
                                             password=password, roles=roles, unit_id=units[unit].id if unit else None,
                                             position=position)
                from .demo_routes import seed_demo_routes

                seed_demo_routes(s, caller=system, org_id=org.id)
            signers = [(u.username, u.full_name) for u in s.scalars(select(User)) if
                       u.has_role("leader", "unit_head", "certifier", "clerk")]
            agency = org.name if org is not None else "ioffice"
        pki = ensure_pki(settings, signers, agency) if dev_pki else None
        if pki is not None:
            result.pki_dir = settings.pki_dir
            with sessions() as s, s.begin():
                for user in s.scalars(select(User)):
                    if user.signing_key is None and user.username in pki.personal_certs:
                        user.signing_key = f"devpki:{user.username}"  # resolved against the data dir at use
        return result
    finally:
        engine.dispose()
