"""The scan a certifier uploads: one PDF, or page images (JPEG/PNG) turned into a PDF at their
real size without re-encoding (img2pdf embeds JPEG as is and PNG losslessly).

Warnings (not errors) for pages scanned below 200 dpi or in greyscale: the certifier decides.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

from ..documents.pdfcheck import inspect_pdf
from ..kernel.errors import InvalidDocument, InvalidInput

MIN_DPI = 200
MAX_IMAGES = 200


@dataclass
class Scan:
    pdf: bytes
    pages: int
    source: str  # pdf | images
    warnings: list[str] = field(default_factory=list)


def _kind(data: bytes) -> str:
    if data[:1024].find(b"%PDF-") >= 0:
        return "pdf"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return "other"


def _image_page(data: bytes, index: int, warnings: list[str]) -> bytes:
    """Bytes img2pdf can embed; adds the low-resolution / greyscale warnings for page ``index``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            dpi = im.info.get("dpi")
            mode = im.mode
            if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info):
                # img2pdf refuses an alpha channel: flatten on white, still lossless PNG.
                bg = Image.new("RGB", im.size, (255, 255, 255))
                bg.paste(im.convert("RGBA"), mask=im.convert("RGBA").getchannel("A"))
                buf = io.BytesIO()
                bg.save(buf, "PNG", dpi=dpi) if dpi else bg.save(buf, "PNG")
                data = buf.getvalue()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidInput(f"Ảnh trang {index} không đọc được (tệp JPEG/PNG hỏng).") from exc
    try:
        x_dpi = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        x_dpi = 0.0
    if not x_dpi:
        warnings.append(f"Trang {index}: ảnh không ghi độ phân giải, coi là 96 dpi (dưới {MIN_DPI} dpi).")
    elif x_dpi < MIN_DPI - 0.5:
        warnings.append(f"Trang {index}: độ phân giải {round(x_dpi)} dpi, thấp hơn {MIN_DPI} dpi.")
    if mode in ("1", "L", "LA", "I", "I;16", "F"):
        warnings.append(f"Trang {index}: ảnh quét đen trắng/thang xám, không phải ảnh màu.")
    return data


def read_scan(parts: list[bytes]) -> Scan:
    """One PDF, or one or more JPEG/PNG page images in order. Raises InvalidInput/InvalidDocument."""
    parts = [p for p in parts if p]
    if not parts:
        raise InvalidInput("Thiếu tệp bản chụp (file): một tệp PDF hoặc các ảnh trang JPEG/PNG.")
    kinds = [_kind(p) for p in parts]
    if "pdf" in kinds:
        if len(parts) != 1:
            raise InvalidInput("Chỉ gửi một tệp PDF, hoặc nhiều ảnh trang JPEG/PNG — không trộn lẫn.")
        pages = inspect_pdf(io.BytesIO(parts[0]))
        return Scan(pdf=parts[0], pages=pages, source="pdf")
    if "other" in kinds:
        bad = kinds.index("other") + 1
        raise InvalidDocument(f"Tệp thứ {bad} không phải PDF, JPEG hay PNG.", reason="not_pdf")
    if len(parts) > MAX_IMAGES:
        raise InvalidInput(f"Tối đa {MAX_IMAGES} ảnh trang.")
    import img2pdf

    warnings: list[str] = []
    images = [_image_page(p, i + 1, warnings) for i, p in enumerate(parts)]
    try:
        pdf = img2pdf.convert(images, rotation=img2pdf.Rotation.ifvalid)
    except Exception as exc:  # img2pdf raises several of its own classes on odd images
        raise InvalidInput("Không chuyển được ảnh trang thành PDF (ảnh hỏng hoặc định dạng không hỗ trợ).") from exc
    return Scan(pdf=pdf, pages=len(images), source="images", warnings=warnings)
