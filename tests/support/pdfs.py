"""The one PDF maker of the tests: small A4 documents generated with reportlab."""
from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

A4_W, A4_H = A4
DEFAULT_TEXT = "QUYET DINH so 05/QD-UBND"
AMOUNT_LINE = "So tien: 1.000.000 dong"  # tampering tests rewrite this amount in the raw bytes


def make_pdf(pages: int = 1, text: str = DEFAULT_TEXT, *, with_form: bool = False,
             body_lines: int = 0, lines: Sequence[tuple[float, float, str]] | None = None,
             font: Path | str | None = None) -> bytes:
    """An unsigned A4 PDF with uncompressed page content (so tests can edit it byte-wise).

    Each page shows ``text``, the page number with :data:`AMOUNT_LINE` and ``body_lines`` lines
    of body text; with ``with_form`` page 1 has an empty text field ``ghi_chu``.

    ``lines`` replaces that content with exactly these ``(x, y, text)`` on every page (12 pt;
    ``{page}`` in a text becomes the page number). ``font`` is a TrueType file for text beyond
    Latin-1 (Vietnamese); without it text is drawn in Helvetica.
    """
    font_name = "Helvetica"
    if font is not None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        font_name = Path(font).stem
        pdfmetrics.registerFont(TTFont(font_name, str(font)))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    for i in range(pages):
        if lines is not None:
            c.setFont(font_name, 12)
            for x, y, line in lines:
                c.drawString(x, y, line.replace("{page}", str(i + 1)))
            c.showPage()
            continue
        c.setFont("Helvetica", 14)
        c.drawString(72, 760, text)
        c.drawString(72, 740, f"Trang {i + 1}: {AMOUNT_LINE}")
        c.setFont("Times-Roman", 13)
        for k in range(body_lines):
            c.drawString(72, A4_H - 140 - 18 * k, "Lorem ipsum dolor sit amet, consectetur adipiscing.")
        if with_form and i == 0:
            c.acroForm.textfield(name="ghi_chu", x=72, y=600, width=300, height=24,
                                 borderWidth=1, value="")
        c.showPage()
    c.save()
    return buf.getvalue()
