"""Static stamping of a certified electronic copy before it is signed.

Nothing is drawn over the scan: page 1 is enlarged upwards by a band holding the electronic-copy
mark and the QR code (top right), and the last page is enlarged downwards by a band holding the
certification block ("Chứng thực bản sao đúng với bản chính.", number, book, date line) and the
place where the certifier's signature and the agency's seal go (filled by the signatures
themselves, see :func:`signature_box`). Page content streams are untouched apart from the
appended overlay; only the MediaBox/CropBox grow. The copy's code is also written into the
document information dictionary (``/IofficeCopyCode``) so a validator can find the copy from the
file alone.

Rendering uses reportlab (Liberation Serif, covers Vietnamese) and the QR code is drawn as vector
squares from ``segno`` (error correction M), so it stays sharp at any zoom and scans reliably.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pypdf import PageObject
    from reportlab.pdfgen.canvas import Canvas

from ioffice.kernel.errors import InvalidDocument

FONTS_DIR = Path(__file__).resolve().parent / "assets" / "fonts"
MM = 72 / 25.4
TOP_BAND = 36 * MM  # height added above page 1
BOTTOM_BAND = 78 * MM  # height added below the last page
MIN_WIDTH = 160 * MM  # pages narrower than this (ID cards…) are widened to the right
MARGIN = 12 * MM
QR_SIZE = 28 * MM
INFO_KEY = "/IofficeCopyCode"
_F, _FB, _FI = "CopySerif", "CopySerif-Bold", "CopySerif-Italic"


@dataclass(frozen=True)
class CopyLayout:
    """Where the signatures go (PDF points, page default user space, last page)."""

    personal_box: tuple[float, float, float, float]
    last_page: int


def _fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _F in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(_F, str(FONTS_DIR / "LiberationSerif-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(_FB, str(FONTS_DIR / "LiberationSerif-Bold.ttf")))
    pdfmetrics.registerFont(TTFont(_FI, str(FONTS_DIR / "LiberationSerif-Italic.ttf")))


def _fit(c: Canvas, text: str, font: str, size: float, width: float) -> float:
    w = c.stringWidth(text, font, size)
    return size if w <= width else max(5.0, size * width / w)


def _draw_qr(c: Canvas, url: str, x: float, y: float, size: float) -> None:
    import segno

    qr = segno.make(url, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix) + 8  # 4-module quiet zone each side
    m = size / n
    c.setFillColorRGB(1, 1, 1)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        for col, v in enumerate(row):
            if v:
                c.rect(x + (col + 4) * m, y + size - (r + 5) * m, m, m, stroke=0, fill=1)


def signature_box(width: float, bottom: float) -> tuple[float, float, float, float]:
    """The certifier's signature box in the bottom band of a page ``width`` wide whose band starts
    at ``bottom`` (negative y)."""
    x2 = width - MARGIN
    x1 = max(width / 2, x2 - 240)
    return (round(x1, 2), round(bottom + 6, 2), round(x2, 2), round(bottom + BOTTOM_BAND - 34, 2))


def _overlay(width: float, height: float, draw: Callable[[Canvas], None]) -> PageObject:
    from pypdf import PdfReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(width, height))
    draw(c)
    c.showPage()
    c.save()
    return PdfReader(io.BytesIO(buf.getvalue())).pages[0]


def prepare_certified_copy(
    pdf: bytes, *, code: str, verify_url: str, number: int, book: str, date_line: str, agency_name: str,
) -> tuple[bytes, CopyLayout]:
    """Add the top band (mark + QR) to page 1 and the bottom band (certification block) to the last
    page. Returns the new PDF and where the certifier's signature goes."""
    from pypdf import PdfReader, PdfWriter, Transformation
    from pypdf.generic import NameObject, RectangleObject, TextStringObject

    _fonts()
    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf), strict=False))
    except Exception as exc:  # pypdf raises many kinds on a hostile file
        raise InvalidDocument("Không đọc được cấu trúc tệp PDF (tệp hỏng).") from exc
    pages = writer.pages
    for p in pages:
        if p.get("/Rotate", 0) % 360:
            p.transfer_rotation_to_content()

    def grow(page: PageObject, *, top: float = 0.0, bottom: float = 0.0) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = (float(v) for v in page.mediabox)
        x1 = max(x1, x0 + MIN_WIDTH)
        box = RectangleObject((x0, y0 - bottom, x1, y1 + top))
        page.mediabox = box
        page.cropbox = box
        for name in ("/BleedBox", "/TrimBox", "/ArtBox"):
            if name in page:
                del page[NameObject(name)]
        return x0, y0 - bottom, x1, y1 + top

    first, last = pages[0], pages[-1]
    # --- page 1: top band with the electronic-copy mark and the QR code (top right)
    x0, y0, x1, y1 = grow(first, top=TOP_BAND)
    w, h = x1 - x0, y1 - y0

    def draw_top(c: Canvas) -> None:
        band_y = h - TOP_BAND
        c.setStrokeColorRGB(0.6, 0.6, 0.6)
        c.setLineWidth(0.5)
        c.line(MARGIN / 2, band_y, w - MARGIN / 2, band_y)
        qx = w - MARGIN - QR_SIZE
        qy = band_y + (TOP_BAND - QR_SIZE) / 2
        _draw_qr(c, verify_url, qx, qy, QR_SIZE)
        right = qx - 3 * MM
        avail = right - MARGIN
        lines = [
            ("BẢN SAO ĐIỆN TỬ CHỨNG THỰC TỪ BẢN CHÍNH", _FB, 11),
            (agency_name, _F, 10),
            (f"Số chứng thực: {number:02d} — Quyển số: {book}", _F, 10),
            (f"Mã xác thực: {code}", _F, 9),
            ("Quét mã QR hoặc truy cập:", _FI, 8),
            (verify_url, _F, 8),
        ]
        y = h - 5 * MM - 10
        for text, font, size in lines:
            s = _fit(c, text, font, size, avail)
            c.setFont(font, s)
            c.setFillColorRGB(0, 0, 0)
            c.drawRightString(right, y, text)
            y -= s * 1.3

    first.merge_transformed_page(_overlay(w, h, draw_top), Transformation().translate(x0, y0))

    # --- last page: bottom band with the certification block
    x0, y0, x1, y1 = grow(last, bottom=BOTTOM_BAND)
    w, h = x1 - x0, y1 - y0
    sig_box = signature_box(w, 0.0)

    def draw_bottom(c: Canvas) -> None:
        c.setStrokeColorRGB(0.6, 0.6, 0.6)
        c.setLineWidth(0.5)
        c.line(MARGIN / 2, BOTTOM_BAND, w - MARGIN / 2, BOTTOM_BAND)
        c.setFillColorRGB(0, 0, 0)
        left_w = sig_box[0] - MARGIN - 4 * MM
        y = BOTTOM_BAND - 8 * MM
        for text, font, size in (("Chứng thực bản sao đúng với bản chính.", _FB, 12),
                                 (f"Số chứng thực: {number:02d}", _F, 12),
                                 (f"Quyển số: {book}", _F, 12)):
            s = _fit(c, text, font, size, left_w)
            c.setFont(font, s)
            c.drawString(MARGIN, y, text)
            y -= s * 1.5
        cx = (sig_box[0] + sig_box[2]) / 2
        s = _fit(c, date_line, _FI, 12, sig_box[2] - sig_box[0] + 2 * MM)
        c.setFont(_FI, s)
        c.drawCentredString(cx, sig_box[3] + 10, date_line)

    last.merge_transformed_page(_overlay(w, h, draw_bottom), Transformation().translate(x0, y0))
    box = (round(sig_box[0] + x0, 2), round(sig_box[1] + y0, 2), round(sig_box[2] + x0, 2), round(sig_box[3] + y0, 2))
    writer.add_metadata({INFO_KEY: TextStringObject(code)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), CopyLayout(personal_box=box, last_page=len(pages) - 1)


_CODE_RE = re.compile(rb"/IofficeCopyCode\s*\(([A-Z2-7]{32})\)")


def embedded_code(pdf: bytes) -> str | None:
    """The copy code written into the document information dictionary, if any (the last one).

    A plain byte search (linear, no PDF parsing): this runs on untrusted uploads in the service
    process, outside the isolated validator."""
    found = None
    for m in _CODE_RE.finditer(pdf):
        found = m.group(1).decode("ascii")
    return found
