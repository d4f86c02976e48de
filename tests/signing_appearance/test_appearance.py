"""Decree 30 signature appearances, signed with pyHanko and checked with poppler and pixels."""
from __future__ import annotations

import io
import re
import statistics
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import BoxConstraints

from ioffice.kernel.errors import InvalidInput
from signing import appearance as ap

from ._support import (
    A4_H,
    A4_W,
    ISO_VN,
    count_pixels,
    make_pdf,
    make_signer,
    pdffonts,
    pdfsig,
    pdftotext,
    render,
    run,
    sign,
    signature_times,
    word_boxes,
)

AGENCY = "UBND huyện Yên Khánh"


@pytest.fixture(scope="module")
def signer():
    return make_signer()


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return make_pdf(pages=2)


@pytest.fixture(scope="module")
def personal(pdf, signer):
    vs = ap.personal_signature(position="Phó Chủ tịch", authority="KT. Chủ tịch", full_name="Nguyễn Văn Ánh")
    return vs, sign(pdf, vs, "ChuKyCaNhan", signer)


@pytest.fixture(scope="module")
def sealed(personal, signer):
    vs_personal, signed = personal
    vs = ap.seal_signature(
        seal_png=ap.dev_seal_png(AGENCY, "Tỉnh Ninh Bình"),
        personal_box=vs_personal.box,
        personal_image_box=vs_personal.image_box,
    )
    return vs, sign(signed, vs, "ChuKyCoQuan", signer)


def _our_fonts(tmp: Path, pdf: bytes) -> list[list[str]]:
    return [row for row in pdffonts(tmp, pdf) if "LiberationSerif" in row[0]]


def _valid_signatures(tmp: Path, pdf: bytes) -> int:
    """Number of signatures pdfsig finds valid (none may be invalid); qpdf finds no error."""
    check = run(["qpdf", "--check"], tmp, pdf, "check.pdf")
    assert "No syntax or stream encoding errors found" in check, check
    report = pdfsig(tmp, pdf)
    assert "Signature is Invalid" not in report, report
    return report.count("Signature is Valid")


def _box_from_top(box):
    """(x1, top, x2, bottom) with y measured from the top of an A4 page, like pdftotext -bbox."""
    x1, y1, x2, y2 = box
    return x1, A4_H - y2, x2, A4_H - y1


# ---- personal signature ------------------------------------------------------------------


def test_personal_signature_shows_authority_position_image_and_name(personal, tmp_path):
    vs, signed = personal
    text = pdftotext(tmp_path, signed)
    for expected in ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn Ánh"):
        assert expected in text
    fonts = _our_fonts(tmp_path, signed)
    assert fonts and all(row[row.index("Identity-H") + 1] == "yes" for row in fonts), fonts
    assert _valid_signatures(tmp_path, signed) == 1

    # the personal signature goes on the last page by default
    assert vs.page == -1
    img = render(tmp_path, signed, page=1)
    px = count_pixels(img, vs.image_box)
    assert px.blue > 0.03 * px.total, px
    assert count_pixels(img, vs.box).red == 0

    # image centred between the position line and the printed name
    words = word_boxes(tmp_path, signed, page=1)
    position_bottom = max(w[4] for w in words if w[0] in ("PHÓ", "CHỦ", "TỊCH"))
    name_top = min(w[2] for w in words if w[0] in ("Nguyễn", "Văn", "Ánh"))
    ix1, itop, ix2, ibottom = _box_from_top(vs.image_box)
    assert position_bottom <= itop + 1 and ibottom <= name_top + 1
    k = 100 / 72
    blue_rows = [
        y for y in range(int(position_bottom * k), int(name_top * k))
        if any(
            b > 140 and b - r > 70
            for r, g, b in (img.getpixel((x, y)) for x in range(int(ix1 * k), int(ix2 * k)))
        )
    ]
    assert blue_rows, "no blue between the position line and the name"
    bx1, _, bx2, _ = vs.box
    assert abs((ix1 + ix2) / 2 - (bx1 + bx2) / 2) < 1.0
    name_words = [w for w in words if w[0] in ("Nguyễn", "Văn", "Ánh")]
    name_centre = (min(w[1] for w in name_words) + max(w[3] for w in name_words)) / 2
    assert abs(name_centre - (bx1 + bx2) / 2) < 3


