"""Checks that an uploaded file is an acceptable PDF, saying precisely what is wrong."""
from __future__ import annotations

from typing import BinaryIO
import os

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from ioffice.kernel.errors import InvalidDocument


TAIL = 4096


def _size(f: BinaryIO) -> int:
    f.seek(0, os.SEEK_END)
    n = f.tell()
    f.seek(0)
    return n


def inspect_pdf(f: BinaryIO) -> int:
    """Return the page count of the PDF in ``f`` (rewound afterwards).

    Raises InvalidDocument for an empty file, a file that is not a PDF (magic bytes), a truncated
    PDF (no ``%%EOF`` at the end), an encrypted PDF, or one that cannot be parsed.
    """
    size = _size(f)
    if size == 0:
        raise InvalidDocument("Tệp tải lên rỗng (0 byte).", reason="empty")
    head = f.read(1024)
    if b"%PDF-" not in head:
        raise InvalidDocument("Tệp không phải là PDF (thiếu phần đầu %PDF-).", reason="not_pdf")
    f.seek(max(0, size - TAIL))
    tail = f.read()
    if b"%%EOF" not in tail:
        f.seek(0)
        raise InvalidDocument("Tệp PDF bị cắt cụt (thiếu dấu kết thúc %%EOF).", reason="truncated")
    f.seek(0)
    try:
        reader = PdfReader(f, strict=False)
        if reader.is_encrypted:
            raise InvalidDocument("Tệp PDF được mã hóa hoặc đặt mật khẩu; hãy tải lên bản không mã hóa.",
                                  reason="encrypted")
        pages = len(reader.pages)
        if pages < 1:
            raise InvalidDocument("Tệp PDF không có trang nào.", reason="no_pages")
        # Touch the first page so a broken page tree is caught now, not at signing time.
        reader.pages[0].mediabox  # noqa: B018
    except InvalidDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            AssertionError, OSError) as exc:
        raise InvalidDocument("Không đọc được cấu trúc tệp PDF (tệp hỏng).", reason="unparseable") from exc
    except Exception as exc:  # pypdf raises a wide range of errors on hostile input
        raise InvalidDocument("Không đọc được cấu trúc tệp PDF (tệp hỏng).", reason="unparseable") from exc
    finally:
        f.seek(0)
    return pages
