"""One behaviour contract, checked against every BlobStore adapter (filesystem and S3)."""
from __future__ import annotations

import hashlib
import io
import os

import pytest

from ioffice.kernel.errors import (
    BlobCorrupted,
    BlobLocked,
    BlobNotFound,
    InvalidInput,
    PayloadTooLarge,
    StorageUnavailable,
)
from ioffice.kernel.ports import BlobStore, StoredBlob

from .conftest import StoreCase

MB = 1024 * 1024


class TrickleStream(io.RawIOBase):
    """A non-seekable stream that hands out at most ``step`` bytes per read (like a socket)."""

    def __init__(self, data: bytes, step: int = 65_537, fail_after: int | None = None) -> None:
        self._data = data
        self._pos = 0
        self._step = step
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._fail_after is not None and self._pos >= self._fail_after:
            raise ConnectionResetError("client went away")
        n = self._step if n is None or n < 0 else min(n, self._step)
        chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_store_implements_the_port(store_case: StoreCase) -> None:
    assert isinstance(store_case.store, BlobStore)


@pytest.mark.parametrize("size", [0, 1, 1000, 11 * MB], ids=["empty", "1B", "1kB", "11MB"])
def test_round_trip(store_case: StoreCase, size: int) -> None:
    store = store_case.store
    data = os.urandom(size)

    stored = store.put_stream(TrickleStream(data), max_size=size or None)

    assert stored == StoredBlob(sha256=sha(data), size=size)
    assert store.exists(stored.sha256)
    assert store.size(stored.sha256) == size
    with store.open(stored.sha256) as fh:
        assert fh.read() == data
    assert store.read_bytes(stored.sha256) == data
    assert store_case.leftovers() == []


def test_put_bytes_and_upper_case_address(store_case: StoreCase) -> None:
    store = store_case.store
    stored = store.put_bytes(b"%PDF-1.7 c\xc3\xb4ng v\xc4\x83n")
    assert store.read_bytes(stored.sha256.upper()) == b"%PDF-1.7 c\xc3\xb4ng v\xc4\x83n"


def test_identical_content_is_stored_once(store_case: StoreCase) -> None:
    store = store_case.store
    data = os.urandom(300_000)

    first = store.put_bytes(data)
    second = store.put_stream(io.BytesIO(data))

    assert first == second
    assert [b.sha256 for b in store.iter_blobs()] == [first.sha256]
    assert store.read_bytes(first.sha256) == data
    assert store_case.leftovers() == []


@pytest.mark.parametrize("size", [1000, 11 * MB], ids=["single-part", "multipart"])
def test_size_limit_rejects_and_leaves_nothing(store_case: StoreCase, size: int) -> None:
    store = store_case.store
    data = os.urandom(size)

    with pytest.raises(PayloadTooLarge) as err:
        store.put_stream(TrickleStream(data), max_size=size - 1)

    assert "dung lượng" in err.value.detail
    assert not store.exists(sha(data))
    assert list(store.iter_blobs()) == []
    assert store_case.leftovers() == []
    # Exactly at the limit is accepted.
    assert store.put_stream(io.BytesIO(data), max_size=size).size == size


def test_failing_source_stream_leaves_nothing(store_case: StoreCase) -> None:
    store = store_case.store
    data = os.urandom(2 * MB)

    with pytest.raises(ConnectionResetError):
        store.put_stream(TrickleStream(data, fail_after=MB))

    assert list(store.iter_blobs()) == []
    assert store_case.leftovers() == []


def test_corrupted_blob_is_never_served(store_case: StoreCase) -> None:
    store = store_case.store
    data = os.urandom(100_000)
    stored = store.put_bytes(data)

    store_case.corrupt(stored.sha256)

    with pytest.raises(BlobCorrupted):
        store.open(stored.sha256)
    with pytest.raises(BlobCorrupted):
        store.read_bytes(stored.sha256)


def test_missing_blob(store_case: StoreCase) -> None:
    store = store_case.store
    missing = sha(b"never stored")

    assert not store.exists(missing)
    assert not store.is_final(missing)
    with pytest.raises(BlobNotFound):
        store.open(missing)
    with pytest.raises(BlobNotFound):
        store.read_bytes(missing)
    with pytest.raises(BlobNotFound):
        store.size(missing)
    with pytest.raises(BlobNotFound):
        store.mark_final(missing)
    store.delete(missing)  # not an error


