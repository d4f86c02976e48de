"""Visible signature appearances prescribed by Decree 30/2020/ND-CP (Appendix I).

Four kinds of appearance, each returned as a :class:`VisibleSignature` that the signing engine
turns into a signature field (``SigFieldSpec(name, on_page=page, box=box)``) and passes to
pyHanko's ``PdfSigner(stamp_style=..., ...)`` (``appearance_text_params=text_params``):

- :func:`personal_signature`: authority/position line(s), the blue signature image, the name;
- :func:`seal_signature`: the agency's red seal at real size over the left third of the signature;
- :func:`attachment_mark`: number/symbol + signing time, top right of page 1, no image;
- :func:`copy_mark`: copy form + copying body + signing time, top right of page 1, no image;
- :func:`number_date_mark`: a text-only mark (number/symbol or date line) at a given box.

All text uses Liberation Serif (metric-compatible with Times New Roman, covers Vietnamese),
embedded as a Type0/CIDFontType2 font. To keep an appearance at well under a millisecond, the
font is subset *once per process* to the whole Vietnamese repertoire (about 11 KB compressed per
face) and the compressed font program, ToUnicode map and widths are reused for every document;
decoded and compressed images are cached by content as well. Nothing is fetched at run time.

Signing time: pyHanko hands a :class:`~pyhanko.stamp.TextStampStyle` the signing time (the same
instant it writes into the signature's signed attributes) as ``text_params['ts']`` formatted with
``timestamp_format``. Our style uses an unambiguous machine format with the UTC offset and
re-renders the instant in Vietnam time (UTC+07:00, no daylight saving), so the appearance is
right whatever the server's local zone is. The engine does not need to supply anything.
"""
from __future__ import annotations

import hashlib
import io
import math
import re
import threading
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Literal, Mapping

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import BaseStamp, BaseStampStyle, TextStampStyle

from ioffice.kernel.errors import InvalidInput

__all__ = [
    "AUTHORITY_PREFIXES",
    "COPY_FORMS",
    "VN_TZ",
    "ImageElement",
    "OfficialStamp",
    "OfficialStampStyle",
    "TextElement",
    "VietnameseFontEngine",
    "VietnameseFontFactory",
    "VisibleSignature",
    "attachment_mark",
    "copy_mark",
    "dev_seal_png",
    "dev_signature_png",
    "number_date_mark",
    "personal_signature",
    "seal_signature",
    "signing_time_text",
    "text_width",
    "warm_up",
]

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
FONTS_DIR = ASSETS_DIR / "fonts"
FONT_FILES: Mapping[str, str] = {
    "regular": "LiberationSerif-Regular.ttf",
    "bold": "LiberationSerif-Bold.ttf",
    "italic": "LiberationSerif-Italic.ttf",
}
FontKey = Literal["regular", "bold", "italic"]

VN_TZ = timezone(timedelta(hours=7), "ICT")
"""Vietnam time (Asia/Ho_Chi_Minh): UTC+07:00 all year round."""

AUTHORITY_PREFIXES = ("TM.", "Q.", "KT.", "TL.", "TUQ.")
COPY_FORMS = ("SAO Y", "SAO LỤC", "TRÍCH SAO")

MM = 72 / 25.4  # points per millimetre
SIGNATURE_BLUE = (0x1F, 0x3F, 0xBF)
SEAL_RED = (0xD4, 0x12, 0x1E)
DEFAULT_SEAL_DIAMETER_MM = 38.0

# pyHanko formats the signing time with this, we parse it back (see module docstring).
_PYHANKO_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_TIME_SAMPLE = "2000-00-00T00:00:00+07:00"


# --------------------------------------------------------------------------------------------
# Public value type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisibleSignature:
    """Where a signature field goes and how it looks.

    ``page`` is 0-based, -1 means the last page (the engine resolves it). ``box`` is
    ``(x1, y1, x2, y2)`` in PDF points in the page's default user space. ``image_box`` is the
    page-space rectangle of the drawn image, when there is one (used to place the seal).
    """

    page: int
    box: tuple[float, float, float, float]
    stamp_style: BaseStampStyle
    text_params: dict[str, str] | None = None
    image_box: tuple[float, float, float, float] | None = None


