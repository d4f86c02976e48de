"""Administration pages (role admin) beyond users: the agency's settings (signature level,
numbering series, stamp positions), the seal image and the officials' signature images, the trust
roots in use, delegations of signing capacity and the route templates of drafts."""
from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from ioffice import agency
from ioffice import delegation as dlg
from ioffice import review as routing
from ioffice.accounts.models import ROLES, Organisation, User
from ioffice.documents.doctypes import DOC_TYPES
from ioffice.kernel.errors import DomainError, InvalidInput, NotFound, PermissionDenied

from ..deps import ContainerDep, SessionDep, StoreDep
from .admin import _require_admin
from .common import redirect, render
from .documents import actor_of
from .session import Csrf, PageUser

router = APIRouter(include_in_schema=False)
LEVELS = {"B-B": "B-B (chữ ký cơ bản)", "B-T": "B-T (có dấu thời gian)",
          "B-LT": "B-LT (kèm dữ liệu kiểm tra chứng thư)", "B-LTA": "B-LTA (lưu trữ dài hạn)"}
FLASH = {"settings": "Đã lưu cấu hình cơ quan.", "seal": "Đã cập nhật ảnh con dấu.",
         "delegation": "Đã ghi nhận ủy quyền ký.", "revoked": "Đã chấm dứt ủy quyền.",
         "template": "Đã thêm quy trình trình duyệt.", "template_off": "Đã ngừng dùng quy trình."}
BOXES = {"personal_box": "Vị trí chữ ký cá nhân (trang cuối)", "number_box": "Vị trí «Số: …» khi phát hành",
         "date_box": "Vị trí dòng ngày tháng khi phát hành"}
MAX_STAGES = 4


def _org(db, user) -> Organisation:
    org = db.get(Organisation, user.org_id)
    if org is None:
        raise NotFound("Không tìm thấy cơ quan.")
    return org


def _trust_roots(container) -> list[dict[str, Any]]:
    from ..trust import trust_roots

    out = []
    for c in trust_roots(container):
        try:
            out.append({"subject": c.subject.human_friendly, "sha256": c.sha256.hex(),
                        "not_after": c["tbs_certificate"]["validity"]["not_after"].native})
        except Exception:  # noqa: BLE001 - an odd certificate is still listed by its hash
            out.append({"subject": "?", "sha256": getattr(c, "sha256", b"").hex(), "not_after": None})
    return out


def _agency_page(request, db, user, container, *, flash=None, error=None, status_code=200):
    org = _org(db, user)
    settings = dict(org.settings or {})
    series = "\n".join(f"{k}={v}" for k, v in (settings.get("outgoing_series") or {}).items())
    boxes = {k: ", ".join(f"{x:g}" for x in settings[k]) if settings.get(k) else "" for k in BOXES}
    return render(request, "admin_agency.html", {
        "org": org, "settings": settings, "series": series, "boxes": boxes, "BOXES": BOXES, "LEVELS": LEVELS,
        "trust": _trust_roots(container), "dev_pki": container.devpki is not None, "flash": flash,
        "error": error}, status_code=status_code)


@router.get("/admin")
def agency_page(request: Request, db: SessionDep, user: PageUser, container: ContainerDep, msg: str | None = None):
    _require_admin(user)
    return _agency_page(request, db, user, container, flash=FLASH.get(msg or ""))


def _box(text: str, label: str) -> list[float] | None:
    if not text.strip():
        return None
    try:
        parts = [float(p) for p in text.replace(";", ",").split(",")]
    except ValueError as exc:
        raise InvalidInput(f"{label}: nhập bốn số x1, y1, x2, y2 (đơn vị point).") from exc
    if len(parts) != 4:
        raise InvalidInput(f"{label}: nhập bốn số x1, y1, x2, y2 (đơn vị point).")
    return parts


