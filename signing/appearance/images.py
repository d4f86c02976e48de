"""Signature and seal images: checked, normalised and embedded once per document."""
from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from ioffice.kernel.errors import InvalidInput

from .fonts import _writer_cache


@dataclass(frozen=True, eq=False)
class _PreparedImage:
    """A PNG decoded into PDF image XObject data (RGB + optional soft mask), precompressed."""

    digest: str
    width: int
    height: int
    rgb: bytes  # FlateDecode-compressed 8-bit RGB
    alpha: bytes | None  # FlateDecode-compressed 8-bit grey soft mask
    dpi: float | None

    @property
    def aspect(self) -> float:
        return self.width / self.height


@lru_cache(maxsize=128)
def _prepare_image(png: bytes, max_px: int) -> _PreparedImage:
    """Decode ``png`` once (cached by content), trimmed to its ink, at most ``max_px`` a side.

    Raises InvalidInput for undecodable or fully transparent data.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        img: Image.Image = Image.open(io.BytesIO(png))
        img.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInput("Tệp ảnh chữ ký hoặc con dấu không đọc được (cần ảnh PNG).") from exc
    dpi = img.info.get("dpi")
    dpi_x = float(dpi[0]) if dpi and dpi[0] and dpi[0] > 1 else None
    img = img.convert("RGBA")
    # trim transparent margins so that the image box is the ink (placement of the seal, real size)
    ink = img.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    if ink is None:
        raise InvalidInput("Ảnh chữ ký hoặc con dấu không có nét nào (ảnh trong suốt hoàn toàn).")
    pad = max(1, round(0.01 * max(img.size)))
    img = img.crop(
        (max(0, ink[0] - pad), max(0, ink[1] - pad), min(img.width, ink[2] + pad), min(img.height, ink[3] + pad))
    )
    if max(img.size) > max_px:
        scale = max_px / max(img.size)
        if dpi_x:
            dpi_x *= scale
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
            Image.Resampling.LANCZOS,
        )
    alpha = img.getchannel("A")
    lo = cast(int, alpha.getextrema()[0])  # one band: (min, max)
    rgb = img.convert("RGB")
    if lo < 255:
        # invisible pixels get one colour (the ink's) so the colour plane compresses well
        hidden = alpha.point(lambda a: 255 if a == 0 else 0)
        opaque = alpha.point(lambda a: 255 if a > 200 else 0)
        box = opaque.getbbox()
        fill: tuple[int, ...] = (0, 0, 0)
        if box is not None:
            from PIL import ImageStat

            fill = tuple(int(v) for v in ImageStat.Stat(rgb, opaque).median)
        rgb.paste(fill, mask=hidden)
    return _PreparedImage(
        digest=hashlib.sha256(png).hexdigest(),
        width=img.width,
        height=img.height,
        rgb=zlib.compress(rgb.tobytes(), 6),
        alpha=None if lo == 255 else zlib.compress(alpha.tobytes(), 6),
        dpi=dpi_x,
    )


def _embed_image(writer: BasePdfFileWriter, image: _PreparedImage) -> generic.IndirectObject:
    cache = _writer_cache(writer)
    ref = cache.get(("image", image.digest, image.width))
    if ref is not None:
        return ref

    def stream(cs: str, data: bytes) -> generic.StreamObject:
        return generic.StreamObject(
            {
                pdf_name("/Type"): pdf_name("/XObject"),
                pdf_name("/Subtype"): pdf_name("/Image"),
                pdf_name("/Width"): generic.NumberObject(image.width),
                pdf_name("/Height"): generic.NumberObject(image.height),
                pdf_name("/ColorSpace"): pdf_name(cs),
                pdf_name("/BitsPerComponent"): generic.NumberObject(8),
                pdf_name("/Filter"): pdf_name("/FlateDecode"),
            },
            encoded_data=data,
        )

    img = stream("/DeviceRGB", image.rgb)
    if image.alpha is not None:
        img[pdf_name("/SMask")] = writer.add_object(stream("/DeviceGray", image.alpha))
    ref = cache[("image", image.digest, image.width)] = writer.add_object(img)
    return ref
