"""Appearances placed where the draft left room (Decree 30 layout), never over the draft's text.

- :func:`personal_in_draft`: the signature image between the position line and the printed name the
  draft already carries, plus the authority line(s) above the position when the draft lacks them;
  without a typed signer block, the full appearance in the agency's configured box.
- :func:`number_in_draft`, :func:`date_in_draft`: the number in the blank of ``Số:      /UBND-TP``,
  day and month in the blanks of ``…, ngày    tháng    năm 2026``; without them, the whole
  ``Số: 01/UBND-TP`` / date line in the configured boxes.
- :func:`seal_in_draft`: the seal over the left third of the signature image.

Everything drawn is checked against the draft's words; where it would touch one, :class:`Conflict`
(409) says which page, what and where, instead of overlapping.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ioffice.kernel.errors import Conflict, InvalidInput

from .base import DEFAULT_SEAL_DIAMETER_MM, MM, FontKey, VisibleSignature
from .decree30 import number_date_mark, personal_signature, seal_signature
from .dev_images import dev_signature_png
from .draft_text import Box, PageText, date_blanks, norm, number_blank, signer_block
from .fonts import _nfc, text_width
from .images import _prepare_image
from .placement import _ASCENT, _DESCENT, _LEADING, _authority_lines, _fit_image, _round_box
from .stamps import ImageElement, OfficialStampStyle, TextElement

_GAP = 3.0  # points kept clear between what we add and the draft's lines
_MIN_ROOM = 30.0  # the least height for a signature image
_MIN_SCALE = 0.75  # a number/day/month may be set this much smaller than its line to fit


def _where(box: Box) -> str:
    return f"x={box[0]:.0f}–{box[2]:.0f}, y={box[1]:.0f}–{box[3]:.0f} pt"


def _no_room(page: int, what: str, box: Box, word: str | None = None, **extra) -> Conflict:
    hit = f": chỗ đó đã có chữ «{word}» của văn bản" if word else ""
    return Conflict(f"Không còn chỗ trống để đặt {what} trên trang {page + 1} ({_where(box)}){hit}. "
                    "Hãy sửa dự thảo để chừa chỗ (theo mẫu Nghị định 30/2020/NĐ-CP) rồi trình lại.",
                    page=page + 1, element=what, box=[round(v, 1) for v in box], word=word, **extra)


def _check_clear(page: PageText, box: Box, what: str, **ignore) -> None:
    word = page.text_in(box, **ignore)
    if word is not None:
        raise _no_room(page.index, what, box, word)


def _page_of(pages: dict[int, PageText], index: int) -> PageText:
    return pages[index if index >= 0 else max(pages)]


def _text_extent(text: str, font: FontKey, size: float, x: float, baseline: float, align: str = "center") -> Box:
    w = text_width(text, font, size)
    left = x - (w / 2 if align == "center" else w if align == "right" else 0)
    return (left, baseline - size * _DESCENT, left + w, baseline + size * _ASCENT)


def _texts_signature(page: int, items: list[tuple[str, FontKey, float, float, float]]) -> VisibleSignature:
    """A text-only appearance: each item (text, font, size, centre x, baseline) exactly where given."""
    extents = [_text_extent(t, f, s, x, b) for t, f, s, x, b in items]
    box = _round_box((min(e[0] for e in extents) - 1, min(e[1] for e in extents) - 1,
                      max(e[2] for e in extents) + 1, max(e[3] for e in extents) + 1))
    texts = tuple(TextElement(t, x - box[0], b - box[1], font=f, size=s, align="center") for t, f, s, x, b in items)
    style = OfficialStampStyle(design_size=(box[2] - box[0], box[3] - box[1]), texts=texts)
    return VisibleSignature(page=page, box=box, stamp_style=style)


# --------------------------------------------------------------------------- personal signature

@dataclass(frozen=True)
class PersonalPlacement:
    appearance: VisibleSignature
    image_box: Box
    in_draft: bool  # the draft's own signer block is used


def _room_image_box(room: Box, aspect: float) -> Box:
    x0, y0, x1, y1 = room
    ix, iy, iw, ih = _fit_image((x0, y0 + _GAP, x1 - x0, y1 - y0 - 2 * _GAP), aspect)
    return (ix, iy, ix + iw, iy + ih)


def personal_in_draft(
    pages: dict[int, PageText], *, position: str, full_name: str, authority: str | None,
    signature_png: bytes | None, fallback_box: Box, font_size: float = 13.0,
) -> PersonalPlacement:
    """Where and how the personal signature goes on this draft (see the module docstring)."""
    full_name = " ".join(_nfc(full_name).split())
    if not full_name:
        raise InvalidInput("Thiếu họ tên người ký.")
    top_lines = _authority_lines(authority, position)
    block = signer_block(pages, full_name=full_name, position_lines=[position, top_lines[-1]])
    if block is None:
        vs = personal_signature(position=position, full_name=full_name, authority=authority,
                                signature_png=signature_png, box=fallback_box, font_size=font_size)
        last = _page_of(pages, -1)
        _check_clear(last, vs.box, "chữ ký của người ký")
        return PersonalPlacement(vs, vs.image_box or vs.box, False)
    page = pages[block.page]
    room = block.room
    if room[3] - room[1] - 2 * _GAP < _MIN_ROOM:
        raise _no_room(block.page, "ảnh chữ ký (giữa dòng chức vụ và họ tên người ký)", room)
    _check_clear(page, room, "ảnh chữ ký (giữa dòng chức vụ và họ tên người ký)",
                 ignore=(block.position, block.name))
    if norm(block.position.text) != norm(top_lines[-1]):
        raise Conflict(f"Dự thảo ghi chức vụ «{block.position.text}» nhưng người ký ký với thẩm quyền "
                       f"«{top_lines[-1]}»: hãy sửa dòng chức vụ trong dự thảo.", page=block.page + 1)
    png = signature_png if signature_png is not None else dev_signature_png(full_name)
    image = _prepare_image(png, 900)
    ib = _room_image_box(room, image.aspect)
    items: list[tuple[str, FontKey, float, float, float]] = []
    missing = top_lines[:-1] if not block.authority else []
    pos = block.position
    size = pos.size
    for k, line in enumerate(reversed(missing), start=1):
        baseline = pos.baseline + k * size * _LEADING
        ext = _text_extent(line, "bold", size, pos.centre, baseline)
        ext = (ext[0], ext[1], ext[2], ext[3])
        _check_clear(page, ext, f"dòng thẩm quyền ký «{line}»")
        items.append((line, "bold", size, pos.centre, baseline))
    extents = [_text_extent(t, f, s, x, b) for t, f, s, x, b in items] + [ib]
    box = _round_box((min(e[0] for e in extents) - 1, min(e[1] for e in extents) - 1,
                      max(e[2] for e in extents) + 1, max(e[3] for e in extents) + 1))
    texts = tuple(TextElement(t, x - box[0], b - box[1], font=f, size=s, align="center") for t, f, s, x, b in items)
    style = OfficialStampStyle(
        design_size=(box[2] - box[0], box[3] - box[1]), texts=texts,
        images=(ImageElement(image, ib[0] - box[0], ib[1] - box[1], ib[2] - ib[0], ib[3] - ib[1]),),
    )
    vs = VisibleSignature(page=block.page, box=box, stamp_style=style, image_box=_round_box(ib))
    return PersonalPlacement(vs, _round_box(ib), True)


# --------------------------------------------------------------------------- the agency seal

def seal_in_draft(
    pages: dict[int, PageText], *, signer_name: str | None, signer_position: str | None, signer_authority: str | None,
    seal_png: bytes | None, agency_name: str, fallback_box: Box, diameter_mm: float | None = None,
) -> VisibleSignature:
    """The seal over the left third of where the signature image is (found the same way as when
    signing); the seal's disc must not cover the draft's words."""
    image_box: Box | None = None
    page_index = -1
    if signer_name and signer_position:
        top_lines = _authority_lines(signer_authority, signer_position)
        block = signer_block(pages, full_name=signer_name, position_lines=[signer_position, top_lines[-1]])
        if block is not None:
            image_box = _round_box(_room_image_box(block.room, 2.5))
            page_index = block.page
    vs = seal_signature(seal_png=seal_png, personal_box=fallback_box, personal_image_box=image_box,
                        diameter_mm=diameter_mm, agency_name=agency_name)
    vs = VisibleSignature(page=page_index, box=vs.box, stamp_style=vs.stamp_style, image_box=vs.image_box)
    check_disc_clear(_page_of(pages, page_index), vs.box, "con dấu của cơ quan")
    return vs


def check_disc_clear(page: PageText, box: Box, what: str) -> None:
    """The disc inscribed in ``box`` touches none of the page's words."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    r = min(box[2] - box[0], box[3] - box[1]) / 2 - 1.0
    for line in page.lines:
        for ch in line.chars:
            if not ch.text.strip():
                continue
            dx = max(ch.x0 - cx, 0.0, cx - ch.x1)
            dy = max(ch.y0 - cy, 0.0, cy - ch.y1)
            if math.hypot(dx, dy) < r:
                raise _no_room(page.index, what, box, line.text.strip())


