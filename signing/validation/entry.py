"""The public entry point :func:`validate_pdf`."""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from .isolation import _Job, _run_in_thread, _run_isolated
from .limits import MAX_PDF_BYTES
from .report import ValidationReport, _unreadable
from .trust import load_certificates

logger = logging.getLogger("signing.validation")


def _read_source(source: bytes | BinaryIO | Path | str, max_bytes: int) -> bytes:
    """The document's bytes, at most ``max_bytes`` + 1 of them. Raises OSError for a bad path."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[: max_bytes + 1])
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            return fh.read(max_bytes + 1)
    data = source.read(max_bytes + 1)
    return bytes(data or b"")


def validate_pdf(
    source: bytes | BinaryIO | Path,
    *,
    trust_roots: Sequence[Any] = (),
    other_certs: Sequence[Any] = (),
    allow_fetching: bool = False,
    now: datetime | None = None,
    timeout: float = 10,
    max_bytes: int = MAX_PDF_BYTES,
    isolate: bool = True,
    start_method: str = "forkserver",
) -> ValidationReport:
    """Validate every signature of a PDF and judge what happened after each was applied.

    ``trust_roots``/``other_certs`` accept cryptography or asn1crypto certificates, DER/PEM bytes
    or paths. With ``allow_fetching=False`` nothing touches the network: revocation data comes
    from the document (DSS, CMS) only. ``now`` is the validation time (default: now).
    ``timeout`` bounds the whole analysis (wall clock); ``isolate`` runs it in a child process so
    that a hostile document can neither hang nor crash the caller.

    ``start_method``: ``"forkserver"`` (default, safe with threads) or ``"fork"`` for one-shot
    single-threaded programs (the CLI), which then import nothing twice.

    Never raises: a source that cannot be read gives an ``unreadable`` report too (callers that
    must tell "missing file" apart check the path themselves, as the CLI does).
    """
    path: str | None = None
    try:
        if isinstance(source, (str, Path)) and isolate:
            # the analysis process reads the file itself: no copy of the document here
            path = str(source)
            size = os.stat(path).st_size
            data = b""
        else:
            data = _read_source(source, max_bytes)
            size = len(data)
    except Exception:  # noqa: BLE001
        return _unreadable("Không đọc được tệp.")
    if size > max_bytes:
        return _unreadable(f"Tệp lớn hơn giới hạn cho phép ({max_bytes // (1024 * 1024)} MB).")
    roots: list[bytes] = []
    others: list[bytes] = []
    for target, given in ((roots, trust_roots), (others, other_certs)):
        items = [given] if isinstance(given, (str, Path, bytes, bytearray)) else list(given or ())
        for item in items:
            try:
                target.extend(load_certificates(item))
            except Exception:  # noqa: BLE001 - a bad root is skipped (never trusted), not fatal
                logger.warning("ignoring an unreadable trust root / certificate")
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    job = _Job(data=data, roots=roots, others=others, allow_fetching=allow_fetching, now=now,
               fetch_timeout=min(float(timeout), 10.0), path=path, max_bytes=max_bytes)
    if isolate:
        result = _run_isolated(job, timeout, start_method)
        if result is not None:
            return result
    return _run_in_thread(job, timeout)
