"""The scan intake without HTTP: images become a PDF at their real size, warnings, bad mixes."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from pypdf import PdfReader

from ioffice.copies.intake import read_scan
from ioffice.kernel.errors import InvalidDocument, InvalidInput
from tests.conftest import make_pdf


def _png(mode: str, size, dpi=None, colour=200) -> bytes:
    buf = io.BytesIO()
    im = Image.new(mode, size, colour if mode in ("L", "1") else (colour,) * len(mode))
    im.save(buf, "PNG", **({"dpi": dpi} if dpi else {}))
    return buf.getvalue()


def test_png_with_alpha_is_flattened_and_sized_by_its_dpi():
    scan = read_scan([_png("RGBA", (600, 300), dpi=(300, 300))])
    page = PdfReader(io.BytesIO(scan.pdf)).pages[0]
    assert scan.pages == 1 and scan.source == "images" and scan.warnings == []
    assert float(page.mediabox.width) == pytest.approx(144, abs=0.5)  # 600 px at 300 dpi = 2 in
    assert float(page.mediabox.height) == pytest.approx(72, abs=0.5)


def test_missing_dpi_and_greyscale_are_warned():
    scan = read_scan([_png("RGB", (100, 100)), _png("L", (100, 100), dpi=(300, 300))])
    assert scan.pages == 2
    assert any(w.startswith("Trang 1") and "độ phân giải" in w for w in scan.warnings)
    assert [w for w in scan.warnings if w.startswith("Trang 2")] == [
        "Trang 2: ảnh quét đen trắng/thang xám, không phải ảnh màu."]


def test_a_pdf_passes_through_untouched():
    pdf = make_pdf(pages=3)
    scan = read_scan([pdf])
    assert scan.pdf == pdf and scan.pages == 3 and scan.source == "pdf"


def test_bad_inputs():
    with pytest.raises(InvalidInput):
        read_scan([])
    with pytest.raises(InvalidInput):  # a PDF and an image mixed
        read_scan([make_pdf(), _png("RGB", (10, 10), dpi=(300, 300))])
    with pytest.raises(InvalidDocument):
        read_scan([b"GIF89a not supported"])
    with pytest.raises(InvalidInput):  # a truncated PNG
        read_scan([_png("RGB", (50, 50), dpi=(300, 300))[:60]])
    with pytest.raises(InvalidDocument):  # a truncated PDF
        read_scan([make_pdf()[:-20]])
