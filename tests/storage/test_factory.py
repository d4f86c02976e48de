"""open_blob_store: which URL gives which store, and clear errors for the rest."""
from __future__ import annotations

from pathlib import Path

import pytest

from ioffice.kernel.errors import InvalidInput
from storage import FilesystemBlobStore, S3BlobStore, open_blob_store

from .s3server import S3Target


def test_file_url_and_plain_path(tmp_path: Path) -> None:
    for url in (
        f"file://{tmp_path}/blobs",
        str(tmp_path / "blobs"),
        f"file://localhost{tmp_path}/blobs",
        f"FILE://{tmp_path}/blobs",
    ):
        store = open_blob_store(url)
        assert isinstance(store, FilesystemBlobStore)
        assert store.root == tmp_path / "blobs"


def test_relative_file_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_blob_store("file://./ioffice-data/blobs")
    assert isinstance(store, FilesystemBlobStore)
    assert store.root == tmp_path / "ioffice-data" / "blobs"


def test_s3_url_round_trip(s3_target: S3Target) -> None:
    store = open_blob_store(
        "s3://ioffice-factory-test?retention_days=1",
        s3_endpoint=s3_target.endpoint,
        s3_access_key=s3_target.access_key,
        s3_secret_key=s3_target.secret_key,
        s3_secure=s3_target.secure,
    )
    assert isinstance(store, S3BlobStore)
    assert store.retention_days == 1
    stored = store.put_bytes(b"factory")
    assert store.read_bytes(stored.sha256) == b"factory"


def test_s3_endpoint_with_scheme(s3_target: S3Target) -> None:
    store = open_blob_store(
        "s3://ioffice-factory-test",
        s3_endpoint=f"http://{s3_target.endpoint}",
        s3_access_key=s3_target.access_key,
        s3_secret_key=s3_target.secret_key,
    )
    if s3_target.is_moto:
        store.check()  # plain http despite s3_secure defaulting to True


@pytest.mark.parametrize(
    "url, kwargs, words",
    [
        ("", {}, "IOFFICE_STORAGE_URL"),
        ("ftp://host/x", {}, "không được hỗ trợ"),
        ("file://", {}, "thiếu đường dẫn"),
        ("s3://Bad_Bucket", {"s3_endpoint": "h:9000"}, "bucket"),
        ("s3://ok-bucket/prefix", {"s3_endpoint": "h:9000"}, "tên bucket"),
        ("s3://ok-bucket", {}, "IOFFICE_S3_ENDPOINT"),
        ("s3://ok-bucket?retention_days=abc", {"s3_endpoint": "h:9000"}, "retention_days"),
        ("s3://ok-bucket?foo=1", {"s3_endpoint": "h:9000"}, "foo"),
        ("s3://ok-bucket", {"s3_endpoint": "h:9000/path"}, "S3"),
        ("s3://ok-bucket?retention_mode=FOREVER", {"s3_endpoint": "h:9000"}, "GOVERNANCE"),
    ],
)
def test_bad_urls_raise_invalid_input(url: str, kwargs: dict, words: str) -> None:
    with pytest.raises(InvalidInput) as err:
        open_blob_store(url, **kwargs)
    assert words in err.value.detail


def test_file_url_with_odd_characters(tmp_path: Path) -> None:
    store = open_blob_store(f"file://{tmp_path}/ho so #1?/blobs")
    assert store.root == tmp_path / "ho so #1?" / "blobs"
    store.put_bytes(b"x")
