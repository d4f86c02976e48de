"""Shared page machinery: the Jinja2 environment (autoescaped), Vietnamese labels, rendering,
the login redirect and HTML error pages for page routes."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from ioffice.documents.lifecycle import STATUS_LABELS
from ioffice.kernel.errors import DomainError
from ioffice.kernel.vocab import VN_TZ

from .session import CsrfFailed, LoginRequired, attach_csrf_cookie, csrf_token

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))

ROLE_NAMES = {"clerk": "Văn thư", "specialist": "Chuyên viên", "unit_head": "Trưởng đơn vị",
              "leader": "Lãnh đạo", "certifier": "Chứng thực", "admin": "Quản trị"}
DIRECTION_NAMES = {"incoming": "Văn bản đến", "outgoing": "Văn bản đi"}
URGENCY_NAMES = {"khan": "Khẩn", "thuong_khan": "Thượng khẩn", "hoa_toc": "Hỏa tốc"}
SECRECY_NAMES = {"mat": "Mật", "toi_mat": "Tối mật", "tuyet_mat": "Tuyệt mật"}
ASSIGN_ROLE_NAMES = {"lead": "Xử lý chính", "co": "Phối hợp", "info": "Để biết"}
ASSIGNMENT_STATUS = {"assigned": "Đã giao", "in_progress": "Đang xử lý", "completed": "Đã hoàn thành",
                     "informed": "Chưa đọc", "read": "Đã đọc", "passed_on": "Đã chuyển", "cancelled": "Đã hủy"}
STEP_STATUS = {"pending": "Đang chờ", "approved": "Đã đồng ý", "returned": "Trả lại", "waiting": "Chưa đến lượt",
               "skipped": "Bỏ qua", "cancelled": "Đã hủy"}
# status → (icon, tone): the tone colours the badge, the icon and the words carry the meaning.
STATUS_TONE = {
    "received": ("●", "neutral"), "registered": ("■", "info"), "assigned": ("➜", "info"),
    "in_progress": ("⏳", "info"), "completed": ("✔", "ok"), "returned_to_sender": ("↩", "bad"),
    "draft": ("✎", "neutral"), "in_review": ("⏳", "info"), "returned": ("↩", "bad"), "approved": ("✔", "ok"),
    "signed": ("✍", "ok"), "issued": ("✔", "ok"), "withdrawn": ("✖", "bad"), "recalled": ("✖", "bad"),
}
AUDIT_LABELS = {
    "document.upload": "Tải lên văn bản",
    "document.receive": "Tiếp nhận văn bản",
    "document.register": "Vào sổ văn bản đến",
    "document.return": "Trả lại nơi gửi",
    "document.issue": "Phát hành văn bản",
    "document.deliver": "Gửi văn bản",
    "document.delivery_status": "Cập nhật tình trạng gửi",
    "document.download": "Tải tệp về",
    "document.sign.personal": "Ký số cá nhân",
    "document.sign.seal": "Đóng dấu số của cơ quan",
    "document.sign.external_prepare": "Chuẩn bị ký bằng USB token",
    "document.attachment.add": "Thêm phụ lục",
    "document.attachment.sign": "Ký phụ lục",
    "workflow.submit": "Trình duyệt dự thảo",
    "workflow.review.approve": "Đồng ý dự thảo",
    "workflow.review.return": "Trả lại dự thảo",
    "workflow.withdraw": "Rút dự thảo",
    "workflow.new_version": "Tải lên phiên bản mới",
    "workflow.assign": "Giao xử lý (bút phê)",
    "workflow.pass_on": "Chuyển giao trong đơn vị",
    "workflow.progress": "Cập nhật tiến độ",
    "workflow.complete": "Hoàn thành xử lý",
    "workflow.acknowledge": "Đã đọc (nhận để biết)",
    "document.version.signed": "Lưu phiên bản đã ký số",
    "document.version.issued": "Lưu bản phát hành có số, ngày và dấu",
    "document.version.upload": "Tải lên phiên bản mới",
    "document.recall": "Thu hồi văn bản",
    "auth.logout": "Đăng xuất",
    "workflow.extend_deadline": "Gia hạn xử lý",
    "copy.certify": "Chứng thực bản sao",
    "copy.revoke": "Thu hồi bản sao",
}


def fmt_date(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(VN_TZ)
        return value.strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


def fmt_size(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


env = templates.env
env.filters["d"] = fmt_date
env.filters["size"] = fmt_size
env.globals.update(STATUS_LABELS=STATUS_LABELS, STATUS_TONE=STATUS_TONE, ROLE_NAMES=ROLE_NAMES,
                   DIRECTION_NAMES=DIRECTION_NAMES, URGENCY_NAMES=URGENCY_NAMES, SECRECY_NAMES=SECRECY_NAMES,
                   ASSIGN_ROLE_NAMES=ASSIGN_ROLE_NAMES, ASSIGNMENT_STATUS=ASSIGNMENT_STATUS,
                   STEP_STATUS=STEP_STATUS, AUDIT_LABELS=AUDIT_LABELS)


def nav_for(user) -> list[tuple[str, str]]:
    if user is None:
        return []
    items = [("/", "Trang chủ")]
    if user.has_role("clerk", "specialist", "unit_head", "leader"):
        items.append(("/documents", "Văn bản"))
    if user.has_role("clerk"):
        items.append(("/documents/new?direction=incoming", "Tiếp nhận văn bản đến"))
    if user.has_role("specialist", "unit_head", "leader", "clerk"):
        items.append(("/documents/new?direction=outgoing", "Soạn dự thảo"))
    if user.has_role("leader"):
        items.append(("/sign-batch", "Ký hàng loạt"))
    if user.has_role("clerk", "unit_head", "leader"):
        items.append(("/registers", "Sổ văn bản"))
    if user.has_role("certifier"):
        items.append(("/copies", "Chứng thực bản sao"))
    if user.has_role("clerk", "unit_head", "leader", "certifier"):
        items.append(("/reports", "Báo cáo"))
    if user.has_role("admin"):
        items.append(("/admin/users", "Người dùng"))
        items.append(("/admin", "Quản trị cơ quan"))
    return items


def render(request: Request, name: str, ctx: dict[str, Any] | None = None, status_code: int = 200) -> HTMLResponse:
    user = getattr(request.state, "viewer", None)
    context = {"user": user, "nav": nav_for(user), "csrf": csrf_token(request), "path": request.url.path,
               "user_roles": ", ".join(ROLE_NAMES.get(r, r) for r in (user.roles or [])) if user else ""}
    context.update(ctx or {})
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers.setdefault("Cache-Control", "no-store")
    attach_csrf_cookie(request, response)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _is_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/api/", "/dev-pki", "/docs", "/openapi")) and request.method in ("GET", "POST")


def install(app) -> None:
    """Exception handlers: the login redirect, and HTML error pages for page routes (the JSON API
    keeps its problem+json answers)."""
    api_handler = app.exception_handlers.get(DomainError)

    async def login_required(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target, safe='')}") if request.method == "GET" else redirect("/login")

    async def page_error(request: Request, exc: DomainError):
        if not _is_page(request) and api_handler is not None:
            return await api_handler(request, exc)
        return render(request, "error.html", {"title": exc.title, "detail": exc.detail}, status_code=exc.status)

    from sqlalchemy.orm.exc import StaleDataError

    stale_handler = app.exception_handlers.get(StaleDataError)

    async def page_stale(request: Request, exc: StaleDataError):
        if not _is_page(request) and stale_handler is not None:
            return await stale_handler(request, exc)
        return render(request, "error.html", {"title": "Xung đột cập nhật", "detail": "Văn bản vừa được người khác "
                      "cập nhật. Vui lòng tải lại trang và thử lại."}, status_code=409)

    app.add_exception_handler(StaleDataError, page_stale)
    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(DomainError, page_error)
    app.add_exception_handler(CsrfFailed, page_error)

