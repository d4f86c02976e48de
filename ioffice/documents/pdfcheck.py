"""Checks that an uploaded file is an acceptable PDF, saying precisely what is wrong."""
from __future__ import annotations

import os
import re
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import DictionaryObject

from ioffice.kernel.errors import InvalidDocument

TAIL = 4096
MAX_PAGES = 10_000  # far above any administrative document; signing walks every page


def _check_xref_chain(f: BinaryIO, size: int) -> None:
    """Follow startxref → /Prev → … and refuse a chain that loops or points outside the file
    (pypdf tolerates it; the signer does not)."""
    f.seek(max(0, size - TAIL))
    tail = f.read()
    found = re.findall(rb"startxref\s+(\d+)", tail)
    if not found:
        return  # pypdf's own recovery decides
    offset: int | None = int(found[-1])
    seen: set[int] = set()
    while offset is not None:
        if offset in seen or len(seen) > 1000:
            raise InvalidDocument("Bảng tham chiếu (xref) của tệp PDF tự trỏ vòng; tệp hỏng.", reason="xref_loop")
        if offset >= size:
            raise InvalidDocument("Bảng tham chiếu (xref) của tệp PDF trỏ ra ngoài tệp; tệp hỏng.", reason="xref_range")
        seen.add(offset)
        f.seek(offset)
        section = f.read(64 * 1024)
        if section.startswith(b"xref"):
            end = section.find(b"startxref")
            trailer = section[section.find(b"trailer"):end if end > 0 else None]
        else:  # a cross-reference stream: its dictionary precedes "stream"
            end = section.find(b"stream")
            trailer = section[:end if end > 0 else None]
        prev = re.search(rb"/Prev\s+(\d+)", trailer)
        offset = int(prev.group(1)) if prev else None


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
        pages = len(reader.pages)  # pypdf walks the page tree
        root = reader.trailer["/Root"]
        tree = root["/Pages"] if isinstance(root, DictionaryObject) else None
        if not isinstance(tree, DictionaryObject):
            raise TypeError("the page tree root is not a dictionary")  # unparseable, below
        count = tree.get("/Count")  # what the file claims (signers trust it)
        declared = int(count) if isinstance(count, (int, float)) else -1
        if declared < 1 and pages < 1:
            raise InvalidDocument("Tệp PDF không có trang nào.", reason="no_pages")
        if max(declared, pages) > MAX_PAGES:
            raise InvalidDocument(f"Tệp PDF có quá nhiều trang ({max(declared, pages)}; tối đa {MAX_PAGES}).",
                                  reason="too_many_pages")
        # Touch the first page so a broken page tree is caught now, not at signing time.
        reader.pages[0].mediabox  # noqa: B018
        if pages != declared:
            raise InvalidDocument(f"Cây trang của tệp PDF khai báo {declared} trang nhưng thực có {pages}; tệp hỏng.",
                                  reason="page_count_mismatch")
        _check_xref_chain(f, size)
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
