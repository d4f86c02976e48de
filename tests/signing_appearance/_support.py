"""Helpers for the appearance tests: the test PKI's seal as signer, small PDFs, poppler tools, pixels."""
from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from reportlab.lib.pagesizes import A4

from signing.appearance import VisibleSignature
from tests.support import pdfs
from tests.support.pki import offline_pki

A4_W, A4_H = A4
ISO_VN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00")
DPI = 100


def make_signer(label: str = "seal") -> signers.SimpleSigner:
    """The agency's seal certificate ("UBND huyện Yên Khánh") of the one test PKI."""
    return offline_pki().simple_signer(label)


def make_pdf(pages: int = 1) -> bytes:
    """A small A4 PDF with some body text on each page (the shared maker, with body lines)."""
    return pdfs.make_pdf(pages, body_lines=12)


def resolve_page(pdf: bytes, page: int) -> int:
    if page >= 0:
        return page
    reader = PdfFileReader(io.BytesIO(pdf))
    return int(reader.root["/Pages"]["/Count"]) + page


def sign(pdf: bytes, vs: VisibleSignature, field_name: str, signer: signers.SimpleSigner) -> bytes:
    """Sign ``pdf`` with pyHanko directly, creating the field the way the engine does."""
    page = resolve_page(pdf, vs.page)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name=field_name),
        signer=signer,
        stamp_style=vs.stamp_style,
        new_field_spec=fields.SigFieldSpec(field_name, on_page=page, box=vs.box),
    )
    return pdf_signer.sign_pdf(writer, appearance_text_params=vs.text_params).getvalue()


def run(args: list[str], tmp: Path, pdf: bytes, name: str = "doc.pdf") -> str:
    path = tmp / name
    path.write_bytes(pdf)
    proc = subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=60)
    return proc.stdout + proc.stderr


def pdftotext(tmp: Path, pdf: bytes) -> str:
    path = tmp / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def word_boxes(tmp: Path, pdf: bytes, page: int = 0) -> list[tuple[str, float, float, float, float]]:
    """Words with (xMin, yMin, xMax, yMax) in points, y from the top of the page."""
    path = tmp / "bbox.pdf"
    path.write_bytes(pdf)
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page + 1), "-l", str(page + 1), str(path), "-"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    out = []
    for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html
    ):
        import html as _html

        out.append((_html.unescape(m.group(5)), *map(float, m.group(1, 2, 3, 4))))
    return out


def pdffonts(tmp: Path, pdf: bytes) -> list[list[str]]:
    text = run(["pdffonts"], tmp, pdf, "fonts.pdf")
    return [line.split() for line in text.splitlines()[2:] if line.strip()]


def pdfsig(tmp: Path, pdf: bytes) -> str:
    return run(["pdfsig"], tmp, pdf, "sig.pdf")


def render(tmp: Path, pdf: bytes, page: int = 0) -> Image.Image:
    path = tmp / "render.pdf"
    path.write_bytes(pdf)
    prefix = tmp / f"render-p{page}"
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(DPI), "-f", str(page + 1), "-l", str(page + 1),
         "-singlefile", str(path), str(prefix)],
        check=True, timeout=60,
    )
    return Image.open(f"{prefix}.png").convert("RGB")


@dataclass
class PixelCount:
    blue: int
    red: int
    dark: int
    total: int


def count_pixels(img: Image.Image, box: tuple[float, float, float, float], page_h: float = A4_H) -> PixelCount:
    """Classify the pixels inside ``box`` (PDF points, origin bottom left)."""
    k = DPI / 72
    x1, y1, x2, y2 = box
    crop = img.crop((int(x1 * k), int((page_h - y2) * k), int(x2 * k) + 1, int((page_h - y1) * k) + 1))
    blue = red = dark = 0
    data = crop.getdata()
    for r, g, b in data:
        if b > 140 and b - r > 70 and b - g > 50:
            blue += 1
        elif r > 150 and r - g > 80 and r - b > 80:
            red += 1
        elif r < 90 and g < 90 and b < 90:
            dark += 1
    return PixelCount(blue, red, dark, len(data))


def signature_times(pdf: bytes) -> list[datetime]:
    """The signing times the signers reported in their CMS signed attributes, in order."""
    reader = PdfFileReader(io.BytesIO(pdf))
    return [s.self_reported_timestamp for s in reader.embedded_signatures]
