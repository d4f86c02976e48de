"""PAdES baseline levels and the room their signatures need."""
from __future__ import annotations

from typing import Literal, TypeGuard

Level = Literal["B-B", "B-T", "B-LT", "B-LTA"]


LEVELS: tuple[str, ...] = ("B-B", "B-T", "B-LT", "B-LTA")


def is_level(value: str) -> TypeGuard[Level]:
    """True for one of the four PAdES baseline level names."""
    return value in LEVELS


_TIMESTAMP_RESERVE = 12 * 1024  # DER bytes kept free for an RFC 3161 token with its TSA chain