def test_authority_forms(pdf, signer, tmp_path):
    # a bare prefix goes before the position on the same line (acting head)
    vs = ap.personal_signature(position="Chủ tịch", authority="Q.", full_name="Trần Thị Hồng Nhung")
    text = pdftotext(tmp_path, sign(pdf, vs, "Sig", signer))
    assert "Q. CHỦ TỊCH" in text and "Trần Thị Hồng Nhung" in text
    # two authority lines (on behalf of the collective, signing for the head)
    vs = ap.personal_signature(
        position="Phó Chủ tịch", authority="TM. Ủy ban nhân dân\nKT. Chủ tịch", full_name="Lê Đức Thọ"
    )
    text = pdftotext(tmp_path, sign(pdf, vs, "Sig", signer))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    i = lines.index("TM. ỦY BAN NHÂN DÂN")
    assert lines[i + 1 : i + 3] == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    # typed carelessly: prefix normalised to upper case with one space
    vs = ap.personal_signature(position="chánh văn phòng", authority="tl.chủ tịch", full_name="Đỗ Thị Ý")
    text = pdftotext(tmp_path, sign(pdf, vs, "Sig", signer))
    assert "TL. CHỦ TỊCH" in text and "CHÁNH VĂN PHÒNG" in text and "Đỗ Thị Ý" in text
    # no authority: just the position
    vs = ap.personal_signature(position="Chủ tịch", full_name="Phạm Minh Chính")
    text = pdftotext(tmp_path, sign(pdf, vs, "Sig", signer))
    assert "CHỦ TỊCH" in text and "KT." not in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"position": "Phó Chủ tịch", "authority": "Thay mặt Chủ tịch", "full_name": "A"},
        {"position": "", "full_name": "Nguyễn Văn Ánh"},
        {"position": "Chủ tịch", "full_name": "  "},
        {"position": "Chủ tịch", "full_name": "Nguyễn Văn Ánh", "signature_png": b"not a png"},
        {"position": "Chủ tịch", "full_name": "Nguyễn Văn Ánh", "box": (300, 100, 400, 130)},
    ],
)
def test_personal_signature_refuses_bad_input_in_vietnamese(kwargs):
    with pytest.raises(InvalidInput) as err:
        ap.personal_signature(**kwargs)
    assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", err.value.detail.lower())


# ---- seal --------------------------------------------------------------------------------


def test_seal_is_red_real_size_and_covers_left_third_of_signature(personal, sealed, tmp_path):
    vs_personal, _ = personal
    vs_seal, signed = sealed
    assert _valid_signatures(tmp_path, signed) == 2

    sx1, sy1, sx2, sy2 = vs_seal.box
    diameter_mm = (sx2 - sx1) / ap.MM
    assert 36 <= diameter_mm <= 40 and abs((sy2 - sy1) - (sx2 - sx1)) < 1

    ix1, iy1, ix2, iy2 = vs_personal.image_box
    img_w = ix2 - ix1
    overlap = min(sx2, ix2) - max(sx1, ix1)
    assert 0.25 <= overlap / img_w <= 0.45, (overlap, img_w)
    assert sx1 < ix1  # it is the *left* part that is covered
    assert sy1 < (iy1 + iy2) / 2 < sy2
    # and it overlaps the personal signature field itself
    px1, py1, px2, py2 = vs_personal.box
    assert sx2 > px1 and sx1 < px2 and sy2 > py1 and sy1 < py2

    img = render(tmp_path, signed, page=1)
    seal_px = count_pixels(img, vs_seal.box)
    assert seal_px.red > 0.08 * seal_px.total, seal_px
    # the right two thirds of the handwritten signature stay blue and uncovered
    right = count_pixels(img, (sx2 + 2, iy1, ix2, iy2))
    assert right.blue > 0.02 * right.total and right.red == 0, right
    img.crop(
        (int((sx1 - 20) * 100 / 72), int((A4_H - px2 - 200) * 100 / 72), img.width, img.height)
    ).save(tmp_path / "signature-block.png")
    print(f"\nsignature block rendering: {tmp_path / 'signature-block.png'}")