def test_malformed_address_is_rejected(store_case: StoreCase) -> None:
    store = store_case.store
    assert not store.exists("../../etc/passwd")
    with pytest.raises(InvalidInput):
        store.open("../../etc/passwd")
    with pytest.raises(InvalidInput):
        store.delete("abc")


def test_final_blob_cannot_be_deleted(store_case: StoreCase) -> None:
    store = store_case.store
    data = b"%PDF-1.7 signed and issued"
    stored = store.put_bytes(data)
    assert not store.is_final(stored.sha256)

    store.mark_final(stored.sha256)
    store.mark_final(stored.sha256)  # idempotent

    assert store.is_final(stored.sha256)
    with pytest.raises(BlobLocked):
        store.delete(stored.sha256)
    assert store.read_bytes(stored.sha256) == data
    # Storing the same content again keeps the final blob as it is.
    assert store.put_bytes(data) == stored
    assert store.is_final(stored.sha256)


def test_delete_removes_a_blob(store_case: StoreCase) -> None:
    store = store_case.store
    keep = store.put_bytes(b"keep")
    gone = store.put_bytes(b"gone")

    store.delete(gone.sha256)

    assert not store.exists(gone.sha256)
    with pytest.raises(BlobNotFound):
        store.open(gone.sha256)
    assert [b.sha256 for b in store.iter_blobs()] == [keep.sha256]
    # It can be stored again afterwards.
    assert store.put_bytes(b"gone") == gone
    assert store.read_bytes(gone.sha256) == b"gone"


def test_iter_blobs_lists_what_was_stored(store_case: StoreCase) -> None:
    store = store_case.store
    assert list(store.iter_blobs()) == []
    payloads = [os.urandom(n) for n in (1, 10, 1000, 70_000)]
    stored = {store.put_bytes(p).sha256: len(p) for p in payloads}
    store.mark_final(next(iter(stored)))

    infos = list(store.iter_blobs())

    assert {i.sha256: i.size for i in infos} == stored
    assert all(i.modified.tzinfo is not None for i in infos)


def test_check_passes_on_a_healthy_store(store_case: StoreCase) -> None:
    store_case.store.check()
    store_case.store.check()
    assert store_case.leftovers() == []


def test_unreachable_backend_reports_storage_unavailable(store_case: StoreCase) -> None:
    store = store_case.unavailable()
    some = sha(b"x")

    for call in (
        lambda: store.check(),
        lambda: store.put_bytes(b"hello"),
        lambda: store.put_stream(io.BytesIO(b"hello"), max_size=10),
        lambda: store.open(some),
        lambda: store.exists(some),
    ):
        with pytest.raises(StorageUnavailable) as err:
            call()
        detail = err.value.detail
        assert detail and "Traceback" not in detail
        assert "kho lưu trữ" in detail.lower()


@pytest.mark.parametrize("size", [1000, 11 * MB], ids=["single-part", "multipart"])
def test_seekable_local_file_round_trip_and_limit(store_case: StoreCase, size: int, tmp_path) -> None:
    """An upload already spooled to disk (seekable) is stored the same way as a one-way stream."""
    store = store_case.store
    data = os.urandom(size)
    path = tmp_path / "spooled.bin"
    path.write_bytes(data)
    with path.open("rb") as f:
        with pytest.raises(PayloadTooLarge):
            store.put_stream(f, max_size=size - 1)
    assert list(store.iter_blobs()) == [] and store_case.leftovers() == []
    with path.open("rb") as f:
        stored = store.put_stream(f, max_size=size)
    assert stored == StoredBlob(sha256=sha(data), size=size)
    assert store.read_bytes(stored.sha256) == data
    with path.open("rb") as f:
        assert store.put_stream(f) == stored  # stored once
    assert [b.sha256 for b in store.iter_blobs()] == [stored.sha256]


class FailingFile(io.BytesIO):
    """A seekable local file whose disk fails half-way through (e.g. an I/O error)."""

    def read(self, n: int = -1) -> bytes:
        if self.tell() >= len(self.getbuffer()) // 2:
            raise OSError(5, "Input/output error")
        return super().read(min(n, 100_000) if n and n > 0 else 100_000)


def test_failing_seekable_source_leaves_nothing(store_case: StoreCase) -> None:
    store = store_case.store
    with pytest.raises(OSError) as err:
        store.put_stream(FailingFile(os.urandom(3 * MB)))
    assert err.value.errno == 5  # the source's own error, not a storage failure
    assert list(store.iter_blobs()) == []
    assert store_case.leftovers() == []
