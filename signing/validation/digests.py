"""SHA-256 prefixes of the document, each byte hashed once.

The report identifies the document by the SHA-256 of the whole file and of each signed revision
(the file up to the end of a signature's byte range); a SHA-256 signature's own digest covers the
file from its start up to the signature's ``/Contents`` gap. All of them are hashes of prefixes
of the same bytes, so one running hash serves them all: each prefix resumes from the nearest
state already computed before it. On a large file with one signature this hashes the bytes once
instead of twice (once for pyHanko's byte-range digest, once for the register look-up).
"""
from __future__ import annotations

import bisect
import hashlib
from typing import Any


class PrefixHashes:
    """SHA-256 states of prefixes of ``data`` (bytes-like), computed on demand and kept."""

    def __init__(self, data: Any) -> None:
        self._view = memoryview(data)
        self._offsets: list[int] = [0]
        self._states: list[Any] = [hashlib.sha256()]

    def state(self, end: int) -> Any:
        """A copy of the SHA-256 state after ``data[:end]`` (``0 <= end <= len(data)``)."""
        if not 0 <= end <= len(self._view):
            raise ValueError("prefix outside the document")
        i = bisect.bisect_right(self._offsets, end) - 1
        start, h = self._offsets[i], self._states[i]
        if start != end:
            h = h.copy()
            h.update(self._view[start:end])
            self._offsets.insert(i + 1, end)
            self._states.insert(i + 1, h)
        return h.copy()

    def warm(self, offsets: list[int]) -> None:
        """Compute the states at ``offsets`` (those inside the document) in file order."""
        for end in sorted(set(offsets)):
            if 0 <= end <= len(self._view):
                self.state(end)

    def hexdigest(self, end: int) -> str:
        return str(self.state(end).hexdigest())

    def byte_range_digest(self, byte_range: Any) -> bytes | None:
        """The SHA-256 of the byte range's pieces, as pyHanko computes it from the same bytes;
        None unless the range is plain integers starting at 0 and lying inside the document."""
        try:
            vals = list(byte_range)
        except Exception:  # noqa: BLE001
            return None
        if len(vals) < 2 or len(vals) % 2 or not all(
                type(v) is not bool and isinstance(v, int) for v in vals):
            return None
        pairs = [(int(vals[i]), int(vals[i + 1])) for i in range(0, len(vals), 2)]
        size = len(self._view)
        if pairs[0][0] != 0 or any(lo < 0 or n < 0 or lo + n > size for lo, n in pairs):
            return None
        h = self.state(pairs[0][1])
        for lo, n in pairs[1:]:
            h.update(self._view[lo:lo + n])
        return bytes(h.digest())

    def release(self) -> None:
        self._view.release()