def test_seal_placement_without_image_box_and_png_dpi(personal):
    vs_personal, _ = personal
    vs = ap.seal_signature(personal_box=vs_personal.box, agency_name=AGENCY)
    sx1, _, sx2, _ = vs.box
    x1, _, x2, _ = vs_personal.box
    assert sx1 < x1 + (x2 - x1) / 3 < sx2 + 10
    assert 36 <= (sx2 - sx1) / ap.MM <= 40
    explicit = ap.seal_signature(personal_box=vs_personal.box, agency_name=AGENCY, diameter_mm=42)
    assert abs((explicit.box[2] - explicit.box[0]) / ap.MM - 42) < 0.05


# ---- attachment and copy marks -----------------------------------------------------------


def _assert_top_right_of_first_page(vs):
    x1, y1, x2, y2 = vs.box
    assert vs.page == 0
    assert x1 > A4_W / 2 and x2 <= A4_W - 10
    assert y1 > A4_H * 0.88 and y2 <= A4_H - 5


def test_attachment_mark(pdf, signer, tmp_path):
    vs = ap.attachment_mark(number_symbol="123/UBND-VP", page_width=A4_W, page_height=A4_H)
    _assert_top_right_of_first_page(vs)
    signed = sign(pdf, vs, "DinhKem", signer)
    text = pdftotext(tmp_path, signed)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    i = lines.index("123/UBND-VP")
    assert ISO_VN.fullmatch(lines[i + 1]), lines[i + 1]
    # the time shown is the signing time the signature carries, in Vietnam time
    (reported,) = signature_times(signed)
    assert lines[i + 1] == ap.signing_time_text(reported)
    assert _valid_signatures(tmp_path, signed) == 1
    assert _our_fonts(tmp_path, signed)
    px = count_pixels(render(tmp_path, signed), vs.box)
    assert px.dark > 0 and px.blue == 0 and px.red == 0
    # 10 pt text: word boxes about 10 pt tall
    words = word_boxes(tmp_path, signed)
    w = next(w for w in words if w[0] == "123/UBND-VP")
    assert 9 <= w[4] - w[2] <= 13, w


@pytest.mark.parametrize("form", ["SAO Y", "Sao lục", "TRÍCH SAO"])
def test_copy_mark(pdf, signer, tmp_path, form):
    vs = ap.copy_mark(copy_form=form, agency_name=AGENCY, page_width=A4_W, page_height=A4_H)
    _assert_top_right_of_first_page(vs)
    signed = sign(pdf, vs, "BanSao", signer)
    lines = [line.strip() for line in pdftotext(tmp_path, signed).splitlines() if line.strip()]
    i = lines.index(form.upper())
    assert lines[i + 1] == AGENCY
    assert ISO_VN.fullmatch(lines[i + 2])
    assert _valid_signatures(tmp_path, signed) == 1
    px = count_pixels(render(tmp_path, signed), vs.box)
    assert px.dark > 0 and px.blue == 0 and px.red == 0


def test_copy_mark_refuses_unknown_form():
    with pytest.raises(InvalidInput):
        ap.copy_mark(copy_form="BẢN CHỤP", agency_name=AGENCY, page_width=A4_W, page_height=A4_H)
    with pytest.raises(InvalidInput):
        ap.attachment_mark(number_symbol=" ", page_width=A4_W, page_height=A4_H)


