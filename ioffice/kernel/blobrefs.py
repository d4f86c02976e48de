"""Columns that hold blob SHA-256s: the sweeper never removes what they reference."""
from __future__ import annotations

from sqlalchemy.orm import InstrumentedAttribute


_REFERENCES: list[InstrumentedAttribute] = []


def register_blob_reference(column: InstrumentedAttribute) -> None:
    """Declare a column holding blob SHA-256s; the sweeper never removes what it references."""
    if column not in _REFERENCES:
        _REFERENCES.append(column)