def signing_time_text(dt: datetime) -> str:
    """``dt`` as ISO 8601 in Vietnam time, e.g. ``2024-02-19T09:15:02+07:00``.

    A naive ``dt`` is taken to be UTC.
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M:%S+07:00")


# --------------------------------------------------------------------------------------------
# Fonts: one Vietnamese-repertoire subset per face per process
# --------------------------------------------------------------------------------------------

_VIETNAMESE_REPERTOIRE: frozenset[int] = frozenset(
    list(range(0x20, 0x7F))
    + list(range(0xA0, 0x100))
    + [0x102, 0x103, 0x110, 0x111, 0x128, 0x129, 0x168, 0x169, 0x1A0, 0x1A1, 0x1AF, 0x1B0]
    + list(range(0x1EA0, 0x1EFA))
    + [0x300, 0x301, 0x303, 0x309, 0x323]  # combining tone marks, in case NFC leaves any
    + [0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2026, 0x20AB, 0x2116]
)


@dataclass(frozen=True, eq=False)
class _FontProgram:
    """A face subset to the Vietnamese repertoire, ready to embed (all bytes precompressed)."""

    key: str
    base_font: str
    units_per_em: int
    gid_by_codepoint: Mapping[int, int]
    advance_by_gid: Mapping[int, int]
    fallback_gid: int
    font_file: bytes  # FlateDecode-compressed TrueType program
    font_file_length1: int
    to_unicode: bytes  # FlateDecode-compressed ToUnicode CMap
    widths: tuple  # W array: (first_cid, (w, w, ...)), ...
    ascent: int  # 1/1000 em
    descent: int
    cap_height: int
    bbox: tuple[int, int, int, int]
    italic_angle: float
    flags: int
    stem_v: int

    @property
    def widths_pdf(self) -> bytes:
        """The W array serialised (cached)."""
        raw = self.__dict__.get("_widths_pdf")
        if raw is None:
            raw = b"[" + b" ".join(
                b"%d [%s]" % (first, b" ".join(b"%d" % w for w in run)) for first, run in self.widths
            ) + b"]"
            object.__setattr__(self, "_widths_pdf", raw)
        return raw

    def advance(self, text: str) -> float:
        """Width of ``text`` in em (no kerning)."""
        gids = self.gid_by_codepoint
        adv = self.advance_by_gid
        fb = self.fallback_gid
        return sum(adv[gids.get(ord(c), fb)] for c in text) / self.units_per_em

    def encode(self, text: str) -> bytes:
        """Hex string of 2-byte CIDs (= glyph ids, Identity-H) for ``text``."""
        gids = self.gid_by_codepoint
        fb = self.fallback_gid
        return b"<" + "".join("%04x" % gids.get(ord(c), fb) for c in text).encode("ascii") + b">"


def _tounicode_cmap(unicode_by_gid: Mapping[int, int]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    items = sorted(unicode_by_gid.items())
    for i in range(0, len(items), 100):
        chunk = items[i : i + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{gid:04X}> <{cp:04X}>" for gid, cp in chunk)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return zlib.compress("\n".join(lines).encode("ascii"), 9)


def _build_font_program(key: str) -> _FontProgram:
    from fontTools import subset, ttLib

    path = FONTS_DIR / FONT_FILES[key]
    tt = ttLib.TTFont(str(path))
    cmap = tt.getBestCmap()
    wanted = sorted(cp for cp in _VIETNAMESE_REPERTOIRE if cp in cmap)
    gid_of_name = {name: i for i, name in enumerate(tt.getGlyphOrder())}
    gid_by_codepoint = {cp: gid_of_name[cmap[cp]] for cp in wanted}
    hmtx = tt["hmtx"]
    head, hhea, os2, post = tt["head"], tt["hhea"], tt["OS/2"], tt["post"]
    upm = head.unitsPerEm
    advance_by_gid = {gid: hmtx[tt.getGlyphName(gid)][0] for gid in set(gid_by_codepoint.values())}
    advance_by_gid[0] = hmtx[tt.getGlyphName(0)][0]
    # Keep glyph ids (CID = GID, CIDToGIDMap /Identity): what we write in content streams keeps
    # working with the subset; the unused glyph slots cost a few hundred bytes compressed.
    options = subset.Options(layout_closure=False)
    options.drop_tables += ["GPOS", "GDEF", "GSUB", "FFTM"]
    options.retain_gids = True
    options.hinting = False
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=wanted)
    import logging

    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    subsetter.subset(tt)
    buf = io.BytesIO()
    tt.save(buf)
    program = buf.getvalue()

    unicode_by_gid: dict[int, int] = {}
    for cp in wanted:  # lowest code point wins (space over no-break space, etc.)
        unicode_by_gid.setdefault(gid_by_codepoint[cp], cp)

    def k(v: float) -> int:
        return int(round(v * 1000 / upm))

    widths: list[tuple[int, tuple[int, ...]]] = []
    run_start = None
    run: list[int] = []
    for gid in sorted(advance_by_gid):
        if run_start is not None and gid == run_start + len(run):
            run.append(k(advance_by_gid[gid]))
        else:
            if run_start is not None:
                widths.append((run_start, tuple(run)))
            run_start, run = gid, [k(advance_by_gid[gid])]
    if run_start is not None:
        widths.append((run_start, tuple(run)))

    ps_name = tt["name"].getDebugName(6) or path.stem
    tag = "".join(chr(ord("A") + b % 26) for b in hashlib.sha256(program).digest()[:6])
    italic = key == "italic"
    weight = os2.usWeightClass
    return _FontProgram(
        key=key,
        base_font=f"{tag}+{ps_name}",
        units_per_em=upm,
        gid_by_codepoint=gid_by_codepoint,
        advance_by_gid=advance_by_gid,
        fallback_gid=gid_by_codepoint[ord("?")],
        font_file=zlib.compress(program, 9),
        font_file_length1=len(program),
        to_unicode=_tounicode_cmap(unicode_by_gid),
        widths=tuple(widths),
        ascent=k(hhea.ascent),
        descent=k(hhea.descent),
        cap_height=k(getattr(os2, "sCapHeight", 0) or 0.66 * upm),
        bbox=(k(head.xMin), k(head.yMin), k(head.xMax), k(head.yMax)),
        italic_angle=float(getattr(post, "italicAngle", 0.0)),
        flags=(1 << 1) | (1 << 2) | ((1 << 6) if italic else 0),  # serif, symbolic, italic
        stem_v=int(10 + 220 * (weight - 50) / 900),
    )


_font_lock = threading.Lock()
_font_cache: dict[str, _FontProgram] = {}


def _font(key: str) -> _FontProgram:
    """The cached font program for ``key`` (built on first use, about 0.15 s)."""
    prog = _font_cache.get(key)
    if prog is None:
        with _font_lock:
            prog = _font_cache.get(key)
            if prog is None:
                prog = _font_cache[key] = _build_font_program(key)
    return prog


def warm_up() -> None:
    """Build every cached font program now (call once at process start to avoid a slow first
    signature)."""
    for key in FONT_FILES:
        _font(key)


def text_width(text: str, font: FontKey = "regular", size: float = 10) -> float:
    """Width in points of ``text`` set in our font at ``size``."""
    return _font(font).advance(_nfc(text)) * size


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _writer_cache(writer: BasePdfFileWriter) -> dict:
    """Objects this module already wrote into ``writer`` (each font/image goes in once)."""
    cache = getattr(writer, "_ioffice_appearance_objects", None)
    if cache is None:
        cache = {}
        setattr(writer, "_ioffice_appearance_objects", cache)
    return cache


class _RawPdfObject(generic.PdfObject):
    """A direct object serialised once (numbers only: nothing to encrypt or rewrite)."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def write_to_stream(self, stream, handler=None, container_ref=None) -> None:
        stream.write(self._raw)


