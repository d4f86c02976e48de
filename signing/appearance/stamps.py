"""The pyHanko stamp that draws our text and image elements inside a signature's box."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStamp, TextStampStyle

from .base import _PYHANKO_TS_FORMAT, FontKey, signing_time_text
from .fonts import _embed_font, _font, _nfc
from .images import _embed_image, _PreparedImage


@dataclass(frozen=True)
class TextElement:
    """One line of text. ``x`` is the left edge, centre or right edge per ``align``; ``baseline``
    is measured from the bottom of the box. ``signing_time`` lines show the signing time instead
    of ``text``."""

    text: str
    x: float
    baseline: float
    font: FontKey = "regular"
    size: float = 10.0
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    align: Literal["left", "center", "right"] = "left"
    signing_time: bool = False


@dataclass(frozen=True)
class ImageElement:
    """An image drawn in the rectangle ``(x, y, width, height)`` of the box."""

    image: _PreparedImage
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class OfficialStampStyle(TextStampStyle):
    """A fixed layout of text lines and images designed for a box of ``design_size`` points.

    Subclasses :class:`TextStampStyle` only so that pyHanko passes it the signing time
    (``text_params['ts']``); ``stamp_text`` is not used.
    """

    design_size: tuple[float, float] = (100.0, 50.0)
    texts: tuple[TextElement, ...] = ()
    images: tuple[ImageElement, ...] = ()
    border_width: int = 0
    background: None = None
    timestamp_format: str = _PYHANKO_TS_FORMAT

    def create_stamp(  # type: ignore[override]  # pyHanko uses only the BaseStamp API of the result
        self,
        writer: BasePdfFileWriter,
        box: layout.BoxConstraints,
        text_params: dict[str, Any],
    ) -> OfficialStamp:
        return OfficialStamp(writer=writer, style=self, box=box, text_params=text_params)


def _parse_pyhanko_ts(value: str | None) -> datetime:
    if value:
        for fmt in (_PYHANKO_TS_FORMAT, "%Y-%m-%dT%H:%M:%S"):
            try:
                dt = datetime.strptime(value, fmt)
            except ValueError:
                continue
            return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return datetime.now(UTC)


class OfficialStamp(BaseStamp):
    """Renders an :class:`OfficialStampStyle` into a form XObject."""

    style: OfficialStampStyle

    def __init__(
        self,
        writer: BasePdfFileWriter,
        style: OfficialStampStyle,
        box: layout.BoxConstraints | None = None,
        text_params: dict | None = None,
    ) -> None:
        if box is None or not (box.width_defined and box.height_defined):
            dw, dh = style.design_size
            box = layout.BoxConstraints(width=dw, height=dh)
        super().__init__(writer=writer, style=style, box=box)
        self.text_params = dict(text_params or {})

    def _render_inner_content(self) -> list[bytes]:
        style = self.style
        writer = self.writer
        assert writer is not None
        dw, dh = style.design_size
        sx = self.box.width / dw if dw else 1.0
        sy = self.box.height / dh if dh else 1.0
        ops: list[bytes] = [b"q"]
        if abs(sx - 1) > 1e-6 or abs(sy - 1) > 1e-6:
            ops.append(b"%.4f 0 0 %.4f 0 0 cm" % (sx, sy))
        for i, im in enumerate(style.images):
            name = f"/Im{i}"
            self.set_resource(ResourceType.XOBJECT, pdf_name(name), _embed_image(writer, im.image))
            ops.append(
                b"q %.3f 0 0 %.3f %.3f %.3f cm %s Do Q"
                % (im.width, im.height, im.x, im.y, name.encode("ascii"))
            )
        if style.texts:
            ts_text = None
            ops.append(b"BT")
            current_color = None
            for t in style.texts:
                prog = _font(t.font)
                res_name = {"regular": "/FR", "bold": "/FB", "italic": "/FI"}[t.font]
                self.set_resource(ResourceType.FONT, pdf_name(res_name), _embed_font(writer, prog))
                if t.signing_time:
                    if ts_text is None:
                        ts_text = signing_time_text(_parse_pyhanko_ts(self.text_params.get("ts")))
                    text = ts_text
                else:
                    text = _nfc(t.text)
                width = prog.advance(text) * t.size
                x = t.x - (width / 2 if t.align == "center" else width if t.align == "right" else 0)
                if t.color != current_color:
                    ops.append(b"%.3f %.3f %.3f rg" % t.color)
                    current_color = t.color
                ops.append(
                    b"%s %.2f Tf 1 0 0 1 %.3f %.3f Tm %s Tj"
                    % (res_name.encode("ascii"), t.size, x, t.baseline, prog.encode(text))
                )
            ops.append(b"ET")
        ops.append(b"Q")
        return ops
