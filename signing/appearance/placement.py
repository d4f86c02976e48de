"""Geometry: boxes, font sizes that fit, image fitting and the top-right marks."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ioffice.kernel.errors import InvalidInput

from .base import _TIME_SAMPLE, AUTHORITY_PREFIXES, MM, FontKey, VisibleSignature
from .fonts import _nfc, text_width
from .stamps import OfficialStampStyle, TextElement

_ASCENT = 0.891  # Liberation Serif ascender, em


_DESCENT = 0.216


_LEADING = 1.2


DEFAULT_PERSONAL_BOX = (305.0, 90.0, 545.0, 245.0)
"""Default box for the personal signature: lower right of an A4 page (points)."""


_PAD = 2.0


_GAP = 3.0


def _round_box(box) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    if x2 < x1:
        x1, x2 = x2, x1
    if y2 < y1:
        y1, y2 = y2, y1
    return (round(x1, 2), round(y1, 2), round(x2, 2), round(y2, 2))


def _fit_size(lines: list[tuple[str, FontKey]], size: float, max_width: float, min_size: float) -> float:
    widest = max((text_width(t, f, 1.0) for t, f in lines if t), default=0.0)
    if widest * size > max_width and widest > 0:
        size = max(min_size, max_width / widest)
    return size


_AUTHORITY_RE = re.compile(r"^(TM|Q|KT|TL|TUQ)\.\s*(.*)$")


def _authority_lines(authority: str | None, position: str) -> list[str]:
    """Lines above the image: the authority line(s), then the position (upper case).

    ``authority`` is either a bare prefix (``"Q."``), which is put before the position on the
    same line, or whole line(s) starting with a prefix (``"KT. CHỦ TỊCH"``,
    ``"TM. ỦY BAN NHÂN DÂN\\nKT. CHỦ TỊCH"``). Raises InvalidInput for anything else.
    """
    position = " ".join(_nfc(position).split()).upper()
    if not position:
        raise InvalidInput("Thiếu chức vụ của người ký.")
    if not authority or not authority.strip():
        return [position]
    lines = []
    for raw in _nfc(authority).splitlines():
        line = " ".join(raw.split()).upper()
        if not line:
            continue
        m = _AUTHORITY_RE.match(line)
        if m is None:
            raise InvalidInput(
                "Thẩm quyền ký phải bắt đầu bằng một trong các chữ viết tắt "
                "TM., Q., KT., TL., TUQ. (ví dụ: \"KT. CHỦ TỊCH\")."
            )
        lines.append(f"{m.group(1)}. {m.group(2)}".rstrip())
    if lines and lines[-1] in AUTHORITY_PREFIXES:  # a bare prefix goes before the position
        return lines[:-1] + [f"{lines[-1]} {position}"]
    return lines + [position]


@dataclass(frozen=True)
class _PersonalGeometry:
    top_lines: tuple[str, ...]
    size: float
    slot: tuple[float, float, float, float]  # image slot in box coordinates x, y, w, h


def _personal_geometry(
    width: float, height: float, top_lines: list[str], name: str, size: float = 13.0
) -> _PersonalGeometry:
    lines = [(t, "bold") for t in top_lines] + [(name, "bold")]
    size = _fit_size(lines, size, width - 2 * _PAD, 7.0)  # type: ignore[arg-type]
    leading = size * _LEADING
    top_block = len(top_lines) * leading
    slot_top = height - _PAD - top_block - _GAP
    slot_bottom = _PAD + leading + _GAP
    if slot_top - slot_bottom < 24:
        raise InvalidInput("Khung chữ ký quá nhỏ để đặt chức vụ, ảnh chữ ký và họ tên.")
    return _PersonalGeometry(
        top_lines=tuple(top_lines),
        size=size,
        slot=(_PAD, slot_bottom, width - 2 * _PAD, slot_top - slot_bottom),
    )


def _fit_image(slot: tuple[float, float, float, float], aspect: float, max_w_frac: float = 0.85):
    sx, sy, sw, sh = slot
    w = min(sw * max_w_frac, sh * aspect)
    h = w / aspect
    return (sx + (sw - w) / 2, sy + (sh - h) / 2, w, h)


def _default_image_box(personal_box) -> tuple[float, float, float, float]:
    """Where the signature image sits in a personal box laid out with two text lines above."""
    x1, y1, x2, y2 = _round_box(personal_box)
    geo = _personal_geometry(x2 - x1, y2 - y1, ["X", "X"], "X")
    sx, sy, sw, sh = _fit_image(geo.slot, 2.5)
    return (x1 + sx, y1 + sy, x1 + sx + sw, y1 + sy + sh)


_MARK_SIZE = 10.0


_MARK_RIGHT_MARGIN = 15 * MM


_MARK_TOP_MARGIN = 5 * MM


def _top_right_mark(
    lines: list[tuple[str, FontKey, bool]], page_width: float, page_height: float
) -> VisibleSignature:
    if page_width <= 0 or page_height <= 0:
        raise InvalidInput("Kích thước trang không hợp lệ.")
    measured = [(_TIME_SAMPLE if is_ts else t, f) for t, f, is_ts in lines]
    max_width = min(220.0, page_width - _MARK_RIGHT_MARGIN - 10)
    size = _fit_size(measured, _MARK_SIZE, max_width - 2 * _PAD, 6.0)
    leading = size * _LEADING
    width = max(text_width(t, f, size) for t, f in measured) + 2 * _PAD + 1
    height = len(lines) * leading + 2 * _PAD
    x2 = page_width - _MARK_RIGHT_MARGIN
    y2 = page_height - _MARK_TOP_MARGIN
    box = _round_box((x2 - width, y2 - height, x2, y2))
    width, height = box[2] - box[0], box[3] - box[1]
    texts = tuple(
        TextElement(
            "" if is_ts else text, _PAD, height - _PAD - size * _ASCENT - (leading - size) / 2 - i * leading,
            font=font, size=size, signing_time=is_ts,
        )
        for i, (text, font, is_ts) in enumerate(lines)
    )
    style = OfficialStampStyle(design_size=(width, height), texts=texts)
    return VisibleSignature(page=0, box=box, stamp_style=style)
