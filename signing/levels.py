"""PAdES baseline levels and the room their signatures need."""
from __future__ import annotations

from typing import Literal


Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]


LEVELS: tuple[str, ...] = ("B-B", "B-T", "B-LT", "B-LTA")


_TIMESTAMP_RESERVE = 12 * 1024  # DER bytes kept free for an RFC 3161 token with its TSA chain