@router.post("/admin/settings", dependencies=[Csrf])
async def save_settings(request: Request, db: SessionDep, user: PageUser, container: ContainerDep):
    _require_admin(user)
    form = await request.form()
    try:
        series: dict[str, str] = {}
        for line in str(form.get("outgoing_series", "")).splitlines():
            if line.strip():
                if "=" not in line:
                    raise InvalidInput("Sổ văn bản đi: mỗi dòng dạng «QĐ=QĐ-QPPL».")
                k, v = line.split("=", 1)
                series[k.strip()] = v.strip()
        page = str(form.get("number_page", "")).strip()
        changes: dict[str, Any] = {
            "signature_level": str(form.get("signature_level", "")) or None,
            "secret_series": form.get("secret_series") == "1",
            "outgoing_series": series or None,
            "number_page": int(page) - 1 if page.isdigit() and int(page) >= 1 else None,
        }
        for key, label in BOXES.items():
            changes[key] = _box(str(form.get(key, "")), label)
        try:
            body = agency.AgencySettings.model_validate(changes)
        except ValidationError as exc:
            raise InvalidInput("Cấu hình chưa hợp lệ: " + "; ".join(
                str(e["loc"][0]) + " " + e["msg"] for e in exc.errors() if e["loc"]) + ".") from exc
        agency.update_settings(db, caller=actor_of(request, user), org=_org(db, user), changes=body)
    except DomainError as exc:
        db.rollback()
        return _agency_page(request, db, user, container, error=exc.detail, status_code=exc.status)
    return redirect("/admin?msg=settings")


@router.post("/admin/seal", dependencies=[Csrf])
async def upload_seal(request: Request, db: SessionDep, user: PageUser, container: ContainerDep, store: StoreDep):
    _require_admin(user)
    form = await request.form()
    upload = form.get("file")
    try:
        if upload is None or isinstance(upload, str) or not upload.filename:
            raise InvalidInput("Hãy chọn ảnh con dấu (PNG nền trong suốt).")
        agency.set_seal_image(db, store, caller=actor_of(request, user), org=_org(db, user),
                              png=await upload.read(agency.MAX_IMAGE_BYTES + 1))
    except DomainError as exc:
        db.rollback()
        return _agency_page(request, db, user, container, error=exc.detail, status_code=exc.status)
    return redirect("/admin?msg=seal")


@router.get("/admin/images/{sha256}.png")
def image(sha256: str, db: SessionDep, user: PageUser, store: StoreDep):
    """The seal image or an official's signature image of this agency (nothing else in the store)."""
    _require_admin(user)
    known = {(_org(db, user).settings or {}).get("seal_image_sha256")}
    known |= set(db.scalars(select(User.signature_image_sha256).where(User.org_id == user.org_id)))
    if sha256 not in known - {None}:
        raise NotFound("Không tìm thấy ảnh.")
    return Response(store.read_bytes(sha256), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})


# ------------------------------------------------------------------------------ delegations

def _delegations_page(request, db, user, *, flash=None, error=None, values=None, status_code=200):
    people = {u.id: u for u in db.scalars(select(User).where(User.org_id == user.org_id).order_by(User.full_name))}
    return render(request, "admin_delegations.html", {
        "rows": dlg.list_delegations(db, org_id=user.org_id), "people": people,
        "leaders": [u for u in people.values() if u.is_active and u.has_role("leader")],
        "staff": [u for u in people.values() if u.is_active], "flash": flash, "error": error,
        "values": values or {}, "today": date.today()}, status_code=status_code)


@router.get("/admin/delegations")
def delegations_page(request: Request, db: SessionDep, user: PageUser, msg: str | None = None):
    _require_admin(user)
    return _delegations_page(request, db, user, flash=FLASH.get(msg or ""))


