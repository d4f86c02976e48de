"""Previews before committing: the page images of what signing or issuing would produce now —
the same appearances at the same places (the draft's blanks and signer block), drawn without a key;
nothing is signed, numbered, stored or recorded."""
from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from ioffice import registers, signatures
from ioffice.kernel.errors import InvalidDocument

from ..deps import CallerDep, ContainerDep, SessionDep, StoreDep, own_transactions, problem_responses, require_roles
from ..pages.previews import PreviewUnavailable
from ..signing_adapter import adapter

router = APIRouter(prefix="/api/v1", tags=["signing"])
MAX_PAGES = 30


class SignPreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["personal", "seal"] | None = Field(default=None, description="as for /sign (default: personal "
                                                                                "for leaders, seal for clerks)")
    authority: str | None = Field(default=None, max_length=200, description="as for /sign: authority lines "
                                  "instead of those chosen from role and delegation (\"\": none)")
    dpi: int = Field(default=72, ge=30, le=150, description="resolution of the page images")


class IssuePreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    issued_date: date | None = Field(default=None, description="defaults to today in Vietnam")
    dpi: int = Field(default=72, ge=30, le=150)


class PagePng(BaseModel):
    page: int = Field(description="1-based")
    png: str = Field(description="data:image/png;base64,…")


class PreviewOut(BaseModel):
    document_id: str
    pages: list[PagePng]
    page_count: int
    number_symbol: str | None = Field(default=None, description="issue preview: the number/symbol the document "
                                      "would get if issued now (not reserved)")


def render_pages(pdf: bytes, dpi: int) -> tuple[list[PagePng], int]:
    """PNG images of the first :data:`MAX_PAGES` pages (poppler's pdftoppm)."""
    import io

    from pypdf import PdfReader

    if shutil.which("pdftoppm") is None:
        raise PreviewUnavailable("Máy chủ chưa cài poppler-utils (pdftoppm) để tạo ảnh xem trước.")
    try:
        count = len(PdfReader(io.BytesIO(pdf), strict=False).pages)
    except Exception as exc:  # pypdf raises many kinds on a damaged file
        raise InvalidDocument("Không đọc được cấu trúc tệp PDF (tệp hỏng).") from exc
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(pdf)
        try:
            proc = subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", str(min(count, MAX_PAGES)),
                                   str(src), str(Path(tmp) / "p")], capture_output=True, timeout=60)
        except subprocess.TimeoutExpired as exc:
            raise PreviewUnavailable("Tạo ảnh xem trước quá lâu, đã dừng.") from exc
        files = sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        if proc.returncode != 0 or not files:
            raise PreviewUnavailable("Không tạo được ảnh các trang của văn bản.")
        pages = [PagePng(page=int(f.stem.rsplit("-", 1)[1]),
                         png="data:image/png;base64," + base64.b64encode(f.read_bytes()).decode("ascii"))
                 for f in files]
    return pages, count


@router.post("/documents/{document_id}/sign/preview", response_model=PreviewOut,
             responses=problem_responses(401, 403, 404, 409, 422, 503),
             dependencies=[require_roles("leader", "unit_head", "clerk")])
@own_transactions
def preview_signing(document_id: str, db: SessionDep, store: StoreDep, caller: CallerDep, container: ContainerDep,
                    body: Annotated[SignPreviewIn | None, Body()] = None) -> PreviewOut:
    """Page images of the document as signing it now would make it (personal signature of the
    official, or the clerk's seal): same checks and refusals as ``/sign`` (409 when there is no
    room), nothing signed or stored."""
    body = body or SignPreviewIn()
    user = caller.person
    kind = body.kind or ("personal" if user.has_role("leader", "unit_head") else "seal")
    authority = body.authority if "authority" in body.model_fields_set else None
    pdf = signatures.preview_sign(db, store, adapter(container), caller=caller, document_id=document_id, kind=kind,
                                  authority_override=authority)
    pages, count = render_pages(pdf, body.dpi)
    return PreviewOut(document_id=document_id, pages=pages, page_count=count)


@router.post("/documents/{document_id}/issue/preview", response_model=PreviewOut,
             responses=problem_responses(401, 403, 404, 409, 422, 503), dependencies=[require_roles("clerk")])
@own_transactions
def preview_issuing(document_id: str, db: SessionDep, store: StoreDep, caller: CallerDep, container: ContainerDep,
                    body: Annotated[IssuePreviewIn | None, Body()] = None) -> PreviewOut:
    """Page images of the document as issuing it now would make it: number (the next one, not
    reserved) and date in the draft's blanks, the agency seal; same refusals as ``/issue``."""
    body = body or IssuePreviewIn()
    pdf, symbol = registers.preview_issue(db, store, adapter(container), caller=caller, document_id=document_id,
                                          issued_date=body.issued_date)
    pages, count = render_pages(pdf, body.dpi)
    return PreviewOut(document_id=document_id, pages=pages, page_count=count, number_symbol=symbol)
