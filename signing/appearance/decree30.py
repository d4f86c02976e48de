"""The appearances Decree 30/2020/ND-CP asks for: personal signature, agency seal, attachment mark,
certified-copy mark, number/date line."""
from __future__ import annotations

from typing import Literal

from ioffice.kernel.errors import InvalidInput

from .base import COPY_FORMS, DEFAULT_SEAL_DIAMETER_MM, MM, FontKey, VisibleSignature
from .dev_images import dev_seal_png, dev_signature_png
from .fonts import _nfc
from .images import _prepare_image
from .placement import (
    _ASCENT,
    _DESCENT,
    _LEADING,
    _PAD,
    DEFAULT_PERSONAL_BOX,
    _authority_lines,
    _default_image_box,
    _fit_image,
    _fit_size,
    _personal_geometry,
    _round_box,
    _top_right_mark,
)
from .stamps import ImageElement, OfficialStampStyle, TextElement


def personal_signature(
    *,
    position: str,
    full_name: str,
    authority: str | None = None,
    signature_png: bytes | None = None,
    page: int = -1,
    box: tuple[float, float, float, float] | None = None,
    font_size: float = 13.0,
    include_text: bool = True,
) -> VisibleSignature:
    """The signer's personal signature: authority line(s) and position (bold, upper case), the
    blue signature image centred below them, the printed name (bold) under the image.

    ``signature_png`` defaults to a generated development signature (:func:`dev_signature_png`).
    ``box`` defaults to :data:`DEFAULT_PERSONAL_BOX` (lower right of A4). ``include_text=False``
    draws only the image (for documents that already print position and name).
    Raises InvalidInput for a bad authority prefix, an empty name/position, an undecodable image
    or a box too small.
    """
    full_name = " ".join(_nfc(full_name).split())
    if not full_name:
        raise InvalidInput("Thiếu họ tên người ký.")
    top_lines = _authority_lines(authority, position)
    box = _round_box(box or DEFAULT_PERSONAL_BOX)
    width, height = box[2] - box[0], box[3] - box[1]
    png = signature_png if signature_png is not None else dev_signature_png(full_name)
    image = _prepare_image(png, 900)
    if include_text:
        geo = _personal_geometry(width, height, top_lines, full_name, font_size)
        slot = geo.slot
    else:
        geo = None
        slot = (_PAD, _PAD, width - 2 * _PAD, height - 2 * _PAD)
    ix, iy, iw, ih = _fit_image(slot, image.aspect)
    texts: list[TextElement] = []
    if geo is not None:
        leading = geo.size * _LEADING
        for i, line in enumerate(geo.top_lines):
            texts.append(
                TextElement(
                    line, width / 2, height - _PAD - geo.size * _ASCENT - i * leading,
                    font="bold", size=geo.size, align="center",
                )
            )
        texts.append(
            TextElement(full_name, width / 2, _PAD + geo.size * _DESCENT + (leading - geo.size) / 2,
                        font="bold", size=geo.size, align="center")
        )
    style = OfficialStampStyle(
        design_size=(width, height),
        texts=tuple(texts),
        images=(ImageElement(image, ix, iy, iw, ih),),
    )
    image_box = _round_box((box[0] + ix, box[1] + iy, box[0] + ix + iw, box[1] + iy + ih))
    return VisibleSignature(page=page, box=box, stamp_style=style, image_box=image_box)


