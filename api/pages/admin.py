"""Administration pages (role admin): the users of the organisation — add an official with roles,
unit and position, change roles, reset a password, deactivate or reactivate. Each change moves the
user's token version on, so their sessions end."""
from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select

from ioffice import accounts
from ioffice.accounts.models import ROLES, Unit, User
from ioffice.kernel.errors import DomainError, InvalidInput, PermissionDenied

from ..deps import SessionDep
from .common import redirect, render
from .documents import actor_of
from .session import Csrf, PageUser

router = APIRouter(include_in_schema=False)
FLASH = {"created": "Đã thêm người dùng.", "roles": "Đã cập nhật vai trò.", "password": "Đã đặt lại mật khẩu.",
         "active": "Đã cập nhật trạng thái tài khoản."}
MIN_PASSWORD = 8


def _require_admin(user) -> None:
    if not user.has_role("admin"):
        raise PermissionDenied("Chỉ quản trị hệ thống được quản lý người dùng.")


def _page(request: Request, db, user, *, flash=None, error=None, values=None, status_code=200):
    users = list(db.scalars(select(User).where(User.org_id == user.org_id).order_by(User.full_name)))
    units = list(db.scalars(select(Unit).where(Unit.org_id == user.org_id).order_by(Unit.name)))
    return render(request, "admin_users.html", {"users": users, "units": {u.id: u for u in units}, "roles": ROLES,
                                                "flash": flash, "error": error, "values": values or {}},
                  status_code=status_code)


@router.get("/admin/users")
def users_page(request: Request, db: SessionDep, user: PageUser, msg: str | None = None):
    _require_admin(user)
    return _page(request, db, user, flash=FLASH.get(msg or ""))


@router.post("/admin/users", dependencies=[Csrf])
async def create_user(request: Request, db: SessionDep, user: PageUser):
    _require_admin(user)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("username", "full_name", "position", "unit_id", "email")}
    roles = [str(r) for r in form.getlist("roles")]
    try:
        password = str(form.get("password", ""))
        if not values["full_name"]:
            raise InvalidInput("Hãy nhập họ và tên.")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.")
        if not roles:
            raise InvalidInput("Hãy chọn ít nhất một vai trò.")
        accounts.create_user(db, caller=actor_of(request, user), org_id=user.org_id, username=values["username"],
                             full_name=values["full_name"], password=password, roles=roles,
                             unit_id=values["unit_id"] or None, position=values["position"] or None,
                             email=values["email"] or None)
    except DomainError as exc:
        db.rollback()
        return _page(request, db, user, error=exc.detail, values={**values, "roles": roles}, status_code=exc.status)
    return redirect("/admin/users?msg=created")


@router.post("/admin/users/{user_id}", dependencies=[Csrf])
async def update_user(request: Request, user_id: str, db: SessionDep, user: PageUser):
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
