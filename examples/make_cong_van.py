"""Generates examples/cong-van.pdf, the sample incoming letter the README's curl example uploads.
Run once (the PDF is committed): .venv/bin/python examples/make_cong_van.py"""
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parents[1]
FONTS = ROOT / "signing" / "assets" / "fonts"
pdfmetrics.registerFont(TTFont("Serif", str(FONTS / "LiberationSerif-Regular.ttf")))
pdfmetrics.registerFont(TTFont("Serif-Bold", str(FONTS / "LiberationSerif-Bold.ttf")))
pdfmetrics.registerFont(TTFont("Serif-Italic", str(FONTS / "LiberationSerif-Italic.ttf")))

out = Path(__file__).with_name("cong-van.pdf")
c = canvas.Canvas(str(out), pagesize=A4, invariant=1)
c.setTitle("Công văn về việc báo cáo số liệu (mẫu)")
w, h = A4
c.setFont("Serif", 13)
c.drawCentredString(160, h - 60, "UBND TỈNH NINH BÌNH")
c.setFont("Serif-Bold", 13)
c.drawCentredString(160, h - 76, "SỞ TƯ PHÁP")
c.setFont("Serif-Bold", 13)
c.drawCentredString(410, h - 60, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
c.drawCentredString(410, h - 76, "Độc lập - Tự do - Hạnh phúc")
c.setFont("Serif", 13)
c.drawCentredString(160, h - 104, "Số: 125/STP-VP")
c.setFont("Serif-Italic", 13)
c.drawCentredString(410, h - 104, "Ninh Bình, ngày 02 tháng 3 năm 2026")
c.setFont("Serif", 12)
c.drawCentredString(160, h - 124, "V/v báo cáo số liệu công tác tư pháp")
c.setFont("Serif", 13)
c.drawCentredString(w / 2, h - 170, "Kính gửi: Ủy ban nhân dân huyện Yên Khánh")
body = [
    "Thực hiện chương trình công tác năm 2026, Sở Tư pháp đề nghị Ủy ban nhân dân huyện",
    "Yên Khánh báo cáo số liệu công tác tư pháp quý I năm 2026 (theo mẫu kèm theo).",
    "",
    "Báo cáo gửi về Sở Tư pháp trước ngày 20 tháng 3 năm 2026 để tổng hợp.",
    "",
    "Trân trọng./.",
]
y = h - 210
for line in body:
    c.drawString(85, y, line)
    y -= 20
c.setFont("Serif-Bold", 11)
c.drawString(70, y - 30, "Nơi nhận:")
c.setFont("Serif", 10)
c.drawString(70, y - 45, "- Như trên;")
c.drawString(70, y - 58, "- Lưu: VT, VP.")
c.setFont("Serif-Bold", 13)
c.drawCentredString(430, y - 30, "KT. GIÁM ĐỐC")
c.drawCentredString(430, y - 46, "PHÓ GIÁM ĐỐC")
c.drawCentredString(430, y - 130, "Trần Văn Minh")
c.showPage()
c.save()
print(out)
