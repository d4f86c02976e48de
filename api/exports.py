"""Register exports: CSV (UTF-8 with BOM, so Excel shows Vietnamese) and a printable A4 landscape PDF.

Both take an :class:`ioffice.registers.Register` and write exactly its rows and Vietnamese columns.
The PDF embeds Liberation Serif (vendored under ``signing/assets/fonts`` or the Debian
``fonts-liberation2`` package), which covers Vietnamese.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ioffice.kernel.errors import ServiceUnavailable
from ioffice.kernel.workcalendar import vn_now
from ioffice.registers.books import Register

_FONT_DIRS = [
    Path(__file__).resolve().parent.parent / "signing" / "assets" / "fonts",
    Path("/usr/share/fonts/truetype/liberation2"),
    Path("/usr/share/fonts/truetype/liberation"),
]
FONT = "RegisterSerif"
FONT_BOLD = "RegisterSerif-Bold"

# Relative column widths per register kind (summed and scaled to the page width).
_WIDTHS = {
    "incoming": [7, 5, 14, 10, 7, 30, 13, 7, 9],
    "outgoing": [11, 8, 30, 13, 16, 12, 6, 9],
    "copies": [8, 9, 15, 25, 6, 14, 8, 10],
    "follow-up": [6, 8, 30, 15, 8, 12, 12, 10],
}


def _neutralise(cell: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (= + - @, or a leading tab/CR) gets a
    leading apostrophe (OWASP CSV injection); numbers stay numbers."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def to_csv(register: Register) -> bytes:
    """The register as CSV: a BOM, one header row of Vietnamese labels, then the rows."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([label for _, label in register.columns])
    for row in register.rows:
        w.writerow([_neutralise(c) for c in register.cells(row)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def rows_to_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    """A report table as CSV (BOM, header row, rows), formula-like text cells neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([_neutralise(c) for c in header])
    for row in rows:
        w.writerow([_neutralise(c) for c in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _font_paths() -> tuple[Path, Path]:
    for d in _FONT_DIRS:
        reg, bold = d / "LiberationSerif-Regular.ttf", d / "LiberationSerif-Bold.ttf"
        if reg.is_file() and bold.is_file():
            return reg, bold
    raise ServiceUnavailable("Thiếu phông chữ tiếng Việt để xuất sổ (Liberation Serif).")


def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    reg, bold = _font_paths()
    pdfmetrics.registerFont(TTFont(FONT, str(reg)))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))


def to_pdf(register: Register, *, parent_body: str | None = None) -> bytes:
    """The register as a printable A4 landscape PDF with a repeated Vietnamese header row."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

    _register_fonts()
    page = landscape(A4)
    margin = 12 * mm
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=page, leftMargin=margin, rightMargin=margin, topMargin=margin,
                            bottomMargin=margin, title=register.title, author=register.organisation,
                            subject=register.title, creator="ioffice")
    body = ParagraphStyle("cell", fontName=FONT, fontSize=8.5, leading=10.5)
    head = ParagraphStyle("head", fontName=FONT_BOLD, fontSize=8.5, leading=10.5, alignment=TA_CENTER)
    org_style = ParagraphStyle("org", fontName=FONT_BOLD, fontSize=11, leading=14)
    small = ParagraphStyle("small", fontName=FONT, fontSize=10, leading=13)
    title = ParagraphStyle("title", fontName=FONT_BOLD, fontSize=15, leading=19, alignment=TA_CENTER)
    sub = ParagraphStyle("sub", fontName=FONT, fontSize=9, leading=12, alignment=TA_CENTER)

    story = []
    if parent_body:
        story.append(Paragraph(escape(parent_body.upper()), small))
    story.append(Paragraph(escape(register.organisation.upper()), org_style))
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph(escape(register.title), title))
    story.append(Paragraph(escape(f"Lập ngày {vn_now():%d/%m/%Y %H:%M} — {len(register.rows)} dòng"), sub))
    story.append(Spacer(1, 4 * mm))

    data = [[Paragraph(escape(label), head) for _, label in register.columns]]
    for row in register.rows:
        data.append([Paragraph(escape(c).replace("\n", "<br/>"), body) for c in register.cells(row)])
    if not register.rows:
        data.append([Paragraph("Chưa có văn bản nào trong sổ.", body)] + [""] * (len(register.columns) - 1))
    weights = _WIDTHS.get(register.kind) or [1] * len(register.columns)
    usable = page[0] - 2 * margin
    widths = [usable * w / sum(weights) for w in weights]
    table = LongTable(data, colWidths=widths, repeatRows=1)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if not register.rows:
        style.append(("SPAN", (0, 1), (-1, 1)))
    table.setStyle(TableStyle(style))
    story.append(table)

    def _footer(canvas: Any, d: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(page[0] - margin, 7 * mm, f"Trang {d.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue()