def seal_room_ok(pages: dict[int, PageText], placement: PersonalPlacement) -> None:
    """At signing: the seal the clerk adds at issue (default size, over the left third of the image,
    see :func:`seal_signature`) will find room, so that issuing does not stop on it later."""
    if not placement.in_draft:
        return
    ib = placement.image_box
    d = DEFAULT_SEAL_DIAMETER_MM * MM
    x2 = ib[0] + (ib[2] - ib[0]) / 3
    cy = (ib[1] + ib[3]) / 2
    check_disc_clear(pages[placement.appearance.page], (x2 - d, cy - d / 2, x2, cy + d / 2),
                     "con dấu của cơ quan (đóng khi phát hành)")


# --------------------------------------------------------------------------- number and date

def _fit_in_blank(text: str, font: FontKey, size: float, width: float) -> float | None:
    w = text_width(text, font, size)
    if w + 2 <= width:
        return size
    s = size * (width - 2) / w if w else size
    return s if s >= size * _MIN_SCALE else None


def _symbol_key(s: str) -> str:
    return "".join(norm(s).split())


def number_in_draft(pages: dict[int, PageText], *, number: str, symbol: str, page: int,
                    fallback_box: Box) -> VisibleSignature:
    """The number in the draft's ``Số:      /…`` blank; the draft's symbol part must be the one
    issued (else Conflict). Without such a line: ``Số: <symbol>`` in ``fallback_box``."""
    p = pages.get(page) or pages[0]
    blank = number_blank(p)
    if blank is None:
        vs = number_date_mark(text=f"Số: {symbol}", box=fallback_box, page=page)
        _check_clear(p, _mark_extent(vs, f"Số: {symbol}", "regular"), "số, ký hiệu văn bản")
        return vs
    expected_suffix = symbol[symbol.index("/"):] if "/" in symbol else ""
    if _symbol_key(blank.suffix) != _symbol_key(expected_suffix):
        raise Conflict(f"Dự thảo ghi ký hiệu «{blank.suffix}» nhưng văn bản được cấp số, ký hiệu «{symbol}»: hãy sửa "
                       "ký hiệu trong dự thảo (hoặc loại văn bản, đơn vị soạn thảo) cho khớp.",
                       page=blank.page + 1, draft_symbol=blank.suffix, symbol=symbol)
    box = (blank.x0, blank.line.box[1], blank.x1, blank.line.box[3])
    size = _fit_in_blank(number, "regular", blank.size, blank.x1 - blank.x0)
    if size is None:
        raise _no_room(blank.page, f"số văn bản «{number}»", box)
    # right against the symbol: "Số: 01/UBND-TP"
    centre = blank.x1 - 0.3 - text_width(number, "regular", size) / 2
    return _texts_signature(blank.page, [(number, "regular", size, centre, blank.baseline)])


