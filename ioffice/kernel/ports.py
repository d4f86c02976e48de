"""Ports: the small protocols through which the core talks to adapters.

Adapters live outside the core (``storage``, ``signing``, ``certs``) and are wired in ``api``.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol, runtime_checkable


@dataclass(frozen=True)
class StoredBlob:
    """What the store holds: content address (lower-case hex SHA-256) and size in bytes."""

    sha256: str
    size: int


@dataclass(frozen=True)
class BlobInfo:
    sha256: str
    size: int
    modified: datetime  # timezone-aware UTC


def blob_key(sha256: str) -> str:
    """Content address layout shared by every adapter: ``sha256/ab/cd/abcd…``."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed, immutable blob storage.

    Identical content is stored once. Writes are atomic: a reader never sees a partial blob and a
    failed or rejected write leaves nothing behind.
    """

    def put_stream(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        """Stream ``stream`` into the store, computing SHA-256 on the way.

        Raises PayloadTooLarge (nothing kept) when more than ``max_size`` bytes arrive,
        StorageUnavailable when the backend fails.
        """
        ...

    def put_bytes(self, data: bytes) -> StoredBlob:
        ...

    def open(self, sha256: str) -> BinaryIO:
        """A readable file object positioned at 0 whose bytes were verified against ``sha256``.

        Raises BlobNotFound, BlobCorrupted (never serves bad bytes), StorageUnavailable.
        The caller closes it.
        """
        ...

    def read_bytes(self, sha256: str) -> bytes:
        ...

    def exists(self, sha256: str) -> bool:
        ...

    def size(self, sha256: str) -> int:
        """Stored size; raises BlobNotFound."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove a blob. Raises BlobLocked for a final blob; a missing blob is not an error."""
        ...

    def mark_final(self, sha256: str) -> None:
        """Make the blob immutable in the backend (S3 object-lock retention, read-only file)."""
        ...

    def is_final(self, sha256: str) -> bool:
        ...

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every stored blob (for the sweeper)."""
        ...

    def check(self) -> None:
        """Health probe. Raises StorageUnavailable naming what failed."""
        ...
