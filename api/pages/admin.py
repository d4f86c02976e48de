"""Administration pages (role admin): the users of the organisation — add an official with roles,
unit, position and signing method, change roles, profile and signing method, register a token
certificate, upload the signature image, reset a password, deactivate or reactivate. Role and
password changes move the user's token version on, so their sessions end.

The server-key signing method needs a key the server holds: on an installation running the
development PKI the page issues one (a personal certificate of the development CA); otherwise the
administrator imports the key with ``ioffice key import-user`` first."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from ioffice import accounts, agency, signing_methods
from ioffice.accounts.models import ROLES, Unit, User
from ioffice.kernel.errors import DomainError, InvalidInput, PermissionDenied

from ..deps import ContainerDep, SessionDep, StoreDep
from .common import redirect, render
from .documents import actor_of
from .session import Csrf, PageUser

router = APIRouter(include_in_schema=False)
FLASH = {"created": "Đã thêm người dùng.", "roles": "Đã cập nhật vai trò.", "password": "Đã đặt lại mật khẩu.",
         "active": "Đã cập nhật trạng thái tài khoản.", "profile": "Đã cập nhật thông tin người dùng.",
         "method": "Đã cập nhật phương thức ký số.", "certificate": "Đã đăng ký chứng thư số.",
         "signature": "Đã cập nhật ảnh chữ ký."}
METHOD_NAMES = {"server": "Khóa ký lưu trên máy chủ", "token": "USB token qua phần mềm ký",
                "remote": "Ký số từ xa (xác nhận trên điện thoại)"}
UNSET = "Chưa cấu hình (mặc định: USB token)"
MIN_PASSWORD = 8


def _require_admin(user) -> None:
    if not user.has_role("admin"):
        raise PermissionDenied("Chỉ quản trị hệ thống được quản lý người dùng.")


def _page(request: Request, db, user, *, flash=None, error=None, values=None, status_code=200):
    users = list(db.scalars(select(User).where(User.org_id == user.org_id).order_by(User.full_name)))
    units = list(db.scalars(select(Unit).where(Unit.org_id == user.org_id).order_by(Unit.name)))
    profiles = {u.id: signing_methods.profile_of(db, u) for u in users}
    methods = {u.id: signing_methods.effective_method(db, u) if profiles[u.id] or u.signing_key else "unset"
               for u in users}
    providers = list(request.app.state.container.settings.csc_providers or {})
    return render(request, "admin_users.html", {"users": users, "units": {u.id: u for u in units}, "roles": ROLES,
                                                "flash": flash, "error": error, "values": values or {},
                                                "methods": methods, "profiles": profiles,
                                                "METHOD_NAMES": METHOD_NAMES, "UNSET": UNSET, "providers": providers},
                  status_code=status_code)


def provision_server_key(container, target: User) -> None:
    """Give ``target`` a signing key held by the server: a personal certificate of the development
    PKI when the installation runs it; otherwise the administrator must import a key."""
    if target.signing_key:
        return
    pki = container.devpki
    if pki is None:
        raise InvalidInput("Máy chủ chưa giữ khóa ký của người này: nhập khóa bằng lệnh «ioffice key import-user "
                           f"{target.username} TEP.p12» rồi chọn lại phương thức.")
    from certs.devpki import ensure_dev_pki

    issued = ensure_dev_pki(pki.pki_dir, passphrase=pki.passphrase, agency_name=pki.agency_name,
                            signers=[(target.username, target.full_name)], base_url=pki.base_url)
    pki.personal_certs.update(issued.personal_certs)
    target.signing_key = f"devpki:{target.username}"


def set_method(db, container, actor, target: User, method: str, csc_provider: str = "",
               csc_credential_id: str = "") -> None:
    if method not in METHOD_NAMES:
        raise InvalidInput("Hãy chọn phương thức ký số.")
    if method == "server":
        provision_server_key(container, target)
    signing_methods.set_method(db, caller=actor, user_id=target.id, method=method,
                               csc_provider=csc_provider or None, csc_credential_id=csc_credential_id or None,
                               known_providers=tuple(container.settings.csc_providers or {}))


@router.get("/admin/users")
def users_page(request: Request, db: SessionDep, user: PageUser, msg: str | None = None):
    _require_admin(user)
    return _page(request, db, user, flash=FLASH.get(msg or ""))


@router.post("/admin/users", dependencies=[Csrf])
async def create_user(request: Request, db: SessionDep, user: PageUser, container: ContainerDep):
    _require_admin(user)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("username", "full_name", "position", "unit_id", "email",
                                                        "signing_method")}
    roles = [str(r) for r in form.getlist("roles")]
    try:
        password = str(form.get("password", ""))
        if not values["full_name"]:
            raise InvalidInput("Hãy nhập họ và tên.")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
        if not roles:
            raise InvalidInput("Hãy chọn ít nhất một vai trò.")
        actor = actor_of(request, user)
        created = accounts.create_user(db, caller=actor, org_id=user.org_id, username=values["username"],
                                       full_name=values["full_name"], password=password, roles=roles,
                                       unit_id=values["unit_id"] or None, position=values["position"] or None,
                                       email=values["email"] or None)
        if values["signing_method"]:
            set_method(db, container, actor, created, values["signing_method"])
    except DomainError as exc:
        db.rollback()
        return _page(request, db, user, error=exc.detail, values={**values, "roles": roles}, status_code=exc.status)
    return redirect("/admin/users?msg=created")


@router.post("/admin/users/{user_id}", dependencies=[Csrf])
async def update_user(request: Request, user_id: str, db: SessionDep, user: PageUser, container: ContainerDep,
                      store: StoreDep):
    _require_admin(user)
    form = await request.form()
    action = str(form.get("action", ""))
    actor = actor_of(request, user)
    try:
        if action == "roles":
            accounts.set_roles(db, caller=actor, org_id=user.org_id, user_id=user_id,
                               roles=[str(r) for r in form.getlist("roles")])
        elif action == "password":
            password = str(form.get("password", ""))
            if len(password) < MIN_PASSWORD:
                raise InvalidInput(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
            accounts.set_password(db, caller=actor, org_id=user.org_id, user_id=user_id, password=password)
        elif action == "profile":
            accounts.update_profile(db, caller=actor, org_id=user.org_id, user_id=user_id,
                                    full_name=str(form.get("full_name", "")).strip() or None,
                                    position=str(form.get("position", "")), email=str(form.get("email", "")),
                                    unit_id=str(form.get("unit_id", "")).strip() or None)
        elif action == "method":
            target = accounts.get_user(db, org_id=user.org_id, user_id=user_id)
            set_method(db, container, actor, target, str(form.get("method", "")),
                       str(form.get("csc_provider", "")).strip(), str(form.get("csc_credential_id", "")).strip())
        elif action == "certificate":
            from ..channels import CertificateChecker

            checker: Any = CertificateChecker(container)  # its report satisfies the core's CertificateInfo
            signing_methods.register_certificate(db, checker, caller=actor, user_id=user_id,
                                                 certificate_pem=str(form.get("certificate_pem", ""))[:20000])
        elif action == "signature":
            target = accounts.get_user(db, org_id=user.org_id, user_id=user_id)
            upload = form.get("file")
            if upload is None or isinstance(upload, str) or not upload.filename:
                raise InvalidInput("Hãy chọn ảnh chữ ký (PNG nền trong suốt).")
            agency.set_signature_image(db, store, caller=actor, user=target,
                                       png=await upload.read(agency.MAX_IMAGE_BYTES + 1))
        elif action in ("deactivate", "activate"):
            if user_id == user.id:
                raise InvalidInput("Không thể tự khóa tài khoản của chính mình.")
            accounts.set_active(db, caller=actor, org_id=user.org_id, user_id=user_id, active=action == "activate")
            action = "active"
        else:
            raise InvalidInput("Thao tác không hợp lệ.")
    except DomainError as exc:
        db.rollback()
        return _page(request, db, user, error=exc.detail, status_code=exc.status)
    return redirect(f"/admin/users?msg={action}")