def _embed_font(writer: BasePdfFileWriter, prog: _FontProgram) -> generic.IndirectObject:
    cache = _writer_cache(writer)
    ref = cache.get(("font", prog.key))
    if ref is not None:
        return ref
    font_file = generic.StreamObject(
        {
            pdf_name("/Length1"): generic.NumberObject(prog.font_file_length1),
            pdf_name("/Filter"): pdf_name("/FlateDecode"),
        },
        encoded_data=prog.font_file,
    )
    descriptor = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/FontDescriptor"),
            pdf_name("/FontName"): pdf_name("/" + prog.base_font),
            pdf_name("/Flags"): generic.NumberObject(prog.flags),
            pdf_name("/FontBBox"): generic.ArrayObject(map(generic.NumberObject, prog.bbox)),
            pdf_name("/ItalicAngle"): generic.FloatObject(prog.italic_angle),
            pdf_name("/Ascent"): generic.NumberObject(prog.ascent),
            pdf_name("/Descent"): generic.NumberObject(prog.descent),
            pdf_name("/CapHeight"): generic.NumberObject(prog.cap_height),
            pdf_name("/StemV"): generic.NumberObject(prog.stem_v),
            pdf_name("/FontFile2"): writer.add_object(font_file),
        }
    )
    w_array = _RawPdfObject(prog.widths_pdf)
    cid_font = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
            pdf_name("/BaseFont"): pdf_name("/" + prog.base_font),
            pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                {
                    pdf_name("/Registry"): generic.pdf_string("Adobe"),
                    pdf_name("/Ordering"): generic.pdf_string("Identity"),
                    pdf_name("/Supplement"): generic.NumberObject(0),
                }
            ),
            pdf_name("/FontDescriptor"): writer.add_object(descriptor),
            pdf_name("/DW"): generic.NumberObject(1000),
            pdf_name("/W"): w_array,
            pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
        }
    )
    to_unicode = generic.StreamObject(
        {pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=prog.to_unicode
    )
    type0 = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Font"),
            pdf_name("/Subtype"): pdf_name("/Type0"),
            pdf_name("/BaseFont"): pdf_name("/" + prog.base_font),
            pdf_name("/Encoding"): pdf_name("/Identity-H"),
            pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
            pdf_name("/ToUnicode"): writer.add_object(to_unicode),
        }
    )
    ref = cache[("font", prog.key)] = writer.add_object(type0)
    return ref


class VietnameseFontEngine(FontEngine):
    """pyHanko font engine over our cached Vietnamese subset (no per-document subsetting)."""

    def __init__(self, writer: BasePdfFileWriter, font: FontKey = "regular", font_size: int = 10) -> None:
        self.program = _font(font)
        super().__init__(writer, self.program.base_font, embedded_subset=False, font_size=font_size)

    @property
    def uses_complex_positioning(self) -> bool:
        return False

    def shape(self, txt: str) -> ShapeResult:
        txt = _nfc(txt)
        return ShapeResult(
            graphics_ops=self.program.encode(txt) + b" Tj",
            x_advance=self.program.advance(txt),
            y_advance=0,
        )

    def as_resource(self) -> generic.IndirectObject:
        return _embed_font(self.writer, self.program)


