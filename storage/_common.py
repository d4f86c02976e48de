"""Helpers shared by the blob-store adapters: address validation and a hashing reader."""
from __future__ import annotations

import hashlib
import re
from typing import BinaryIO

from ioffice.kernel.errors import InvalidInput, PayloadTooLarge

CHUNK_SIZE = 1024 * 1024
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def normalize_sha256(sha256: str) -> str:
    """Return the lower-case hex address; raise InvalidInput for anything that is not one.

    This is also what keeps a caller-supplied address from escaping the store (``../``).
    """
    value = (sha256 or "").strip().lower()
    if not _SHA256_RE.match(value):
        raise InvalidInput("Mã băm SHA-256 của tệp không hợp lệ.")
    return value


def is_sha256(sha256: str) -> bool:
    """True when ``sha256`` looks like a content address (64 hex digits)."""
    return bool(_SHA256_RE.match((sha256 or "").strip().lower()))


def too_large_error(max_size: int) -> PayloadTooLarge:
    """The PayloadTooLarge raised by every adapter, with the limit spelt out for the clerk."""
    mb = max_size / (1024 * 1024)
    limit = f"{mb:.0f} MB" if mb >= 1 else f"{max_size} byte"
    return PayloadTooLarge(f"Tệp vượt quá dung lượng cho phép ({limit}).", max_size=max_size)


class SourceReadError(Exception):
    """The caller's stream failed while being read; ``original`` is what it raised.

    Lets an adapter tell a failing source (client went away) from a failing backend.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


class HashingReader:
    """File-like wrapper that hashes (SHA-256) and counts what is read through it.

    Raises PayloadTooLarge from ``read`` as soon as more than ``max_size`` bytes have come
    through, so an oversized upload is stopped while it streams.
    """

    def __init__(self, stream: BinaryIO, max_size: int | None = None) -> None:
        self._stream = stream
        self._max_size = max_size
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = CHUNK_SIZE
        try:
            data = self._stream.read(n)
        except Exception as exc:
            raise SourceReadError(exc) from exc
        if not data:
            return b""
        self.size += len(data)
        if self._max_size is not None and self.size > self._max_size:
            raise too_large_error(self._max_size)
        self._hash.update(data)
        return bytes(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


_RECORD_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
RECORD_PREFIX = "records/"


def normalize_record_name(name: str) -> str:
    """A record name: ``/``-separated segments of ``[A-Za-z0-9._-]`` (no ``..``, no leading dot)."""
    parts = (name or "").split("/")
    if not name or not all(_RECORD_SEGMENT_RE.match(p) for p in parts):
        raise InvalidInput("Tên bản ghi trong kho lưu trữ không hợp lệ.")
    return name
