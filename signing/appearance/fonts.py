"""The bundled Vietnamese font: subset programs built once, embedded per document, and a pyHanko
font engine that shapes Vietnamese text with it."""
from __future__ import annotations

import hashlib
import io
import threading
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from .base import FONT_FILES, FONTS_DIR, FontKey

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
        return b"<" + "".join(f"{gids.get(ord(c), fb):04x}" for c in text).encode("ascii") + b">"


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
        setattr(writer, "_ioffice_appearance_objects", cache)  # noqa: B010 - undeclared on pyHanko's writer
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
