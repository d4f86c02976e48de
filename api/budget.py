"""A process-wide memory budget for public validation (``/api/v1/verify``, the ``/verify`` page).

Validating a file costs memory in proportion to its size (about 3× in the service and its
analysis process), so the budget counts the bytes of the files being validated at once. A request
that does not fit is answered at once with 503 and ``Retry-After`` — never queued without bound.
A file larger than the whole budget is still accepted when nothing else is being validated.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ioffice.kernel.errors import ServiceUnavailable

RETRY_AFTER_SECONDS = 10


class ValidationBudget:
    def __init__(self, total_bytes: int) -> None:
        self.total = total_bytes
        self.in_flight = 0
        self._lock = threading.Lock()

    @contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        """Hold ``size`` bytes of the budget for the block; raises ServiceUnavailable (503) when
        they are not available now."""
        size = max(int(size), 1)
        with self._lock:
            if self.in_flight and self.in_flight + size > self.total:
                raise ServiceUnavailable(
                    "Máy chủ đang kiểm tra nhiều tệp cùng lúc. Vui lòng thử lại sau ít giây.",
                    retry_after=RETRY_AFTER_SECONDS)
            self.in_flight += size
        try:
            yield
        finally:
            with self._lock:
                self.in_flight -= size
