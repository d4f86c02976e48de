"""The duplicate key of an incoming document: issuer + number/symbol + date, normalised so that the
same document written differently gives the same key.

Spacing (``245 / UBND-VX``), case, diacritics (``Uỷ``/``Ủy``), dashes and leading zeros of the
number are ignored, and issuing-body names are reduced to their usual abbreviation, so that
``Ủy ban nhân dân xã Vân Xuân`` and ``UBND xã Vân Xuân`` — or ``Sở Tư pháp`` and ``STP`` — match.
"""
from __future__ import annotations

import re
import unicodedata

# Full names (folded: no case, no diacritics, đ → d) → the abbreviation used in symbols and
# headers (Decree 30, Appendix III; Circular 01/2011 for the departments).
_PHRASES: tuple[tuple[str, str], ...] = (
    ("uy ban nhan dan", "ubnd"),
    ("hoi dong nhan dan", "hdnd"),
    ("toa an nhan dan", "tand"),
    ("vien kiem sat nhan dan", "vksnd"),
    ("mat tran to quoc viet nam", "mttqvn"),
    ("mat tran to quoc", "mttq"),
    ("ban chap hanh", "bch"),
    ("van phong", "vp"),
    ("so ke hoach va dau tu", "skhdt"),
    ("so giao duc va dao tao", "sgddt"),
    ("so tai nguyen va moi truong", "stnmt"),
    ("so giao thong van tai", "sgtvt"),
    ("so nong nghiep va phat trien nong thon", "snnptnt"),
    ("so lao dong thuong binh va xa hoi", "sldtbxh"),
    ("so van hoa the thao va du lich", "svhttdl"),
    ("so khoa hoc va cong nghe", "skhcn"),
    ("so thong tin va truyen thong", "stttt"),
    ("so tu phap", "stp"),
    ("so tai chinh", "stc"),
    ("so noi vu", "snv"),
    ("so y te", "syt"),
    ("so xay dung", "sxd"),
    ("so cong thuong", "sct"),
    ("thanh pho", "tp"),
    ("thi xa", "tx"),
)
_PHRASE_RE = [(re.compile(rf"\b{re.escape(full)}\b"), abbr) for full, abbr in _PHRASES]
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")


def fold(text: str | None) -> str:
    """Case- and diacritic-free (``đ`` → ``d``), NFKC (full-width characters), dashes as ``-``."""
    text = unicodedata.normalize("NFKC", text or "")
    text = unicodedata.normalize("NFD", text.casefold())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").replace("đ", "d")
    return _DASHES.sub("-", text)


def issuer_key(name: str | None) -> str:
    """``Ủy ban nhân dân  TP. Hà Nội`` → ``ubnd tp ha noi``."""
    text = re.sub(r"[^\w]+", " ", fold(name))  # punctuation and dashes are spacing
    text = " ".join(text.split())
    for pattern, abbr in _PHRASE_RE:
        text = pattern.sub(abbr, text)
    return text


def symbol_key(number_symbol: str | None) -> str:
    """``0245 / UBND – VX`` → ``245/ubnd-vx``."""
    text = re.sub(r"\s+", "", fold(number_symbol))
    return re.sub(r"^0+(?=\d)", "", text)


def duplicate_key(*, issuer: str | None, number_symbol: str | None, issued_date: str) -> str | None:
    if not number_symbol or not symbol_key(number_symbol):
        return None
    return f"{issuer_key(issuer)}|{symbol_key(number_symbol)}|{issued_date}"[:400]
