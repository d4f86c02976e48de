"""Public verification: anyone (no account) posts a PDF and gets the validation report.

Rate-limited per client address; the file is size-limited and validated in an isolated child
process with a time limit, so a hostile PDF can neither hang nor crash the service.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ioffice.accounts.ratelimit import hit
from ioffice.kernel.errors import PayloadTooLarge

from ..deps import ContainerDep, client_addr, problem_responses
from ..trust import trust_roots

router = APIRouter(tags=["public"])
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent.parent / "templates"))

REPORT_EXAMPLE: dict[str, Any] = {
    "verdict": "valid", "trusted": True, "copy": None,
    "signatures": [{"field": "Signature1", "signer": "Phạm Văn Đức", "signing_time": "2026-03-05T02:15:02+00:00",
                    "intact": True, "valid": True, "trusted": True, "revocation": "good",
                    "coverage": "entire_revision", "changes_after": "none", "level": "B-LT",
                    "timestamp": "2026-03-05T02:15:03+00:00", "role": "personal",
                    "capacity": "Chữ ký số cá nhân của Phạm Văn Đức, Chủ tịch",
                    "signing_time_text": "05/03/2026 09:15", "timestamp_text": "05/03/2026 09:15"}],
    "integrity": "Toàn vẹn: mọi chữ ký đúng; nội dung đã ký không bị thay đổi.",
    "trust": "Tin cậy: mọi chữ ký đều chuỗi tới chứng thư gốc được cấu hình (ioffice Development Root CA).",
    "document": {"source": "register", "matched": "same_file", "issuing_body": "UBND huyện Yên Khánh",
                 "doc_type": "Quyết định", "number_symbol": "12/QĐ-UBND", "issued_date": "2026-03-05",
                 "issued_date_text": "05/03/2026", "recalled": False},
}


def rate_limit(container, request: Request, bucket: str) -> None:
    hit(container.sessions, key=f"{bucket}:{client_addr(request) or '-'}",
        limit=container.settings.public_rate_limit_per_minute)


def validate_upload(container, data: bytes) -> dict:
    from signing.validation import validate_pdf

    from ..verify_view import enrich
    from .copies import copy_section

    report = validate_pdf(data, trust_roots=trust_roots(container), allow_fetching=False,
                          timeout=container.settings.public_validation_timeout_seconds).to_dict()
    # the report's hash is the SHA-256 of these very bytes (computed by the analysis)
    report["copy"] = copy_section(container, data, report.get("sha256")) or report.get("copy")
    return enrich(container, report, data)


def report_page(container, data: bytes) -> dict:
    """The citizen page's context: the report and page previews with the changed regions drawn."""
    from ..verify_view import previews

    report = validate_upload(container, data)
    shown = report.get("verdict") not in ("unreadable",)
    return {"report": _Obj(report),
            "previews": previews(data, report.get("change_regions")) if shown else []}


def copy_page(container, code: str) -> dict:
    """The certified copy's public status and its page previews (the code is on the copy itself)."""
    from ioffice.copies import service

    from ..verify_view import previews
    from .copies import public_status

    copy = public_status(container, code)
    with container.read_sessions() as s:
        sha = service.find_by_code(s, code).sha256
    with container.store.open(sha) as f:
        data = f.read()
    return {"copy": _Obj(copy), "previews": previews(data, first_pages=MAX_COPY_PREVIEW_PAGES)}


MAX_COPY_PREVIEW_PAGES = 4


async def read_and_validate(container, file: UploadFile, validate=None) -> dict:
    """Read the upload and validate it within the process-wide memory budget (api.budget):
    503 + Retry-After when too many bytes are being validated at once."""
    limit = container.settings.max_upload_bytes
    if file.size is not None and file.size > limit:
        raise PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).")
    with container.validation_budget.reserve(file.size if file.size is not None else limit):
        data = await file.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).")
        return await run_in_threadpool(validate or validate_upload, container, data)


@router.post("/api/v1/verify", responses={200: {"content": {"application/json": {"example": REPORT_EXAMPLE}}},
                                           **problem_responses(413, 422, 429, 503)})
async def verify(request: Request, container: ContainerDep,
                 file: Annotated[UploadFile, File(description="The signed PDF to check")]) -> dict:
    """Validate every signature of the uploaded PDF (no account needed). Returns the validation
    report of CONTRACT.md: verdict, trusted, one entry per signature."""
    await run_in_threadpool(rate_limit, container, request, "verify")
    return await read_and_validate(container, file)


@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
async def verify_page(request: Request):
    return templates.TemplateResponse(request, "verify.html", {"code": None})


class _NoFile(Exception):
    """The citizen's form was sent without a file."""


class _Obj(dict):
    """Attribute access for the template."""

    def __getattr__(self, name):
        try:
            value = self[name]
        except KeyError as exc:
            raise AttributeError(name) from exc
        if isinstance(value, dict):
            return _Obj(value)
        if isinstance(value, list):
            return [_Obj(v) if isinstance(v, dict) else v for v in value]
        return value


@router.post("/verify", response_class=HTMLResponse, include_in_schema=False)
async def verify_page_post(request: Request, container: ContainerDep,
                           file: Annotated[UploadFile | None, File()] = None):
    """The citizen's page: the same validation, rendered in plain Vietnamese."""
    from ioffice.kernel.errors import DomainError

    try:
        await run_in_threadpool(rate_limit, container, request, "verify")
        if file is None or not file.filename:
            raise _NoFile()
        context = await read_and_validate(container, file, report_page)
    except _NoFile:
        return templates.TemplateResponse(request, "verify.html", {"error": "Vui lòng chọn một tệp PDF."},
                                          status_code=422)
    except DomainError as exc:
        headers = {"Retry-After": str(exc.extra.get("retry_after") or 60)} if exc.status in (429, 503) else None
        return templates.TemplateResponse(request, "verify.html", {"error": exc.detail}, status_code=exc.status,
                                          headers=headers)
    return templates.TemplateResponse(request, "verify.html", context)



@router.get("/verify/{code}", response_class=HTMLResponse, include_in_schema=False)
async def verify_code_page(request: Request, code: str, container: ContainerDep):
    """What a certified copy's QR code opens: the copy's public status, in plain Vietnamese."""
    from ioffice.kernel.errors import DomainError

    try:
        await run_in_threadpool(rate_limit, container, request, "copy-code")
        context = await run_in_threadpool(copy_page, container, code)
    except DomainError as exc:
        return templates.TemplateResponse(request, "verify.html", {"error": exc.detail}, status_code=exc.status)
    return templates.TemplateResponse(request, "verify.html", context)