def test_time_is_signing_time_in_vietnam_whatever_the_server_zone(pdf, signer, tmp_path):
    # 02:15:02 UTC is 09:15:02 in Hà Nội; this machine's local zone is not +07:00
    instant = datetime(2024, 2, 19, 2, 15, 2, tzinfo=UTC)
    vs = ap.attachment_mark(number_symbol="123/UBND-VP", page_width=A4_W, page_height=A4_H)
    with time_machine.travel(instant, tick=False):
        signed = sign(pdf, vs, "DinhKem", signer)
    assert "2024-02-19T09:15:02+07:00" in pdftotext(tmp_path, signed)
    assert ap.signing_time_text(datetime(2024, 2, 19, 4, 15, 2, tzinfo=timezone(timedelta(hours=2)))) == (
        "2024-02-19T09:15:02+07:00"
    )
    assert ap.signing_time_text(datetime(2024, 12, 31, 20, 0, 0)) == "2025-01-01T03:00:00+07:00"


def test_number_and_date_marks(pdf, signer, tmp_path):
    number = ap.number_date_mark(text="Số: 05/QĐ-UBND", box=(60, 700, 260, 720))
    date = ap.number_date_mark(
        text="Yên Ninh, ngày 05 tháng 3 năm 2024", box=(300, 700, 560, 720), italic=True
    )
    signed = sign(sign(pdf, number, "So", signer), date, "Ngay", signer)
    text = pdftotext(tmp_path, signed)
    assert "Số: 05/QĐ-UBND" in text and "Yên Ninh, ngày 05 tháng 3 năm 2024" in text
    assert _valid_signatures(tmp_path, signed) == 2
    names = {row[0].split("+")[-1] for row in _our_fonts(tmp_path, signed)}
    assert names == {"LiberationSerif", "LiberationSerif-Italic"}
    with pytest.raises(InvalidInput):
        ap.number_date_mark(text="Số: 05/QĐ-UBND", box=(60, 700, 260, 703))


# ---- development images ------------------------------------------------------------------


def test_dev_signature_png_is_blue_on_transparent():
    img = Image.open(io.BytesIO(ap.dev_signature_png("Nguyễn Văn Ánh"))).convert("RGBA")
    assert img.getpixel((0, 0))[3] == 0
    inked = [p for p in img.getdata() if p[3] > 200]
    assert len(inked) > 0.02 * img.width * img.height
    r, g, b = (statistics.mean(p[i] for p in inked) for i in range(3))
    assert b > 150 and b - r > 80 and b - g > 60
    assert ap.dev_signature_png("Nguyễn Văn Ánh") == ap.dev_signature_png("Nguyễn Văn Ánh")


