"""Write-once named records (the audit chain's anchors) on both stores: readable, listed, never
overwritten; on S3 the server itself refuses to delete them (object-lock retention)."""
from __future__ import annotations

import pytest
from minio.error import S3Error

from ioffice.kernel.errors import BlobLocked, BlobNotFound, InvalidInput
from ioffice.kernel.ports import RecordStore

from .conftest import StoreCase


def test_records_are_write_once(store_case: StoreCase) -> None:
    store = store_case.store
    assert isinstance(store, RecordStore)
    assert store.list_records("audit-anchors") == []
    store.put_record("audit-anchors/org1/000000000000007.json", b'{"seq": 7}')
    store.put_record("audit-anchors/org1/000000000000009.json", b'{"seq": 9}')
    store.put_record("audit-anchors/org2/000000000000001.json", b'{"seq": 1}')
    store.put_record("audit-anchors/org1/000000000000007.json", b'{"seq": 7}')  # same bytes: no-op
    with pytest.raises(BlobLocked):
        store.put_record("audit-anchors/org1/000000000000007.json", b'{"seq": 8}')
    assert store.read_record("audit-anchors/org1/000000000000007.json") == b'{"seq": 7}'
    assert store.list_records("audit-anchors/org1") == ["audit-anchors/org1/000000000000007.json",
                                                        "audit-anchors/org1/000000000000009.json"]
    assert len(store.list_records("audit-anchors")) == 3
    with pytest.raises(BlobNotFound):
        store.read_record("audit-anchors/org1/000000000000008.json")
    for bad in ("../etc/passwd", "a//b", ".hidden", ""):
        with pytest.raises(InvalidInput):
            store.put_record(bad, b"x")
    assert list(store.iter_blobs()) == []  # records are not blobs: the sweeper never sees them


def test_s3_record_is_retained_by_the_server(s3_case: StoreCase) -> None:
    store = s3_case.store
    client, bucket = s3_case.extra["client"], s3_case.extra["bucket"]
    store.put_record("audit-anchors/org1/000000000000003.json", b"anchor")
    key = "records/audit-anchors/org1/000000000000003.json"
    head = client.stat_object(bucket, key)
    assert head.metadata.get("x-amz-object-lock-mode") == "GOVERNANCE"
    with pytest.raises(S3Error) as err:
        client.remove_object(bucket, key, version_id=head.version_id)
    assert err.value.code == "AccessDenied"
    assert store.read_record("audit-anchors/org1/000000000000003.json") == b"anchor"
