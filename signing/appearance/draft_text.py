"""The draft's own text, with positions: where it left room for the number, the day and month, and
the signature (Decree 30 layout), and which areas already carry text.

Characters and their boxes come from pdfminer.six (the glyph boxes of the fonts actually used);
they are grouped here into lines (same baseline, no gap wider than a few characters) and words
(runs of non-blank characters). Only the pages needed are read: the first (number, date) and the
last two (signer block).
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field

from ioffice.kernel.errors import InvalidDocument

Box = tuple[float, float, float, float]

_COLUMN_GAP = 4.0  # a gap wider than this many font sizes starts another column
_WORD_GAP = 0.25  # a gap wider than this many font sizes ends a word
_TOUCH = 0.3  # points: boxes closer than this do not count as overlapping


@dataclass(frozen=True)
class Char:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    baseline: float
    size: float


@dataclass
class Line:
    chars: list[Char]

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)

    @property
    def box(self) -> Box:
        ink = [c for c in self.chars if c.text.strip()] or self.chars
        return (min(c.x0 for c in ink), min(c.y0 for c in ink), max(c.x1 for c in ink), max(c.y1 for c in ink))

    @property
    def baseline(self) -> float:
        return self.chars[0].baseline

    @property
    def size(self) -> float:
        return max(c.size for c in self.chars)

    @property
    def centre(self) -> float:
        b = self.box
        return (b[0] + b[2]) / 2


@dataclass
class PageText:
    index: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)
    words: list[tuple[str, Box]] = field(default_factory=list)

    def text_in(self, box: Box, *, ignore: tuple[Line, ...] = ()) -> str | None:
        """The first word of the draft that overlaps ``box``, or None when the area is clear."""
        skip = {id(c) for line in ignore for c in line.chars}
        for line in self.lines:
            for word, wbox, chars in _words(line):
                if any(id(c) in skip for c in chars):
                    continue
                if overlaps(box, wbox):
                    return word
        for word, wbox in self.words:  # rotated or skewed text
            if overlaps(box, wbox):
                return word
        return None


def overlaps(a: Box, b: Box) -> bool:
    return (min(a[2], b[2]) - max(a[0], b[0]) > _TOUCH) and (min(a[3], b[3]) - max(a[1], b[1]) > _TOUCH)


def norm(text: str) -> str:
    """For comparing a line with an expected text: NFC, upper case, single spaces."""
    return " ".join(unicodedata.normalize("NFC", text).upper().split())


def _words(line: Line):
    cur: list[Char] = []
    out = []

    def flush() -> None:
        if cur:
            out.append(("".join(c.text for c in cur),
                        (min(c.x0 for c in cur), min(c.y0 for c in cur), max(c.x1 for c in cur),
                         max(c.y1 for c in cur)), list(cur)))
            cur.clear()

    for c in line.chars:
        if not c.text.strip():
            flush()
            continue
        if cur and c.x0 - cur[-1].x1 > _WORD_GAP * c.size:
            flush()
        cur.append(c)
    flush()
    return out


def _collect(obj, upright: list[Char], other: list[tuple[str, Box]]) -> None:
    from pdfminer.layout import LTChar

    if isinstance(obj, LTChar):
        a, b, c, d, e, f = obj.matrix
        text = unicodedata.normalize("NFC", obj.get_text())
        if abs(b) < 1e-6 and abs(c) < 1e-6 and a > 0 and d > 0:
            upright.append(Char(text, obj.x0, obj.y0, obj.x1, obj.y1, f, obj.size))
        elif text.strip():
            other.append((text, (obj.x0, obj.y0, obj.x1, obj.y1)))
        return
    try:
        children = list(obj)
    except TypeError:
        return
    for child in children:
        _collect(child, upright, other)


def _lines(chars: list[Char]) -> list[Line]:
    rows: dict[float, list[Char]] = {}
    for ch in sorted(chars, key=lambda c: (-round(c.baseline, 1), c.x0)):
        key = next((k for k in rows if abs(k - ch.baseline) <= 0.2 * ch.size), None)
        rows.setdefault(key if key is not None else ch.baseline, []).append(ch)
    lines: list[Line] = []
    for _, row in sorted(rows.items(), key=lambda kv: -kv[0]):
        row.sort(key=lambda c: c.x0)
        cur: list[Char] = []
        last_ink: Char | None = None
        for ch in row:
            if last_ink is not None and ch.text.strip() and ch.x0 - last_ink.x1 > _COLUMN_GAP * ch.size:
                lines.append(Line(_strip(cur)))
                cur = []
            cur.append(ch)
            if ch.text.strip():
                last_ink = ch
        if _strip(cur):
            lines.append(Line(_strip(cur)))
    return [line for line in lines if line.chars]


def _strip(chars: list[Char]) -> list[Char]:
    i, j = 0, len(chars)
    while i < j and not chars[i].text.strip():
        i += 1
    while j > i and not chars[j - 1].text.strip():
        j -= 1
    return chars[i:j]


def read_pages(pdf: bytes, wanted: str = "first_last") -> dict[int, PageText]:
    """The text of page 0 and the last two pages (``wanted="first_last"``), keyed by page index."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    try:
        parser = PDFParser(io.BytesIO(pdf))
        doc = PDFDocument(parser)
        pages = list(PDFPage.create_pages(doc))
    except Exception as exc:  # pdfminer raises many kinds on a damaged file
        raise InvalidDocument("Không đọc được nội dung chữ của tệp PDF.") from exc
    n = len(pages)
    indices = sorted({0, max(0, n - 2), n - 1}) if n else []
    rm = PDFResourceManager()
    device = PDFPageAggregator(rm, laparams=LAParams(all_texts=True))
    interpreter = PDFPageInterpreter(rm, device)
    out: dict[int, PageText] = {}
    for i in indices:
        page = pages[i]
        try:
            interpreter.process_page(page)
            layout = device.get_result()
        except Exception as exc:  # noqa: BLE001 - a page we cannot read has no usable text
            raise InvalidDocument(f"Không đọc được nội dung chữ của trang {i + 1}.") from exc
        upright: list[Char] = []
        other: list[tuple[str, Box]] = []
        _collect(layout, upright, other)
        x0, y0, x1, y1 = page.mediabox
        out[i] = PageText(index=i, width=float(x1 - x0), height=float(y1 - y0), lines=_lines(upright), words=other)
    return out