@dataclass(frozen=True)
class VietnameseFontFactory(FontEngineFactory):
    """Drop-in for ``GlyphAccumulatorFactory`` in pyHanko text styles (``TextBoxStyle(font=...)``,
    ``TextStampStyle``, ``QRStampStyle``): same Liberation Serif, no subsetting per document."""

    font: FontKey = "regular"
    font_size: int = 10

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream=None) -> VietnameseFontEngine:
        return VietnameseFontEngine(writer, self.font, self.font_size)


# --------------------------------------------------------------------------------------------
# Images: decoded and compressed once per content
# --------------------------------------------------------------------------------------------


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
        img = Image.open(io.BytesIO(png))
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
            Image.LANCZOS,
        )
    alpha = img.getchannel("A")
    lo, _hi = alpha.getextrema()
    rgb = img.convert("RGB")
    if lo < 255:
        # invisible pixels get one colour (the ink's) so the colour plane compresses well
        hidden = alpha.point(lambda a: 255 if a == 0 else 0)
        opaque = alpha.point(lambda a: 255 if a > 200 else 0)
        box = opaque.getbbox()
        fill = (0, 0, 0)
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


# --------------------------------------------------------------------------------------------
# The stamp style pyHanko renders
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextElement:
    """One line of text. ``x`` is the left edge, centre or right edge per ``align``; ``baseline``
    is measured from the bottom of the box. ``signing_time`` lines show the signing time instead
    of ``text``."""

    text: str
    x: float
    baseline: float
    font: FontKey = "regular"
    size: float = 10.0
    color: tuple[float, float, float] = (0.0, 0.0, 0.0)
    align: Literal["left", "center", "right"] = "left"
    signing_time: bool = False


@dataclass(frozen=True)
class ImageElement:
    """An image drawn in the rectangle ``(x, y, width, height)`` of the box."""

    image: _PreparedImage
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class OfficialStampStyle(TextStampStyle):
    """A fixed layout of text lines and images designed for a box of ``design_size`` points.

    Subclasses :class:`TextStampStyle` only so that pyHanko passes it the signing time
    (``text_params['ts']``); ``stamp_text`` is not used.
    """

    design_size: tuple[float, float] = (100.0, 50.0)
    texts: tuple[TextElement, ...] = ()
    images: tuple[ImageElement, ...] = ()
    border_width: int = 0
    background: None = None
    timestamp_format: str = _PYHANKO_TS_FORMAT

    def create_stamp(
        self,
        writer: BasePdfFileWriter,
        box: layout.BoxConstraints,
        text_params: dict,
    ) -> "OfficialStamp":
        return OfficialStamp(writer=writer, style=self, box=box, text_params=text_params)


def _parse_pyhanko_ts(value: str | None) -> datetime:
    if value:
        for fmt in (_PYHANKO_TS_FORMAT, "%Y-%m-%dT%H:%M:%S"):
            try:
                dt = datetime.strptime(value, fmt)
            except ValueError:
                continue
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    return datetime.now(timezone.utc)


class OfficialStamp(BaseStamp):
    """Renders an :class:`OfficialStampStyle` into a form XObject."""

    style: OfficialStampStyle

    def __init__(
        self,
        writer: BasePdfFileWriter,
        style: OfficialStampStyle,
        box: layout.BoxConstraints | None = None,
        text_params: dict | None = None,
    ) -> None:
        if box is None or not (box.width_defined and box.height_defined):
            dw, dh = style.design_size
            box = layout.BoxConstraints(width=dw, height=dh)
        super().__init__(writer=writer, style=style, box=box)
        self.text_params = dict(text_params or {})

    def _render_inner_content(self) -> list[bytes]:
        style = self.style
        writer = self.writer
        assert writer is not None
        dw, dh = style.design_size
        sx = self.box.width / dw if dw else 1.0
        sy = self.box.height / dh if dh else 1.0
        ops: list[bytes] = [b"q"]
        if abs(sx - 1) > 1e-6 or abs(sy - 1) > 1e-6:
            ops.append(b"%.4f 0 0 %.4f 0 0 cm" % (sx, sy))
        for i, im in enumerate(style.images):
            name = "/Im%d" % i
            self.set_resource(ResourceType.XOBJECT, pdf_name(name), _embed_image(writer, im.image))
            ops.append(
                b"q %.3f 0 0 %.3f %.3f %.3f cm %s Do Q"
                % (im.width, im.height, im.x, im.y, name.encode("ascii"))
            )
        if style.texts:
            ts_text = None
            ops.append(b"BT")
            current_color = None
            for t in style.texts:
                prog = _font(t.font)
                res_name = {"regular": "/FR", "bold": "/FB", "italic": "/FI"}[t.font]
                self.set_resource(ResourceType.FONT, pdf_name(res_name), _embed_font(writer, prog))
                if t.signing_time:
                    if ts_text is None:
                        ts_text = signing_time_text(_parse_pyhanko_ts(self.text_params.get("ts")))
                    text = ts_text
                else:
                    text = _nfc(t.text)
                width = prog.advance(text) * t.size
                x = t.x - (width / 2 if t.align == "center" else width if t.align == "right" else 0)
                if t.color != current_color:
                    ops.append(b"%.3f %.3f %.3f rg" % t.color)
                    current_color = t.color
                ops.append(
                    b"%s %.2f Tf 1 0 0 1 %.3f %.3f Tm %s Tj"
                    % (res_name.encode("ascii"), t.size, x, t.baseline, prog.encode(text))
                )
            ops.append(b"ET")
        ops.append(b"Q")
        return ops