def date_in_draft(pages: dict[int, PageText], *, day: str, month: str, year: int, date_line: str, page: int,
                  fallback_box: Box) -> VisibleSignature:
    """Day and month in the blanks of the draft's date line (italic, like the line); the year the draft
    typed must be the issue year. Without such a line: ``date_line`` in ``fallback_box``."""
    p = pages.get(page) or pages[0]
    found = date_blanks(p)
    if found is None:
        vs = number_date_mark(text=date_line, box=fallback_box, page=page, italic=True)
        _check_clear(p, _mark_extent(vs, date_line, "italic"), "ngày, tháng ban hành")
        return vs
    if found.year is not None and found.year != year:
        raise Conflict(f"Dự thảo ghi năm {found.year} nhưng văn bản được ban hành năm {year}: hãy sửa dòng ngày "
                       "tháng trong dự thảo.", page=found.day.page + 1)
    items: list[tuple[str, FontKey, float, float, float]] = []
    for text, blank, what in ((day, found.day, "ngày"), (month, found.month, "tháng")):
        size = _fit_in_blank(text, "italic", blank.size, blank.x1 - blank.x0)
        if size is None:
            raise _no_room(blank.page, f"{what} ban hành «{text}»", (blank.x0, blank.line.box[1], blank.x1,
                                                                    blank.line.box[3]))
        items.append((text, "italic", size, (blank.x0 + blank.x1) / 2, blank.baseline))
    return _texts_signature(found.day.page, items)


def _mark_extent(vs: VisibleSignature, text: str, font: FontKey) -> Box:
    """What :func:`number_date_mark` actually inks in its box (centred text), for the overlap check."""
    texts = vs.stamp_style.texts  # type: ignore[attr-defined]
    t = texts[0]
    x0, y0 = vs.box[0], vs.box[1]
    ext = _text_extent(t.text, font, t.size, x0 + t.x, y0 + t.baseline)
    return ext


__all__ = ["PersonalPlacement", "date_in_draft", "number_in_draft", "personal_in_draft", "seal_in_draft",
           "seal_room_ok", "check_disc_clear", "MM"]