# ------------------------------------------------------------------------------- the blanks

@dataclass(frozen=True)
class Blank:
    """Room left in a line: between ``x0`` and ``x1`` on the line's ``baseline``."""

    page: int
    x0: float
    x1: float
    baseline: float
    size: float
    line: Line


@dataclass(frozen=True)
class NumberBlank(Blank):
    suffix: str = ""  # what follows the blank, e.g. "/UBND-TP"


@dataclass(frozen=True)
class DateBlanks:
    day: Blank
    month: Blank
    year: int | None


_NUMBER_RE = re.compile(r"^Số\s*:(\s+)(/\S+)", re.IGNORECASE)
_DATE_RE = re.compile(r"ngày(\s+)tháng(\s+)năm\s*(\d{4})?", re.IGNORECASE)


def _blank(page: PageText, line: Line, start: int, end: int) -> Blank:
    """The room of the blank characters ``line.chars[start:end]``."""
    left = line.chars[start - 1].x1 if start > 0 else line.box[0]
    right = line.chars[end].x0 if end < len(line.chars) else line.box[2]
    return Blank(page.index, left, right, line.baseline, line.size, line)


def number_blank(page: PageText) -> NumberBlank | None:
    """The blank of the ``Số:      /UBND-TP`` line, if the page has one."""
    for line in page.lines:
        m = _NUMBER_RE.match(line.text)
        if m:
            b = _blank(page, line, m.start(1), m.end(1))
            return NumberBlank(b.page, b.x0, b.x1, b.baseline, b.size, line, suffix=m.group(2))
    return None


def date_blanks(page: PageText) -> DateBlanks | None:
    """The day and month blanks of the ``…, ngày    tháng    năm 2026`` line, if the page has one."""
    for line in page.lines:
        m = _DATE_RE.search(line.text)
        if m:
            return DateBlanks(_blank(page, line, m.start(1), m.end(1)), _blank(page, line, m.start(2), m.end(2)),
                              int(m.group(3)) if m.group(3) else None)
    return None


# ------------------------------------------------------------------------------- the signer block

_PREFIX_RE = re.compile(r"^(TM|Q|KT|TL|TUQ)\.")


@dataclass(frozen=True)
class SignerBlock:
    """The signer block the draft already carries: authority line(s), position, printed name."""

    page: int
    authority: tuple[Line, ...]
    position: Line
    name: Line
    room: Box  # the clear area between the position line and the name


def _same_column(a: Line, b: Line) -> bool:
    ab, bb = a.box, b.box
    return min(ab[2], bb[2]) > max(ab[0], bb[0]) or abs(a.centre - b.centre) < 40


def signer_block(pages: dict[int, PageText], *, full_name: str, position_lines: list[str]) -> SignerBlock | None:
    """The typed signer block of ``full_name`` on the last pages: the line above the name in the
    same column must be the position (one of ``position_lines``, possibly after a prefix, e.g.
    ``Q. CHỦ TỊCH``); authority lines directly above it are collected."""
    name_n = norm(full_name)
    accepted = {norm(p) for p in position_lines}
    for index in sorted(pages, reverse=True):
        page = pages[index]
        for ni, name in enumerate(page.lines):
            if norm(name.text) != name_n:
                continue
            above = [ln for ln in page.lines[:ni] if ln.baseline > name.baseline and _same_column(ln, name)]
            if not above:
                continue
            position = min(above, key=lambda ln: ln.baseline)
            pos_n = norm(position.text)
            if pos_n not in accepted and not any(re.fullmatch(r"(TM|Q|KT|TL|TUQ)\.\s*" + re.escape(a), pos_n)
                                                 for a in accepted):
                continue
            authority: list[Line] = []
            cursor = position
            for ln in sorted((a for a in above if a.baseline > position.baseline), key=lambda ln: ln.baseline):
                if ln.baseline - cursor.baseline > 2.2 * cursor.size or not _PREFIX_RE.match(norm(ln.text)):
                    break
                authority.insert(0, ln)
                cursor = ln
            pb, nb = position.box, name.box
            half = max(pb[2] - pb[0], nb[2] - nb[0], 170.0) / 2
            cx = (position.centre + name.centre) / 2
            room = (max(0.0, cx - half), nb[3], min(page.width, cx + half), pb[1])
            return SignerBlock(index, tuple(authority), position, name, room)
    return None