# --------------------------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------------------------

_ASCENT = 0.891  # Liberation Serif ascender, em
_DESCENT = 0.216
_LEADING = 1.2

DEFAULT_PERSONAL_BOX = (305.0, 90.0, 545.0, 245.0)
"""Default box for the personal signature: lower right of an A4 page (points)."""

_PAD = 2.0
_GAP = 3.0


def _round_box(box) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in box)
    if x2 < x1:
        x1, x2 = x2, x1
    if y2 < y1:
        y1, y2 = y2, y1
    return (round(x1, 2), round(y1, 2), round(x2, 2), round(y2, 2))


def _fit_size(lines: list[tuple[str, FontKey]], size: float, max_width: float, min_size: float) -> float:
    widest = max((text_width(t, f, 1.0) for t, f in lines if t), default=0.0)
    if widest * size > max_width and widest > 0:
        size = max(min_size, max_width / widest)
    return size


_AUTHORITY_RE = re.compile(r"^(TM|Q|KT|TL|TUQ)\.\s*(.*)$")


def _authority_lines(authority: str | None, position: str) -> list[str]:
    """Lines above the image: the authority line(s), then the position (upper case).

    ``authority`` is either a bare prefix (``"Q."``), which is put before the position on the
    same line, or whole line(s) starting with a prefix (``"KT. CHỦ TỊCH"``,
    ``"TM. ỦY BAN NHÂN DÂN\\nKT. CHỦ TỊCH"``). Raises InvalidInput for anything else.
    """
    position = " ".join(_nfc(position).split()).upper()
    if not position:
        raise InvalidInput("Thiếu chức vụ của người ký.")
    if not authority or not authority.strip():
        return [position]
    lines = []
    for raw in _nfc(authority).splitlines():
        line = " ".join(raw.split()).upper()
        if not line:
            continue
        m = _AUTHORITY_RE.match(line)
        if m is None:
            raise InvalidInput(
                "Thẩm quyền ký phải bắt đầu bằng một trong các chữ viết tắt "
                "TM., Q., KT., TL., TUQ. (ví dụ: \"KT. CHỦ TỊCH\")."
            )
        lines.append(f"{m.group(1)}. {m.group(2)}".rstrip())
    if len(lines) == 1 and lines[0] in AUTHORITY_PREFIXES:
        return [f"{lines[0]} {position}"]
    return lines + [position]


@dataclass(frozen=True)
class _PersonalGeometry:
    top_lines: tuple[str, ...]
    size: float
    slot: tuple[float, float, float, float]  # image slot in box coordinates x, y, w, h


def _personal_geometry(
    width: float, height: float, top_lines: list[str], name: str, size: float = 13.0
) -> _PersonalGeometry:
    lines = [(t, "bold") for t in top_lines] + [(name, "bold")]
    size = _fit_size(lines, size, width - 2 * _PAD, 7.0)  # type: ignore[arg-type]
    leading = size * _LEADING
    top_block = len(top_lines) * leading
    slot_top = height - _PAD - top_block - _GAP
    slot_bottom = _PAD + leading + _GAP
    if slot_top - slot_bottom < 24:
        raise InvalidInput("Khung chữ ký quá nhỏ để đặt chức vụ, ảnh chữ ký và họ tên.")
    return _PersonalGeometry(
        top_lines=tuple(top_lines),
        size=size,
        slot=(_PAD, slot_bottom, width - 2 * _PAD, slot_top - slot_bottom),
    )


def _fit_image(slot: tuple[float, float, float, float], aspect: float, max_w_frac: float = 0.85):
    sx, sy, sw, sh = slot
    w = min(sw * max_w_frac, sh * aspect)
    h = w / aspect
    return (sx + (sw - w) / 2, sy + (sh - h) / 2, w, h)


def personal_signature(
    *,
    position: str,
    full_name: str,
    authority: str | None = None,
    signature_png: bytes | None = None,
    page: int = -1,
    box: tuple[float, float, float, float] | None = None,
    font_size: float = 13.0,
    include_text: bool = True,
) -> VisibleSignature:
    """The signer's personal signature: authority line(s) and position (bold, upper case), the
    blue signature image centred below them, the printed name (bold) under the image.

    ``signature_png`` defaults to a generated development signature (:func:`dev_signature_png`).
    ``box`` defaults to :data:`DEFAULT_PERSONAL_BOX` (lower right of A4). ``include_text=False``
    draws only the image (for documents that already print position and name).
    Raises InvalidInput for a bad authority prefix, an empty name/position, an undecodable image
    or a box too small.
    """
    full_name = " ".join(_nfc(full_name).split())
    if not full_name:
        raise InvalidInput("Thiếu họ tên người ký.")
    top_lines = _authority_lines(authority, position)
    box = _round_box(box or DEFAULT_PERSONAL_BOX)
    width, height = box[2] - box[0], box[3] - box[1]
    png = signature_png if signature_png is not None else dev_signature_png(full_name)
    image = _prepare_image(png, 900)
    if include_text:
        geo = _personal_geometry(width, height, top_lines, full_name, font_size)
        slot = geo.slot
    else:
        geo = None
        slot = (_PAD, _PAD, width - 2 * _PAD, height - 2 * _PAD)
    ix, iy, iw, ih = _fit_image(slot, image.aspect)
    texts: list[TextElement] = []
    if geo is not None:
        leading = geo.size * _LEADING
        for i, line in enumerate(geo.top_lines):
            texts.append(
                TextElement(
                    line, width / 2, height - _PAD - geo.size * _ASCENT - i * leading,
                    font="bold", size=geo.size, align="center",
                )
            )
        texts.append(
            TextElement(full_name, width / 2, _PAD + geo.size * _DESCENT + (leading - geo.size) / 2,
                        font="bold", size=geo.size, align="center")
        )
    style = OfficialStampStyle(
        design_size=(width, height),
        texts=tuple(texts),
        images=(ImageElement(image, ix, iy, iw, ih),),
    )
    image_box = _round_box((box[0] + ix, box[1] + iy, box[0] + ix + iw, box[1] + iy + ih))
    return VisibleSignature(page=page, box=box, stamp_style=style, image_box=image_box)