def seal_signature(
    *,
    seal_png: bytes | None = None,
    personal_box: tuple[float, float, float, float],
    page: int = -1,
    personal_image_box: tuple[float, float, float, float] | None = None,
    diameter_mm: float | None = None,
    agency_name: str | None = None,
) -> VisibleSignature:
    """The agency's seal: the red seal image at real size, vertically centred on the personal
    signature image and covering its left third.

    Pass ``personal_image_box`` (``VisibleSignature.image_box`` of the personal signature) for an
    exact placement; otherwise it is derived from ``personal_box`` with the default layout.
    Real size: ``diameter_mm`` if given, else the PNG's DPI when it gives 25–50 mm, else 38 mm.
    ``seal_png`` defaults to :func:`dev_seal_png` of ``agency_name``.
    Raises InvalidInput for an undecodable image.
    """
    png = seal_png if seal_png is not None else dev_seal_png(agency_name or "CƠ QUAN THỬ NGHIỆM")
    image = _prepare_image(png, 700)
    if diameter_mm is None:
        diameter_mm = DEFAULT_SEAL_DIAMETER_MM
        if image.dpi:
            real = max(image.width, image.height) / image.dpi * 25.4
            if 25 <= real <= 50:
                diameter_mm = real
    size = diameter_mm * MM
    if image.aspect >= 1:
        w, h = size, size / image.aspect
    else:
        w, h = size * image.aspect, size
    ib = _round_box(personal_image_box) if personal_image_box else _default_image_box(personal_box)
    img_w = ib[2] - ib[0]
    cy = (ib[1] + ib[3]) / 2
    x2 = ib[0] + img_w / 3
    box = _round_box((x2 - w, cy - h / 2, x2, cy + h / 2))
    style = OfficialStampStyle(
        design_size=(box[2] - box[0], box[3] - box[1]),
        images=(ImageElement(image, 0, 0, box[2] - box[0], box[3] - box[1]),),
    )
    return VisibleSignature(page=page, box=box, stamp_style=style, image_box=box)


def attachment_mark(*, number_symbol: str, page_width: float, page_height: float) -> VisibleSignature:
    """Agency signature on an attachment sent as a separate file: top right of page 1, no image,
    10 pt black: the number/symbol, then the signing time (ISO 8601, +07:00).

    Raises InvalidInput for an empty number/symbol or a bad page size.
    """
    number_symbol = " ".join(_nfc(number_symbol).split())
    if not number_symbol:
        raise InvalidInput("Thiếu số, ký hiệu văn bản.")
    return _top_right_mark(
        [(number_symbol, "regular", False), ("", "regular", True)], page_width, page_height
    )


def copy_mark(*, copy_form: str, agency_name: str, page_width: float, page_height: float) -> VisibleSignature:
    """Agency signature on an electronic copy (sao y, sao lục, trích sao): top right of page 1,
    no image: the copy form (bold), the copying body's name, the signing time (ISO 8601).

    Raises InvalidInput for an unknown copy form, an empty agency name or a bad page size.
    """
    form = " ".join(_nfc(copy_form).split()).upper()
    if form not in COPY_FORMS:
        raise InvalidInput("Hình thức sao phải là SAO Y, SAO LỤC hoặc TRÍCH SAO.")
    agency_name = " ".join(_nfc(agency_name).split())
    if not agency_name:
        raise InvalidInput("Thiếu tên cơ quan, tổ chức sao văn bản.")
    return _top_right_mark(
        [(form, "bold", False), (agency_name, "regular", False), ("", "regular", True)],
        page_width, page_height,
    )


def number_date_mark(
    *,
    text: str,
    box: tuple[float, float, float, float],
    page: int = 0,
    font_size: float = 13.0,
    italic: bool = False,
    align: Literal["left", "center", "right"] = "center",
) -> VisibleSignature:
    """A text-only mark (e.g. ``Số: 05/QĐ-UBND`` or ``Yên Ninh, ngày 05 tháng 3 năm 2024``, the
    latter usually ``italic``) drawn in ``box``; lines split on newlines, shrunk to fit.

    Raises InvalidInput for empty text or a box too small for one line.
    """
    lines = [" ".join(_nfc(line).split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise InvalidInput("Thiếu nội dung cần đóng lên văn bản.")
    box = _round_box(box)
    width, height = box[2] - box[0], box[3] - box[1]
    font: FontKey = "italic" if italic else "regular"
    size = _fit_size([(t, font) for t in lines], font_size, width - 2 * _PAD, 6.0)
    size = min(size, (height - 2 * _PAD) / (len(lines) * _LEADING))
    if size < 5:
        raise InvalidInput("Khung số, ngày văn bản quá nhỏ.")
    leading = size * _LEADING
    block = len(lines) * leading
    top = (height + block) / 2
    x = {"left": _PAD, "center": width / 2, "right": width - _PAD}[align]
    texts = tuple(
        TextElement(t, x, top - size * _ASCENT - (leading - size) / 2 - i * leading,
                    font=font, size=size, align=align)
        for i, t in enumerate(lines)
    )
    style = OfficialStampStyle(design_size=(width, height), texts=texts)
    return VisibleSignature(page=page, box=box, stamp_style=style)
