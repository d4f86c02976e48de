"""Pure rules of certified copies: the fee, the due date, the verification code, the book label
and the masking of the requester's name on public pages."""
from __future__ import annotations

import base64
import re
import secrets
import unicodedata
from datetime import date, datetime, time

from ..kernel.errors import InvalidInput
from ..kernel.workcalendar import add_working_days, vn_now

FEE_FIRST_PAGES = 2_000  # VND per page, pages 1–2
FEE_LATER_PAGES = 1_000  # VND per page from page 3
FEE_CAP_PER_COPY = 200_000
CUTOFF = time(15, 0)  # received after 15:00 (Vietnam time) → the next working day
CODE_BYTES = 20  # 160 bits of randomness
CODE_RE = re.compile(r"^[A-Z2-7]{32}$")
BOOK_SUFFIX = "SCTĐT/BS"
MAX_COPIES = 100


def fee_per_copy(pages: int) -> int:
    """2,000 VND per page for pages 1–2, 1,000 from page 3, at most 200,000 per copy."""
    if pages < 1:
        raise InvalidInput("Bản sao phải có ít nhất một trang.")
    return min(FEE_CAP_PER_COPY, FEE_FIRST_PAGES * min(pages, 2) + FEE_LATER_PAGES * max(0, pages - 2))


def fee(pages: int, copies: int = 1) -> int:
    if not 1 <= copies <= MAX_COPIES:
        raise InvalidInput(f"Số bản sao phải từ 1 đến {MAX_COPIES}.")
    return fee_per_copy(pages) * copies


def due_date(received: datetime | None = None) -> date:
    """Same day; the next working day when received after 15:00 (Vietnam time) or on a day off."""
    local = vn_now(received)
    if local.time() > CUTOFF:
        return add_working_days(local.date(), 1)
    return add_working_days(local.date(), 0)


def new_code() -> str:
    """A verification code: 160 random bits in RFC 4648 base32 (32 characters A–Z, 2–7)."""
    return base64.b32encode(secrets.token_bytes(CODE_BYTES)).decode().rstrip("=")


def normalise_code(code: str) -> str:
    """The canonical form of a code typed or scanned; InvalidInput (422) when malformed."""
    c = (code or "").strip().upper().replace("-", "").replace(" ", "")
    if not CODE_RE.match(c):
        raise InvalidInput("Mã xác thực không đúng định dạng (32 ký tự chữ A–Z và số 2–7).")
    return c


def book_label(book_no: int) -> str:
    return f"{book_no:02d}-{BOOK_SUFFIX}"


def mask_name(name: str | None) -> str:
    """``Nguyễn Thị Hoa`` → ``N*** T** H**``: each word's first letter, then at most three stars."""
    words = unicodedata.normalize("NFC", name or "").split()
    return " ".join(w[0] + "*" * min(len(w) - 1, 3) for w in words)


def money(vnd: int) -> str:
    """``35000`` → ``35.000`` (Vietnamese thousands separator)."""
    return f"{vnd:,}".replace(",", ".")