def _default_image_box(personal_box) -> tuple[float, float, float, float]:
    """Where the signature image sits in a personal box laid out with two text lines above."""
    x1, y1, x2, y2 = _round_box(personal_box)
    geo = _personal_geometry(x2 - x1, y2 - y1, ["X", "X"], "X")
    sx, sy, sw, sh = _fit_image(geo.slot, 2.5)
    return (x1 + sx, y1 + sy, x1 + sx + sw, y1 + sy + sh)


def seal_signature(
    *,
    seal_png: bytes | None = None,
    personal_box: tuple[float, float, float, float],
    page: int = -1,
    personal_image_box: tuple[float, float, float, float] | None = None,
    diameter_mm: float | None = None,
    agency_name: str | None = None,
) -> VisibleSignature:
    """The agency's seal: the red seal image at real size, vertically centred on the personal
    signature image and covering its left third.

    Pass ``personal_image_box`` (``VisibleSignature.image_box`` of the personal signature) for an
    exact placement; otherwise it is derived from ``personal_box`` with the default layout.
    Real size: ``diameter_mm`` if given, else the PNG's DPI when it gives 25–50 mm, else 38 mm.
    ``seal_png`` defaults to :func:`dev_seal_png` of ``agency_name``.
    Raises InvalidInput for an undecodable image.
    """
    png = seal_png if seal_png is not None else dev_seal_png(agency_name or "CƠ QUAN THỬ NGHIỆM")
    image = _prepare_image(png, 700)
    if diameter_mm is None:
        diameter_mm = DEFAULT_SEAL_DIAMETER_MM
        if image.dpi:
            real = max(image.width, image.height) / image.dpi * 25.4
            if 25 <= real <= 50:
                diameter_mm = real
    size = diameter_mm * MM
    if image.aspect >= 1:
        w, h = size, size / image.aspect
    else:
        w, h = size * image.aspect, size
    ib = _round_box(personal_image_box) if personal_image_box else _default_image_box(personal_box)
    img_w = ib[2] - ib[0]
    cy = (ib[1] + ib[3]) / 2
    x2 = ib[0] + img_w / 3
    box = _round_box((x2 - w, cy - h / 2, x2, cy + h / 2))
    style = OfficialStampStyle(
        design_size=(box[2] - box[0], box[3] - box[1]),
        images=(ImageElement(image, 0, 0, box[2] - box[0], box[3] - box[1]),),
    )
    return VisibleSignature(page=page, box=box, stamp_style=style, image_box=box)


_MARK_SIZE = 10.0
_MARK_RIGHT_MARGIN = 15 * MM
_MARK_TOP_MARGIN = 5 * MM


def _top_right_mark(
    lines: list[tuple[str, FontKey, bool]], page_width: float, page_height: float
) -> VisibleSignature:
    if page_width <= 0 or page_height <= 0:
        raise InvalidInput("Kích thước trang không hợp lệ.")
    measured = [(_TIME_SAMPLE if is_ts else t, f) for t, f, is_ts in lines]
    max_width = min(220.0, page_width - _MARK_RIGHT_MARGIN - 10)
    size = _fit_size(measured, _MARK_SIZE, max_width - 2 * _PAD, 6.0)  # type: ignore[arg-type]
    leading = size * _LEADING
    width = max(text_width(t, f, size) for t, f in measured) + 2 * _PAD + 1
    height = len(lines) * leading + 2 * _PAD
    x2 = page_width - _MARK_RIGHT_MARGIN
    y2 = page_height - _MARK_TOP_MARGIN
    box = _round_box((x2 - width, y2 - height, x2, y2))
    width, height = box[2] - box[0], box[3] - box[1]
    texts = tuple(
        TextElement(
            "" if is_ts else text, _PAD, height - _PAD - size * _ASCENT - (leading - size) / 2 - i * leading,
            font=font, size=size, signing_time=is_ts,
        )
        for i, (text, font, is_ts) in enumerate(lines)
    )
    style = OfficialStampStyle(design_size=(width, height), texts=texts)
    return VisibleSignature(page=0, box=box, stamp_style=style)


