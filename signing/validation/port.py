"""The core's :class:`~ioffice.kernel.ports.PdfValidationPort`, implemented with :func:`validate_pdf`."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

from ioffice.kernel.ports import SignatureCheck

from .entry import validate_pdf


class PyHankoValidation:
    """Validates with the given trust roots, offline (revocation data from the document only), in
    an isolated child process with a time limit."""

    def __init__(self, trust_roots: Callable[[], Sequence[Any]], *, timeout: float = 20) -> None:
        self._trust_roots = trust_roots
        self._timeout = timeout

    def check(self, source: BinaryIO) -> SignatureCheck:
        report = validate_pdf(source, trust_roots=self._trust_roots(), allow_fetching=False, timeout=self._timeout)
        return SignatureCheck(verdict=report.verdict, trusted=bool(report.trusted), summary=report.summary,
                              problems=tuple(str(p) for p in report.problems))
