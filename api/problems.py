"""RFC 9457 problem+json: one mapping from the core's DomainError tree (and HTTP/validation
errors) to responses. Tracebacks never reach the client."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlPoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ioffice.kernel.errors import DomainError

log = logging.getLogger("ioffice.api")
TYPE_BASE = "https://ioffice.dev/problems/"
MEDIA_TYPE = "application/problem+json"

_HTTP_TITLES = {
    400: ("bad-request", "Yêu cầu không hợp lệ"),
    401: ("unauthenticated", "Chưa đăng nhập hoặc phiên đăng nhập đã hết hạn"),
    403: ("forbidden", "Bạn không có quyền thực hiện thao tác này"),
    404: ("not-found", "Không tìm thấy"),
    405: ("method-not-allowed", "Phương thức không được hỗ trợ"),
    409: ("conflict", "Xung đột trạng thái"),
    413: ("payload-too-large", "Tệp vượt quá dung lượng cho phép"),
    415: ("unsupported-media-type", "Kiểu dữ liệu không được hỗ trợ"),
    422: ("invalid-input", "Dữ liệu không hợp lệ"),
    429: ("too-many-requests", "Quá nhiều yêu cầu, vui lòng thử lại sau"),
    503: ("service-unavailable", "Dịch vụ tạm thời không khả dụng"),
}


def problem(status: int, code: str, title: str, detail: str, instance: str | None = None, **extra) -> JSONResponse:
    body = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="ioffice"'
    if status == 429:
        headers["Retry-After"] = "60"
    for k, v in extra.items():
        if k == "retry_after":
            headers["Retry-After"] = str(v)
        elif v is not None:
            body[k] = v
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        if exc.status >= 500:
            log.warning("domain error %s on %s %s: %s", exc.code, request.method, request.url.path, exc.detail)
        return problem(exc.status, exc.code, exc.title, exc.detail, request.url.path, **exc.extra)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError):
        return problem(409, "concurrent-update", "Xung đột cập nhật",
                       "Văn bản vừa được người khác cập nhật. Vui lòng tải lại và thử lại.", request.url.path)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError):
        log.error("database unavailable on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
        return problem(503, "database-unavailable", "Cơ sở dữ liệu đang không khả dụng",
                       "Cơ sở dữ liệu tạm thời không khả dụng. Vui lòng thử lại sau ít phút.", request.url.path,
                       retry_after=30)

    @app.exception_handler(SqlPoolTimeout)
    async def _pool_exhausted(request: Request, exc: SqlPoolTimeout):
        # every database connection of this process is busy: the service is saturated, not broken
        log.warning("database connection pool exhausted on %s %s", request.method, request.url.path)
        return problem(503, "service-busy", "Hệ thống đang quá tải",
                       "Hệ thống đang xử lý quá nhiều yêu cầu cùng lúc. Vui lòng thử lại sau ít giây.",
                       request.url.path, retry_after=5)

    @app.exception_handler(DataError)
    async def _bad_data(request: Request, exc: DataError):
        # The database refused a value (NUL character, out of range…); the transaction rolled back.
        log.warning("database refused a value on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
        return problem(422, "invalid-input", "Dữ liệu không hợp lệ",
                       "Dữ liệu gửi lên chứa giá trị không được phép (ký tự đặc biệt hoặc vượt giới hạn).",
                       request.url.path)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        # e.g. two requests creating the same unique name at once: the loser gets 409, nothing logged
        # but the constraint's class (the engine hides parameters; the message is not logged).
        log.warning("integrity conflict on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
        return problem(409, "conflict", "Xung đột dữ liệu",
                       "Dữ liệu vừa được thay đổi bởi một yêu cầu khác (ví dụ: tên đã tồn tại). Vui lòng tải lại "
                       "và thử lại.", request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        from .validation_messages import detail_of, vietnamese_errors

        errors = vietnamese_errors(exc.errors())
        return problem(422, "invalid-input", "Dữ liệu không hợp lệ",
                       f"Dữ liệu gửi lên không hợp lệ. {detail_of(errors)}", request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code, title = _HTTP_TITLES.get(exc.status_code, ("http-error", "Lỗi"))
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found",) else title
        resp = problem(exc.status_code, code, title, detail, request.url.path)
        if exc.headers:
            resp.headers.update(exc.headers)
        return resp

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "internal-error", "Lỗi hệ thống", "Đã xảy ra lỗi không mong muốn. Vui lòng thử lại sau.",
                       request.url.path)