def test_dev_seal_png_is_red_round_38mm():
    raw = ap.dev_seal_png(AGENCY)
    img = Image.open(io.BytesIO(raw)).convert("RGBA")
    dpi = Image.open(io.BytesIO(raw)).info["dpi"][0]
    assert 36 <= img.width / dpi * 25.4 <= 40 and img.width == img.height
    for corner in [(0, 0), (img.width - 1, 0), (0, img.height - 1)]:
        assert img.getpixel(corner)[3] == 0
    centre = img.getpixel((img.width // 2, img.height // 2))
    assert centre[3] > 200 and centre[0] > 150 and centre[1] < 60  # the star
    inked = [p for p in img.getdata() if p[3] > 200]
    assert all(p[0] > 150 and p[1] < 80 for p in inked[:: max(1, len(inked) // 500)])


# ---- cost --------------------------------------------------------------------------------


def _appearance_ms(vs, pdf: bytes, n: int = 30) -> tuple[float, float, int]:
    """(best, median) CPU milliseconds that building and serialising one appearance adds to an
    incremental update of ``pdf`` (baseline: the same update without it), and the bytes added.
    CPU time, not wall time: the figure should not depend on what else the machine runs."""

    def once(with_stamp: bool) -> tuple[float, int]:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        t0 = time.process_time()
        if with_stamp:
            x1, y1, x2, y2 = vs.box
            stamp = vs.stamp_style.create_stamp(
                writer, BoxConstraints(width=x2 - x1, height=y2 - y1), {"ts": "2024-02-19T02:15:02+0000"}
            )
            stamp.register()
        out = io.BytesIO()
        writer.write(out)
        return (time.process_time() - t0) * 1000, len(out.getvalue())

    base = [once(False) for _ in range(n)]
    full = [once(True) for _ in range(n)]
    best = min(t for t, _ in full) - min(t for t, _ in base)
    median = statistics.median(t for t, _ in full) - statistics.median(t for t, _ in base)
    return best, median, full[0][1] - base[0][1]


def test_report_appearance_cost(pdf, signer):
    """Each Decree 30 appearance adds at most 48 KiB to the signed file (measured 18–35 KiB: the
    Vietnamese font subset and the images); prints the CPU cost of each (no timing assertion)."""
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    ap.warm_up()
    personal = ap.personal_signature(position="Phó Chủ tịch", authority="KT. Chủ tịch", full_name="Nguyễn Văn Ánh")
    marks = {
        "personal (bold font + image)": personal,
        "seal (image)": ap.seal_signature(personal_box=personal.box, personal_image_box=personal.image_box),
        "attachment (regular font)": ap.attachment_mark(number_symbol="123/UBND-VP", page_width=A4_W, page_height=A4_H),
        "copy (bold + regular fonts)": ap.copy_mark(copy_form="SAO Y", agency_name=AGENCY, page_width=A4_W, page_height=A4_H),
    }
    stock = ap.VisibleSignature(
        page=0,
        box=marks["attachment (regular font)"].box,
        stamp_style=TextStampStyle(
            stamp_text="123/UBND-VP\n%(ts)s",
            text_box_style=TextBoxStyle(
                font=GlyphAccumulatorFactory(str(ap.FONTS_DIR / ap.FONT_FILES["regular"]))
            ),
        ),
    )
    print()
    sizes = {}
    for label, vs in {**marks, "stock pyHanko TextStampStyle + GlyphAccumulatorFactory": stock}.items():
        best, median, added = _appearance_ms(vs, pdf, n=30 if vs is not stock else 5)
        sizes[label] = added
        print(f"appearance {label:<56} best {best:7.2f} ms, median {median:7.2f} ms, +{added / 1024:5.1f} KiB")
    # first-time (per process) preparation costs
    t0 = time.perf_counter()
    ap._build_font_program("bold")
    print(f"one-time font subset per face: {(time.perf_counter() - t0) * 1000:.0f} ms")
    ap._prepare_image.cache_clear()
    t0 = time.perf_counter()
    ap.personal_signature(position="Chủ tịch", full_name="Nguyễn Văn Ánh")
    print(f"first personal_signature (decode + compress PNG): {(time.perf_counter() - t0) * 1000:.1f} ms")
    t0 = time.perf_counter()
    for _ in range(100):
        ap.personal_signature(position="Chủ tịch", full_name="Nguyễn Văn Ánh")
    print(f"personal_signature (cached image): {(time.perf_counter() - t0) * 10:.3f} ms")
    for label in marks:
        assert 0 < sizes[label] <= 48 * 1024, (label, sizes[label])


def test_font_factory_works_in_stock_pyhanko_text_stamps(pdf, signer, tmp_path):
    """Other stamps (e.g. a certification text) can use pyHanko's own styles with our font."""
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    style = TextStampStyle(
        stamp_text="Chứng thực bản sao đúng với bản chính.\nSố chứng thực: 05\nQuyển số: 01-SCTĐT/BS",
        text_box_style=TextBoxStyle(font=ap.VietnameseFontFactory(), font_size=11),
        border_width=0,
    )
    vs = ap.VisibleSignature(page=-1, box=(300, 300, 560, 380), stamp_style=style)
    signed = sign(pdf, vs, "ChungThuc", signer)
    text = pdftotext(tmp_path, signed)
    for expected in ("Chứng thực bản sao đúng với bản chính.", "Số chứng thực: 05", "Quyển số: 01-SCTĐT/BS"):
        assert expected in text
    assert _our_fonts(tmp_path, signed) and _valid_signatures(tmp_path, signed) == 1
