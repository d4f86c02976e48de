"""Filesystem-adapter specifics: layout, read-only final blobs, temp cleanup, check()."""
from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

import pytest

from ioffice.kernel.errors import BlobLocked, StorageUnavailable
from ioffice.kernel.ports import blob_key
from storage import FilesystemBlobStore


def test_blob_lives_at_its_content_address(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    stored = store.put_bytes(b"hello")
    path = tmp_path / blob_key(stored.sha256)
    assert stored.sha256 == hashlib.sha256(b"hello").hexdigest()
    assert path.read_bytes() == b"hello"
    assert path.relative_to(tmp_path).parts[:3] == ("sha256", stored.sha256[:2], stored.sha256[2:4])


def test_final_blob_is_read_only_on_disk(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    stored = store.put_bytes(b"issued")
    store.mark_final(stored.sha256)
    mode = stat.S_IMODE((tmp_path / blob_key(stored.sha256)).stat().st_mode)
    assert mode == 0o444
    # The lock survives a new store instance (e.g. a restart).
    with pytest.raises(BlobLocked):
        FilesystemBlobStore(tmp_path).delete(stored.sha256)


def test_damaged_copy_of_other_length_is_replaced_by_a_new_upload(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    stored = store.put_bytes(b"original bytes")
    (tmp_path / blob_key(stored.sha256)).write_bytes(b"trunc")
    assert store.put_bytes(b"original bytes") == stored
    assert store.read_bytes(stored.sha256) == b"original bytes"


def test_cleanup_temp_removes_only_old_leftovers(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    store.check()  # creates the layout
    old = tmp_path / "tmp" / "old-upload.part"
    fresh = tmp_path / "tmp" / "fresh-upload.part"
    old.write_bytes(b"half an upload")
    fresh.write_bytes(b"upload in progress")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))

    assert store.cleanup_temp() == 1

    assert not old.exists()
    assert fresh.exists()
    assert list(store.iter_blobs()) == []  # temp files are never listed as blobs


def test_check_creates_a_missing_root(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "blobs"
    FilesystemBlobStore(root).check()
    assert root.is_dir()


def test_check_names_the_path_problem(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "blobs"
    not_a_dir.write_text("oops")
    with pytest.raises(StorageUnavailable) as err:
        FilesystemBlobStore(not_a_dir).check()
    assert str(not_a_dir) in err.value.detail
    assert "không phải là thư mục" in err.value.detail


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_check_reports_a_read_only_root(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.mkdir()
    root.chmod(0o555)
    try:
        with pytest.raises(StorageUnavailable) as err:
            FilesystemBlobStore(root).check()
        assert str(root) in err.value.detail
    finally:
        root.chmod(0o755)


def test_reupload_of_old_identical_content_restarts_its_age(tmp_path: Path) -> None:
    """The sweeper deletes old unreferenced blobs: a re-upload must make the blob young again."""
    store = FilesystemBlobStore(tmp_path)
    stored = store.put_bytes(b"uploaded twice")
    long_ago = time.time() - 3 * 86400
    os.utime(tmp_path / blob_key(stored.sha256), (long_ago, long_ago))

    store.put_bytes(b"uploaded twice")

    (info,) = list(store.iter_blobs())
    assert info.modified.timestamp() > long_ago + 86400
