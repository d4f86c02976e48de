"""S3-adapter specifics, checked on the loopback S3 server (moto) or the configured MinIO.

moto notes (5.x): it honours bucket object lock and versioning, refuses to delete a retained
object version (AccessDenied) and reports retention in HEAD headers, but does not implement
GetObjectRetention (it answers with the object body) -- the adapter reads retention from HEAD.
"""
from __future__ import annotations

import io

import pytest
from minio.commonconfig import ENABLED
from minio.error import S3Error

from ioffice.kernel.errors import StorageUnavailable
from ioffice.kernel.ports import blob_key
from storage import S3BlobStore

from .conftest import StoreCase
from .s3server import S3Target, unique_bucket_name


def _versions(case: StoreCase, key: str) -> list:
    client, bucket = case.extra["client"], case.extra["bucket"]
    return [
        o for o in client.list_objects(bucket, prefix=key, include_version=True)
        if o.object_name == key
    ]


def test_bucket_is_created_with_versioning_and_object_lock(s3_case: StoreCase) -> None:
    s3_case.store.check()
    client, bucket = s3_case.extra["client"], s3_case.extra["bucket"]
    assert client.bucket_exists(bucket)
    assert client.get_bucket_versioning(bucket).status == ENABLED
    client.get_object_lock_config(bucket)  # raises when the bucket has no object lock


def test_identical_content_makes_one_object_version(s3_case: StoreCase) -> None:
    stored = s3_case.store.put_bytes(b"same bytes")
    s3_case.store.put_bytes(b"same bytes")
    assert len(_versions(s3_case, blob_key(stored.sha256))) == 1


def test_final_blob_is_protected_by_the_server(s3_case: StoreCase) -> None:
    store = s3_case.store
    client, bucket = s3_case.extra["client"], s3_case.extra["bucket"]
    stored = store.put_bytes(b"%PDF-1.7 issued")
    store.mark_final(stored.sha256)
    key = blob_key(stored.sha256)
    head = client.stat_object(bucket, key)
    assert head.metadata.get("x-amz-object-lock-mode") == "GOVERNANCE"

    # Even going around the adapter, the server refuses to delete the retained version.
    with pytest.raises(S3Error) as err:
        client.remove_object(bucket, key, version_id=head.version_id)
    assert err.value.code == "AccessDenied"
    assert store.read_bytes(stored.sha256) == b"%PDF-1.7 issued"


def test_delete_removes_every_version(s3_case: StoreCase) -> None:
    store = s3_case.store
    client, bucket = s3_case.extra["client"], s3_case.extra["bucket"]
    stored = store.put_bytes(b"draft")
    key = blob_key(stored.sha256)
    client.put_object(bucket, key, io.BytesIO(b"draft"), 5)  # a second version
    assert len(_versions(s3_case, key)) == 2

    store.delete(stored.sha256)

    assert _versions(s3_case, key) == []


def test_cleanup_temp_removes_leftover_uploads(s3_case: StoreCase) -> None:
    store = s3_case.store
    client, bucket = s3_case.extra["client"], s3_case.extra["bucket"]
    store.check()
    client.put_object(bucket, "tmp/crashed-upload", io.BytesIO(b"half"), 4)
    assert store.cleanup_temp(max_age_seconds=3600) == 0
    assert store.cleanup_temp(max_age_seconds=0) == 1
    assert store.temp_objects() == []


def test_missing_bucket_without_create_is_unavailable(s3_target: S3Target) -> None:
    bucket = unique_bucket_name()
    store = S3BlobStore(s3_target.client(), bucket, create_bucket=False)
    with pytest.raises(StorageUnavailable) as err:
        store.check()
    assert bucket in err.value.detail
    assert not s3_target.client().bucket_exists(bucket)


def test_wrong_credentials_are_unavailable_without_leaking_them(s3_target: S3Target) -> None:
    if s3_target.is_moto:
        pytest.skip("not applicable: moto accepts any credentials")
    from storage.s3 import make_minio_client

    client = make_minio_client(s3_target.endpoint, "nobody", "wrong-secret-123", secure=s3_target.secure)
    with pytest.raises(StorageUnavailable) as err:
        S3BlobStore(client, unique_bucket_name()).check()
    assert "wrong-secret-123" not in err.value.detail


def test_reupload_of_old_identical_content_restarts_its_age(s3_case: StoreCase) -> None:
    """The sweeper deletes old unreferenced blobs: a re-upload must make the blob young again."""
    store = s3_case.store
    stored = store.put_bytes(b"uploaded twice")
    key = blob_key(stored.sha256)
    (before,) = _versions(s3_case, key)
    store.refresh_after_seconds = 0  # treat the first upload as old

    store.put_bytes(b"uploaded twice")

    (after,) = _versions(s3_case, key)  # still stored once
    assert after.version_id != before.version_id
    assert after.last_modified >= before.last_modified
    assert store.read_bytes(stored.sha256) == b"uploaded twice"


def test_reupload_keeps_a_final_blob_untouched(s3_case: StoreCase) -> None:
    store = s3_case.store
    stored = store.put_bytes(b"issued once")
    store.mark_final(stored.sha256)
    store.refresh_after_seconds = 0

    store.put_bytes(b"issued once")

    assert len(_versions(s3_case, blob_key(stored.sha256))) == 1
    assert store.is_final(stored.sha256)


def test_bucket_without_object_lock_fails_the_health_check(s3_target: S3Target) -> None:
    client = s3_target.client()
    bucket = unique_bucket_name()
    client.make_bucket(bucket)  # created by someone else, without object lock
    store = S3BlobStore(client, bucket)
    with pytest.raises(StorageUnavailable) as err:
        store.check()
    assert "object lock" in err.value.detail
    # Ordinary blobs still work; only locking them cannot.
    stored = store.put_bytes(b"draft")
    assert store.read_bytes(stored.sha256) == b"draft"
    assert not store.is_final(stored.sha256)
