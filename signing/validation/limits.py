"""Limits of the validation engine: document size, memory of the analysis process, graph sizes."""
from __future__ import annotations

MAX_PDF_BYTES = 100 * 1024 * 1024
"""Default cap on the size of a document we agree to analyse."""


_CHILD_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024  # address space of the analysis process


_MAX_GRAPH_NODES = 3_000_000  # object-graph nodes we agree to compare per revision pair


_MAX_DEPTH = 400  # nesting depth of PDF objects we agree to follow


_MAX_PAGES = 20_000


_MAX_REVISIONS = 1_000


_MAX_SIGNATURES = 200
