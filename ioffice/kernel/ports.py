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


@runtime_checkable
class RecordStore(Protocol):
    """Small named write-once records kept beside the blobs (the audit chain's anchors).

    Names are ``/``-separated paths of ``[A-Za-z0-9._-]`` segments. A written record is locked in
    the backend where it can be (S3 object-lock retention; a read-only file on a filesystem).
    """

    def put_record(self, name: str, data: bytes) -> None:
        """Write ``name`` once. Writing the same bytes again is a no-op; different bytes under an
        existing name raise BlobLocked. Raises StorageUnavailable when the backend fails."""
        ...

    def list_records(self, prefix: str) -> list[str]:
        """Names of the records under ``prefix`` (sorted)."""
        ...

    def read_record(self, name: str) -> bytes:
        """The bytes of a record; raises BlobNotFound, StorageUnavailable."""
        ...


@runtime_checkable
class TimestampAuthority(Protocol):
    """An RFC 3161 time-stamping authority (the agency's TSA)."""

    def stamp(self, sha256_digest: bytes) -> bytes:
        """A DER TimeStampToken over a SHA-256 digest. Raises ServiceUnavailable when the TSA fails."""
        ...

    def check(self, token: bytes, sha256_digest: bytes) -> datetime:
        """The time the token certifies for ``sha256_digest``. Raises ValueError (English reason)
        when the token is malformed, covers another digest, or is not signed by a trusted TSA."""
        ...


@dataclass(frozen=True)
class SignatureCheck:
    """The validation of a PDF's signatures, as the core keeps it.

    ``verdict`` is one of the validation report's verdicts (``valid``, ``valid_with_changes``,
    ``modified``, ``invalid``, ``no_signature``, ``unreadable``); ``summary`` is one Vietnamese
    sentence for people; ``problems`` the report's reasons (Vietnamese)."""

    verdict: str
    trusted: bool
    summary: str
    problems: tuple[str, ...] = ()


@runtime_checkable
class PdfValidationPort(Protocol):
    """Validates every signature of a PDF (implemented with pyHanko in ``signing.validation``)."""

    def check(self, source: BinaryIO) -> SignatureCheck:
        """Never raises for a bad document (it gets the ``unreadable`` verdict); may take seconds:
        never call it with a database transaction open."""
        ...
