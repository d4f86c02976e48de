"""Columns that hold blob SHA-256s: the sweeper never removes what they reference."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

_REFERENCES: list[InstrumentedAttribute[Any]] = []


def register_blob_reference(column: InstrumentedAttribute[Any]) -> None:
    """Declare a column holding blob SHA-256s; the sweeper never removes what it references."""
    if column not in _REFERENCES:
        _REFERENCES.append(column)


# JSON columns that may hold blob SHA-256s under keys ending in ``sha256`` (e.g. the organisation's
# settings: ``seal_image_sha256``).
_JSON_REFERENCES: list[InstrumentedAttribute[Any]] = []


def register_json_blob_reference(column: InstrumentedAttribute[Any]) -> None:
    """Declare a JSON column whose values under ``*sha256`` keys (at any depth) reference blobs."""
    if column not in _JSON_REFERENCES:
        _JSON_REFERENCES.append(column)


def hashes_in_json(value: object) -> set[str]:
    """Every string under a key ending in ``sha256`` in ``value`` (dicts and lists, any depth)."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if isinstance(k, str) and k.endswith("sha256") and isinstance(v, str) and v:
                    found.add(v)
                else:
                    stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)
    return found