def attachment_mark(*, number_symbol: str, page_width: float, page_height: float) -> VisibleSignature:
    """Agency signature on an attachment sent as a separate file: top right of page 1, no image,
    10 pt black: the number/symbol, then the signing time (ISO 8601, +07:00).

    Raises InvalidInput for an empty number/symbol or a bad page size.
    """
    number_symbol = " ".join(_nfc(number_symbol).split())
    if not number_symbol:
        raise InvalidInput("Thiếu số, ký hiệu văn bản.")
    return _top_right_mark(
        [(number_symbol, "regular", False), ("", "regular", True)], page_width, page_height
    )


def copy_mark(*, copy_form: str, agency_name: str, page_width: float, page_height: float) -> VisibleSignature:
    """Agency signature on an electronic copy (sao y, sao lục, trích sao): top right of page 1,
    no image: the copy form (bold), the copying body's name, the signing time (ISO 8601).

    Raises InvalidInput for an unknown copy form, an empty agency name or a bad page size.
    """
    form = " ".join(_nfc(copy_form).split()).upper()
    if form not in COPY_FORMS:
        raise InvalidInput("Hình thức sao phải là SAO Y, SAO LỤC hoặc TRÍCH SAO.")
    agency_name = " ".join(_nfc(agency_name).split())
    if not agency_name:
        raise InvalidInput("Thiếu tên cơ quan, tổ chức sao văn bản.")
    return _top_right_mark(
        [(form, "bold", False), (agency_name, "regular", False), ("", "regular", True)],
        page_width, page_height,
    )


