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

Modules: :mod:`.base` (units, colours, :class:`VisibleSignature`), :mod:`.fonts`, :mod:`.images`,
:mod:`.stamps` (the pyHanko stamp), :mod:`.placement` (geometry), :mod:`.decree30` (the layouts),
:mod:`.dev_images` (generated development signature and seal images).
"""
from __future__ import annotations

# Re-exported so that `from signing.appearance import X` keeps working for every name the
# single module had (tests use a few private helpers).
from .base import (  # noqa: F401
    ASSETS_DIR,
    AUTHORITY_PREFIXES,
    COPY_FORMS,
    DEFAULT_SEAL_DIAMETER_MM,
    FONT_FILES,
    FONTS_DIR,
    MM,
    SEAL_RED,
    SIGNATURE_BLUE,
    VN_TZ,
    FontKey,
    VisibleSignature,
    signing_time_text,
)
from .decree30 import attachment_mark, copy_mark, number_date_mark, personal_signature, seal_signature
from .dev_images import dev_seal_png, dev_signature_png
from .fonts import VietnameseFontEngine, VietnameseFontFactory, _build_font_program, text_width, warm_up  # noqa: F401
from .images import _prepare_image  # noqa: F401
from .placement import DEFAULT_PERSONAL_BOX
from .stamps import ImageElement, OfficialStamp, OfficialStampStyle, TextElement

__all__ = [
    "AUTHORITY_PREFIXES",
    "COPY_FORMS",
    "DEFAULT_PERSONAL_BOX",
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
