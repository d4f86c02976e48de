"""Shared vocabulary of the Decree 30 appearances: units, colours, assets, the signing-time line and
:class:`VisibleSignature` (what the engine needs to draw a signature)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from pyhanko.stamp import BaseStampStyle

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


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
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M:%S+07:00")
