"""Fixtures: every conformance test runs against the filesystem and the S3 adapter."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from minio import Minio

from ioffice.kernel.ports import BlobStore, blob_key
from storage import FilesystemBlobStore, S3BlobStore
from storage.s3 import MIN_PART_SIZE, make_http_client, make_minio_client

from .s3server import (  # noqa: F401  (fixtures re-exported for this folder)
    S3Target,
    closed_port,
    moto_s3_endpoint,
    moto_s3_server,
    s3_target,
    unique_bucket_name,
)


@dataclass
class StoreCase:
    """A store under test plus backend-level tools to look behind its back."""

    kind: str
    store: BlobStore
    corrupt: Callable[[str], None]  # damage the stored bytes of a blob (same length)
    leftovers: Callable[[], list[str]]  # temp files / temp objects / unfinished uploads
    unavailable: Callable[[], BlobStore]  # same kind of store whose backend is unreachable
    extra: dict = field(default_factory=dict)


def _filesystem_case(tmp_path: Path) -> StoreCase:
    root = tmp_path / "blobs"
    store = FilesystemBlobStore(root)

    def corrupt(sha256: str) -> None:
        path = root / blob_key(sha256)
        path.chmod(0o644)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))

    def leftovers() -> list[str]:
        return [str(p) for p in store.temp_files()]

    def unavailable() -> BlobStore:
        not_a_dir = tmp_path / "not-a-directory"
        not_a_dir.write_bytes(b"a file where the store root should be")
        return FilesystemBlobStore(not_a_dir)

    return StoreCase("filesystem", store, corrupt, leftovers, unavailable, {"root": root})


def _s3_case(target: S3Target) -> StoreCase:
    client = target.client()
    bucket = unique_bucket_name()
    # Smallest legal part size so a few MB already exercise multipart uploads.
    store = S3BlobStore(client, bucket, retention_days=1, part_size=MIN_PART_SIZE)

    def corrupt(sha256: str) -> None:
        import io

        key = blob_key(sha256)
        data = bytearray(client.get_object(bucket, key).read())
        data[len(data) // 2] ^= 0xFF
        client.put_object(bucket, key, io.BytesIO(bytes(data)), len(data))

    def leftovers() -> list[str]:
        left = list(store.temp_objects())
        uploads = client._list_multipart_uploads(bucket, prefix="tmp/")  # unfinished multipart uploads
        left += [f"upload:{u.object_name}" for u in uploads.uploads]
        return left

    def unavailable() -> BlobStore:
        dead: Minio = make_minio_client(
            f"127.0.0.1:{closed_port()}",
            target.access_key,
            target.secret_key,
            secure=False,
            http_client=make_http_client(connect_timeout=1.0, read_timeout=2.0, retries=1),
        )
        return S3BlobStore(dead, bucket)

    return StoreCase("s3", store, corrupt, leftovers, unavailable, {"client": client, "bucket": bucket})


@pytest.fixture(params=["filesystem", "s3"])
def store_case(request: pytest.FixtureRequest, tmp_path: Path) -> StoreCase:
    """A fresh, empty store of each kind (S3: a new bucket on moto or the configured MinIO)."""
    if request.param == "filesystem":
        return _filesystem_case(tmp_path)
    return _s3_case(request.getfixturevalue("s3_target"))


@pytest.fixture
def s3_case(s3_target: S3Target) -> StoreCase:
    """Just the S3 store (for S3-only behaviour)."""
    return _s3_case(s3_target)