def number_date_mark(
    *,
    text: str,
    box: tuple[float, float, float, float],
    page: int = 0,
    font_size: float = 13.0,
    italic: bool = False,
    align: Literal["left", "center", "right"] = "center",
) -> VisibleSignature:
    """A text-only mark (e.g. ``Số: 05/QĐ-UBND`` or ``Yên Ninh, ngày 05 tháng 3 năm 2024``, the
    latter usually ``italic``) drawn in ``box``; lines split on newlines, shrunk to fit.

    Raises InvalidInput for empty text or a box too small for one line.
    """
    lines = [" ".join(_nfc(line).split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise InvalidInput("Thiếu nội dung cần đóng lên văn bản.")
    box = _round_box(box)
    width, height = box[2] - box[0], box[3] - box[1]
    font: FontKey = "italic" if italic else "regular"
    size = _fit_size([(t, font) for t in lines], font_size, width - 2 * _PAD, 6.0)
    size = min(size, (height - 2 * _PAD) / (len(lines) * _LEADING))
    if size < 5:
        raise InvalidInput("Khung số, ngày văn bản quá nhỏ.")
    leading = size * _LEADING
    block = len(lines) * leading
    top = (height + block) / 2
    x = {"left": _PAD, "center": width / 2, "right": width - _PAD}[align]
    texts = tuple(
        TextElement(t, x, top - size * _ASCENT - (leading - size) / 2 - i * leading,
                    font=font, size=size, align=align)
        for i, t in enumerate(lines)
    )
    style = OfficialStampStyle(design_size=(width, height), texts=texts)
    return VisibleSignature(page=page, box=box, stamp_style=style)


# --------------------------------------------------------------------------------------------
# Development images (deterministic; real deployments upload the official's and agency's PNGs)
# --------------------------------------------------------------------------------------------


def _single_ink(img, colour: tuple[int, int, int]):
    """Keep the alpha (the strokes) and make every pixel ``colour``: one ink, as on paper."""
    from PIL import Image

    out = Image.new("RGBA", img.size, colour + (255,))
    out.putalpha(img.getchannel("A"))
    return out


@lru_cache(maxsize=64)
def dev_signature_png(full_name: str) -> bytes:
    """A blue, handwritten-looking signature for ``full_name`` as a transparent PNG (600×240 px).

    For development and demos only; deterministic for a given name.
    """
    from PIL import Image, ImageDraw, ImageFont

    scale = 3
    W, H = 600 * scale, 240 * scale
    seed = hashlib.sha256(full_name.encode("utf-8")).digest()
    img = Image.new("RGBA", (W, H), SIGNATURE_BLUE + (0,))
    draw = ImageDraw.Draw(img)
    words = _nfc(full_name).split() or ["?"]
    given = words[-1]
    initials = "".join(w[0] for w in words[:-1])
    font = ImageFont.truetype(str(FONTS_DIR / FONT_FILES["italic"]), 120 * scale)
    small = ImageFont.truetype(str(FONTS_DIR / FONT_FILES["italic"]), 70 * scale)
    colour = SIGNATURE_BLUE + (255,)
    # initials small and high, the given name large
    x0 = 70 * scale
    if initials:
        draw.text((x0, 20 * scale), initials, font=small, fill=colour)
        x0 += int(draw.textlength(initials, font=small)) + 8 * scale
    draw.text((x0, 45 * scale), given, font=font, fill=colour)
    end_x = x0 + int(draw.textlength(given, font=font))
    # a flourish: a loop under the name and a long stroke back to the left
    amp = (10 + seed[0] % 12) * scale
    pts = []
    steps = 160
    start_x, stop_x = 40 * scale, min(W - 30 * scale, end_x + 60 * scale)
    for i in range(steps + 1):
        t = i / steps
        x = start_x + (stop_x - start_x) * t
        y = 195 * scale - 30 * scale * t + amp * math.sin(t * math.pi * (2 + seed[1] % 2))
        pts.append((x, y))
    draw.line(pts, fill=colour, width=5 * scale, joint="curve")
    cx, cy, r = stop_x - 25 * scale, 150 * scale, 28 * scale
    loop = [
        (cx + r * math.cos(a / 40 * 2 * math.pi) * 0.8, cy + r * math.sin(a / 40 * 2 * math.pi))
        for a in range(41)
    ]
    draw.line(loop, fill=colour, width=4 * scale, joint="curve")
    # slant like handwriting, then downsample for smooth edges
    img = img.transform(img.size, Image.AFFINE, (1, 0.25, -0.25 * H / 2, 0, 1, 0), Image.BICUBIC)
    img = img.resize((W // scale, H // scale), Image.LANCZOS)
    img = _single_ink(img, SIGNATURE_BLUE)
    out = io.BytesIO()
    img.save(out, "PNG", dpi=(300, 300), optimize=True)
    return out.getvalue()


@lru_cache(maxsize=64)
def dev_seal_png(agency_name: str, parent: str | None = None) -> bytes:
    """A red round seal, 38 mm at 300 dpi, as a transparent PNG: the (parent and) agency name on
    the ring, a five-pointed star in the centre. For development and demos only."""
    from PIL import Image, ImageDraw, ImageFont

    dpi = 300
    scale = 2
    size_px = round(DEFAULT_SEAL_DIAMETER_MM / 25.4 * dpi)
    S = size_px * scale
    c = S / 2
    colour = SEAL_RED + (255,)
    img = Image.new("RGBA", (S, S), SEAL_RED + (0,))
    draw = ImageDraw.Draw(img)
    R = c - 2 * scale
    ring_w = 0.032 * S
    draw.ellipse((c - R, c - R, c + R, c + R), outline=colour, width=round(ring_w))
    r_in = R * 0.66
    draw.ellipse((c - r_in, c - r_in, c + r_in, c + r_in), outline=colour, width=round(0.012 * S))
    # star
    r_star, r_star_in = r_in * 0.55, r_in * 0.55 * 0.382
    star = []
    for k in range(10):
        a = -math.pi / 2 + k * math.pi / 5
        rr = r_star if k % 2 == 0 else r_star_in
        star.append((c + rr * math.cos(a), c + rr * math.sin(a)))
    draw.polygon(star, fill=colour)
    # ring text, clockwise from about 7 to 5 o'clock, a star at 6 o'clock (as on real seals)
    name = " ".join(_nfc(agency_name).split()).upper() or "?"
    text = f"{' '.join(_nfc(parent).split()).upper()} ★ {name}" if parent and parent.strip() else name
    band_mid = (R - ring_w + r_in) / 2
    band = R - ring_w - r_in
    span = math.radians(296)
    font_path = str(FONTS_DIR / FONT_FILES["bold"])
    fsize = int(band * 0.6)
    while True:
        font = ImageFont.truetype(font_path, fsize)
        total = sum(font.getlength(ch) for ch in text) * 1.1
        if total <= span * band_mid or fsize <= 8:
            break
        fsize -= 1
    spacing = span * band_mid / total

    def star_at(a_mid: float, rs: float) -> None:
        pts = []
        for k in range(10):
            a = a_mid + math.pi / 2 + k * math.pi / 5 - math.pi / 2 * 2
            rr = rs if k % 2 == 0 else rs * 0.382
            pts.append((c + band_mid * math.cos(a_mid) + rr * math.cos(a),
                        c + band_mid * math.sin(a_mid) + rr * math.sin(a)))
        draw.polygon(pts, fill=colour)

    angle = math.pi / 2 + (2 * math.pi - span) / 2  # screen angles: y grows downwards
    for ch in text:
        adv = font.getlength(ch) * 1.1 * spacing
        a_mid = angle + (adv / 2) / band_mid
        if ch == "★":
            star_at(a_mid, fsize * 0.42)
        elif ch.strip():
            tile = Image.new("RGBA", (int(fsize * 2), int(fsize * 2)), SEAL_RED + (0,))
            td = ImageDraw.Draw(tile)
            td.text((fsize, fsize * 1.33), ch, font=font, fill=colour, anchor="ms")
            rot = tile.rotate(-math.degrees(a_mid + math.pi / 2), resample=Image.BICUBIC)
            px = c + band_mid * math.cos(a_mid) - rot.width / 2
            py = c + band_mid * math.sin(a_mid) - rot.height / 2
            img.alpha_composite(rot, (int(px), int(py)))
        angle += adv / band_mid
    star_at(math.pi / 2, fsize * 0.42)
    img = img.resize((size_px, size_px), Image.LANCZOS)
    img = _single_ink(img, SEAL_RED)
    out = io.BytesIO()
    img.save(out, "PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()
