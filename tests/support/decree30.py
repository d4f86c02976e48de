"""Drafts laid out like the Decree 30/2020/ND-CP templates (Appendix I), in Vietnamese, as a drafting
officer types them: the number left blank (``Số:      /UBND-TP``), day and month left blank in the
date line, and the signer block already typed (authority line, position, room for the signature,
printed name). Generated with reportlab in Liberation Serif, the font the project ships.
"""
from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONTS = Path(__file__).resolve().parents[2] / "signing" / "assets" / "fonts"
W, H = A4
MM = 72 / 25.4
LEFT_C = 57 + 95  # centre of the left header column
RIGHT_C = 395  # centre of the right header column
SIGN_C = 430  # centre of the signer block
BODY_SIZE = 14
ROOM = 110.0  # points left blank between the position line and the printed name


def _fonts() -> None:
    if "D30" in pdfmetrics.getRegisteredFontNames():
        return
    for name, file in (("D30", "Regular"), ("D30-B", "Bold"), ("D30-I", "Italic")):
        pdfmetrics.registerFont(TTFont(name, str(FONTS / f"LiberationSerif-{file}.ttf")))


def _centred(c, text: str, x: float, y: float, font: str, size: float) -> None:
    c.setFont(font, size)
    c.drawCentredString(x, y, text)


def _underline(c, text: str, x: float, y: float, font: str, size: float, frac: float = 1.0) -> None:
    w = c.stringWidth(text, font, size) * frac
    c.setLineWidth(0.6)
    c.line(x - w / 2, y, x + w / 2, y)


def _wrap(c, text: str, font: str, size: float, width: float) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        cand = f"{cur} {w}".strip()
        if c.stringWidth(cand, font, size) <= width:
            cur = cand
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def draft(
    *,
    kind: str = "cong_van",
    symbol_suffix: str = "/UBND-TP",
    place: str = "Yên Khánh",
    year: int = 2026,
    authority: tuple[str, ...] = ("TM. ỦY BAN NHÂN DÂN",),
    position: str = "CHỦ TỊCH",
    signer: str = "Phạm Văn Đức",
    room: float = ROOM,
    body_paragraphs: int = 3,
    number_blank: str = "      ",
    day_blank: str = "      ",
) -> bytes:
    """A one-page draft. ``kind`` ``cong_van`` (V/v line under the number, "Kính gửi") or
    ``quyet_dinh`` (type name and trích yếu centred, articles). ``authority`` lines are typed above
    the position (empty: the draft leaves them to the signing software)."""
    _fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    c.setTitle("Dự thảo")
    y0 = H - 20 * MM - 13
    # --- header, left: issuing body
    _centred(c, "ỦY BAN NHÂN DÂN", LEFT_C, y0, "D30", 13)
    _centred(c, "HUYỆN YÊN KHÁNH", LEFT_C, y0 - 16, "D30-B", 13)
    _underline(c, "HUYỆN YÊN KHÁNH", LEFT_C, y0 - 20, "D30-B", 13, 0.5)
    _centred(c, f"Số:{number_blank}{symbol_suffix}", LEFT_C, y0 - 42, "D30", 13)
    # --- header, right: national title and date line
    _centred(c, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", RIGHT_C, y0, "D30-B", 12)
    _centred(c, "Độc lập - Tự do - Hạnh phúc", RIGHT_C, y0 - 16, "D30-B", 13)
    _underline(c, "Độc lập - Tự do - Hạnh phúc", RIGHT_C, y0 - 20, "D30-B", 13)
    _centred(c, f"{place}, ngày{day_blank}tháng{day_blank}năm {year}", RIGHT_C, y0 - 42, "D30-I", 13)
    y = y0 - 62
    if kind == "cong_van":
        for line in ("V/v báo cáo kết quả công tác", "tư pháp năm 2026"):
            _centred(c, line, LEFT_C, y, "D30", 12)
            y -= 14
        y -= 20
        _centred(c, "Kính gửi: Ủy ban nhân dân tỉnh Ninh Bình.", W / 2, y, "D30", 14)
        y -= 30
        body = ("Thực hiện Văn bản số 1234/UBND-VP ngày 10 tháng 01 năm 2026 của Ủy ban nhân dân tỉnh về việc "
                "báo cáo kết quả công tác tư pháp, Ủy ban nhân dân huyện Yên Khánh báo cáo như sau: công tác "
                "xây dựng, kiểm tra và rà soát văn bản quy phạm pháp luật được thực hiện đúng quy định.")
    else:
        y -= 10
        _centred(c, "QUYẾT ĐỊNH", W / 2, y, "D30-B", 14)
        y -= 18
        for line in ("Về việc phê duyệt kế hoạch chuyển đổi số", "trên địa bàn huyện năm 2026"):
            _centred(c, line, W / 2, y, "D30-B", 14)
            y -= 17
        y -= 10
        _centred(c, "CHỦ TỊCH ỦY BAN NHÂN DÂN HUYỆN YÊN KHÁNH", W / 2, y, "D30-B", 14)
        y -= 28
        body = ("Điều 1. Phê duyệt kế hoạch chuyển đổi số trên địa bàn huyện năm 2026 kèm theo Quyết định "
                "này. Điều 2. Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng và Thủ trưởng các "
                "cơ quan, đơn vị có liên quan chịu trách nhiệm thi hành Quyết định này.")
    left, right = 30 * MM, W - 15 * MM
    for _ in range(body_paragraphs):
        for line in _wrap(c, body, "D30", BODY_SIZE, right - left - 30):
            c.setFont("D30", BODY_SIZE)
            c.drawString(left + 30, y, line)
            y -= BODY_SIZE * 1.3
        y -= 6
    # --- signer block (right) and recipients (left)
    y -= 14
    top = y
    c.setFont("D30-B", 12)
    c.drawString(left, top, "Nơi nhận:")
    for i, line in enumerate(("- Như trên;", "- Chủ tịch, các PCT UBND huyện;", "- Lưu: VT, TP.")):
        c.setFont("D30", 11)
        c.drawString(left, top - 14 - 13 * i, line)
    for line in authority:
        _centred(c, line, SIGN_C, y, "D30-B", 13)
        y -= 16
    _centred(c, position, SIGN_C, y, "D30-B", 13)
    y -= room
    _centred(c, signer, SIGN_C, y, "D30-B", 13)
    c.showPage()
    c.save()
    return buf.getvalue()
