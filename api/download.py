"""``Content-Disposition`` for downloads: an ASCII ``filename`` every client understands and the
exact UTF-8 name as ``filename*`` (RFC 6266 / RFC 5987)."""
from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote


def ascii_fallback(name: str) -> str:
    """``QĐ-UBND Yên Khánh.pdf`` → ``QD-UBND Yen Khanh.pdf`` (no quotes, backslashes or controls)."""
    folded = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    folded = "".join(ch for ch in folded if unicodedata.category(ch) != "Mn")
    folded = folded.encode("ascii", "ignore").decode()
    folded = re.sub(r'[\x00-\x1f\x7f"\\;]+', "_", folded).strip() or "document.pdf"
    return folded


def content_disposition(filename: str, *, inline: bool = False) -> str:
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_fallback(filename)}\"; filename*=UTF-8''{quote(filename, safe='')}"


def issued_filename(number_symbol: str) -> str:
    """The file name of an issued document: its number/symbol, ``01/UBND-TP`` → ``01-UBND-TP.pdf``."""
    name = re.sub(r"[/\\]+", "-", number_symbol.strip())
    name = re.sub(r"\s+", "", name)
    return f"{name}.pdf"