@router.post("/admin/delegations", dependencies=[Csrf])
async def create_delegation(request: Request, db: SessionDep, user: PageUser):
    _require_admin(user)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("delegator_id", "delegate_id", "competence", "start_date",
                                                        "end_date", "note")}
    try:
        try:
            start, end = date.fromisoformat(values["start_date"]), date.fromisoformat(values["end_date"])
        except ValueError as exc:
            raise InvalidInput("Hãy chọn ngày bắt đầu và ngày kết thúc ủy quyền.") from exc
        from ioffice.accounts.services import get_user

        delegator = get_user(db, org_id=user.org_id, user_id=values["delegator_id"])
        dlg.create_delegation(db, caller=actor_of(request, user), delegator=delegator,
                              delegate_id=values["delegate_id"], competence=values["competence"] or "KT.",
                              start_date=start, end_date=end, note=values["note"][:2000])
    except DomainError as exc:
        db.rollback()
        return _delegations_page(request, db, user, error=exc.detail, values=values, status_code=exc.status)
    return redirect("/admin/delegations?msg=delegation")


@router.post("/admin/delegations/{delegation_id}/revoke", dependencies=[Csrf])
def revoke_delegation(request: Request, delegation_id: str, db: SessionDep, user: PageUser):
    _require_admin(user)
    try:
        dlg.revoke_delegation(db, caller=actor_of(request, user), delegation_id=delegation_id)
    except DomainError as exc:
        db.rollback()
        return _delegations_page(request, db, user, error=exc.detail, status_code=exc.status)
    return redirect("/admin/delegations?msg=revoked")


# ------------------------------------------------------------------------------ route templates

def _routes_page(request, db, user, *, flash=None, error=None, status_code=200):
    return render(request, "admin_routes.html", {
        "templates_": routing.list_templates(db, org_id=user.org_id, include_inactive=True), "roles": ROLES,
        "doc_types": list(DOC_TYPES), "n_stages": MAX_STAGES, "flash": flash, "error": error},
        status_code=status_code)


@router.get("/admin/route-templates")
def routes_page(request: Request, db: SessionDep, user: PageUser, msg: str | None = None):
    _require_admin(user)
    return _routes_page(request, db, user, flash=FLASH.get(msg or ""))


@router.post("/admin/route-templates", dependencies=[Csrf])
async def create_route(request: Request, db: SessionDep, user: PageUser):
    _require_admin(user)
    form = await request.form()
    try:
        stages = []
        for n in range(1, MAX_STAGES + 1):
            name = str(form.get(f"stage{n}_name", "")).strip()
            roles = [str(r) for r in form.getlist(f"stage{n}_roles")]
            if not name and not roles:
                continue
            if not name or not roles:
                raise InvalidInput(f"Bước {n}: cần cả tên bước và vai trò người xem xét.")
            stages.append({"name": name, "roles": roles, "same_unit": form.get(f"stage{n}_same_unit") == "1",
                           "mode": "any" if form.get(f"stage{n}_mode") == "any" else "all"})
        if not stages:
            raise InvalidInput("Quy trình cần ít nhất một bước.")
        try:
            body = routing.RouteTemplateIn.model_validate({"name": str(form.get("name", "")).strip(),
                                                           "doc_type": str(form.get("doc_type", "")) or None,
                                                           "stages": stages})
        except ValidationError as exc:
            raise InvalidInput("Hãy nhập tên quy trình (tối đa 255 ký tự).") from exc
        routing.create_template(db, caller=actor_of(request, user), org_id=user.org_id, body=body)
    except DomainError as exc:
        db.rollback()
        return _routes_page(request, db, user, error=exc.detail, status_code=exc.status)
    return redirect("/admin/route-templates?msg=template")


@router.post("/admin/route-templates/{template_id}/deactivate", dependencies=[Csrf])
def deactivate_route(request: Request, template_id: str, db: SessionDep, user: PageUser):
    _require_admin(user)
    routing.delete_template(db, caller=actor_of(request, user), org_id=user.org_id, template_id=template_id)
    return redirect("/admin/route-templates?msg=template_off")


__all__ = ["router", "PermissionDenied"]
