"""MinIO/S3 blob store through the ``minio`` SDK (production).

Objects live at ``sha256/ab/cd/abcd…`` (``ioffice.ports.blob_key``) in a bucket with versioning
and object lock. Uploads stream to ``tmp/<uuid>`` while hashing, then are server-side copied to
their content key; final blobs carry object-lock retention so nobody can delete them.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, ENABLED, GOVERNANCE, ComposeSource, CopySource
from minio.datatypes import Object
from minio.error import MinioException, S3Error
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig

from ioffice.kernel.errors import BlobCorrupted, BlobLocked, BlobNotFound, DomainError, InvalidInput, StorageUnavailable
from ioffice.kernel.ports import BlobInfo, StoredBlob, blob_key

from ._common import CHUNK_SIZE, HashingReader, SourceReadError, is_sha256, normalize_sha256
from .records import S3Records

log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024
DEFAULT_PART_SIZE = 16 * 1024 * 1024
MAX_COPY_SIZE = 5 * 1024 * 1024 * 1024  # copy_object limit; above it compose_object
SPOOL_MAX_MEMORY = 8 * 1024 * 1024
TEMP_PREFIX = "tmp/"
BLOB_PREFIX = "sha256/"
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchVersion", "NoSuchObject"}

_UNAVAILABLE = "Không kết nối được tới kho lưu trữ đối tượng (S3/MinIO). Vui lòng thử lại sau."


def make_http_client(
    *,
    connect_timeout: float = 3.0,
    read_timeout: float = 60.0,
    retries: int = 2,
    cert_check: bool = True,
) -> urllib3.PoolManager:
    """A urllib3 pool with short timeouts and few retries, so a dead endpoint fails in seconds."""
    return urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=10,
        cert_reqs="CERT_REQUIRED" if cert_check else "CERT_NONE",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=retries,
            connect=1,
            read=1,
            backoff_factor=0.2,
            status_forcelist=[500, 502, 503, 504],
            raise_on_status=False,
        ),
    )


def make_minio_client(
    endpoint: str,
    access_key: str | None,
    secret_key: str | None,
    *,
    secure: bool = True,
    region: str | None = None,
    http_client: urllib3.PoolManager | None = None,
) -> Minio:
    """A ``Minio`` client using ``make_http_client()``.

    ``endpoint`` is ``host[:port]``; an ``http://`` or ``https://`` prefix overrides ``secure``.
    Raises InvalidInput for an endpoint the SDK rejects.
    """
    endpoint = endpoint.strip()
    if endpoint.startswith("http://"):
        endpoint, secure = endpoint[len("http://"):], False
    elif endpoint.startswith("https://"):
        endpoint, secure = endpoint[len("https://"):], True
    endpoint = endpoint.rstrip("/")
    try:
        return Minio(
            endpoint,
            access_key=access_key or None,
            secret_key=secret_key if access_key else None,
            secure=secure,
            region=region or None,
            http_client=http_client or make_http_client(),
        )
    except ValueError:
        raise InvalidInput(
            "Địa chỉ máy chủ lưu trữ S3 không hợp lệ (cần dạng máy:cổng, không có đường dẫn)."
        ) from None


def _is_not_found(exc: S3Error) -> bool:
    return exc.code in _NOT_FOUND_CODES


def _seekable_position(stream: BinaryIO) -> int | None:
    """The current position of a seekable local stream, or None for a one-way stream."""
    try:
        if not stream.seekable():
            return None
        return stream.tell()
    except (AttributeError, OSError, ValueError):
        return None


@contextlib.contextmanager
def _translate(action: str) -> Iterator[None]:
    """Turn transport failures into StorageUnavailable (logged in English, shown in Vietnamese).

    DomainErrors and S3 "not found" errors pass through for the caller to handle.
    """
    try:
        yield
    except DomainError:
        raise
    except S3Error as exc:
        if _is_not_found(exc):
            raise
        log.warning("S3 %s failed: %s %s", action, exc.code, exc.message)
        raise StorageUnavailable(
            f"Kho lưu trữ đối tượng từ chối thao tác {action} (mã lỗi {exc.code})."
        ) from None
    except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        log.warning("S3 %s failed: %s: %s", action, type(exc).__name__, exc)
        raise StorageUnavailable(_UNAVAILABLE) from None


class S3BlobStore(S3Records):
    """Content-addressed blob store in an S3 bucket (implements ``ioffice.ports.BlobStore``).

    The bucket is created on first use (versioning on, object lock enabled) when it is missing
    and ``create_bucket`` is true. No network call happens in the constructor.
    """

    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        retention_days: int = 3650,
        retention_mode: str = GOVERNANCE,
        create_bucket: bool = True,
        part_size: int = DEFAULT_PART_SIZE,
    ) -> None:
        mode = retention_mode.upper()
        if mode not in (GOVERNANCE, COMPLIANCE):
            raise InvalidInput("Chế độ lưu giữ S3 phải là GOVERNANCE hoặc COMPLIANCE.")
        if retention_days < 1:
            raise InvalidInput("Thời hạn lưu giữ S3 phải ít nhất 1 ngày.")
        if part_size < MIN_PART_SIZE:
            raise InvalidInput("Kích thước phần tải lên S3 phải ít nhất 5 MiB.")
        self.client = client
        self.bucket = bucket
        self.retention_days = retention_days
        self.retention_mode = mode
        self.create_bucket = create_bucket
        self.part_size = part_size
        self._bucket_ready = False
        # Re-uploading identical content older than this rewrites it (fresh last-modified), so
        # the sweeper never deletes a blob that a new row is about to reference.
        self.refresh_after_seconds = 3600.0

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r})"

    # -- bucket ----------------------------------------------------------------------------
    def _ensure_bucket(self) -> None:
        """Make sure the bucket exists (creating it with object lock + versioning if allowed)."""
        if self._bucket_ready:
            return
        with _translate("kiểm tra bucket"):
            if not self.client.bucket_exists(self.bucket):
                if not self.create_bucket:
                    raise StorageUnavailable(
                        f"Bucket lưu trữ '{self.bucket}' không tồn tại trên máy chủ S3."
                    )
                try:
                    self.client.make_bucket(self.bucket, object_lock=True)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
                self.client.set_bucket_versioning(self.bucket, VersioningConfig(ENABLED))
        self._bucket_ready = True

    # -- writes ----------------------------------------------------------------------------
    def put_stream(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        """Stream into the bucket under the content's SHA-256 (multipart, unknown length).

        Raises PayloadTooLarge (upload aborted, nothing kept) past ``max_size`` bytes and
        StorageUnavailable when S3 fails. Errors from ``stream.read`` propagate unchanged.
        """
        self._ensure_bucket()
        start = _seekable_position(stream)
        if start is not None:
            return self._put_local(stream, start, max_size)
        reader = HashingReader(stream, max_size)
        tmp_key = f"{TEMP_PREFIX}{uuid.uuid4().hex}"
        tmp_version: str | None = None
        uploaded = False
        try:
            try:
                with _translate("tải tệp lên"):
                    result = self.client.put_object(
                        self.bucket,
                        tmp_key,
                        reader,  # type: ignore[arg-type]
                        length=-1,
                        part_size=self.part_size,
                        num_parallel_uploads=1,
                    )
            except SourceReadError as exc:
                raise exc.original from None
            uploaded, tmp_version = True, result.version_id
            sha256, size = reader.hexdigest(), reader.size
            key = blob_key(sha256)
            with _translate("tải tệp lên"):
                existing = self._stat(key)
                if existing is None or existing.size != size:
                    self._copy_from_temp(tmp_key, tmp_version, key, size)
                elif self._needs_refresh(existing):
                    # Identical content stored long ago and not final: write a fresh version so
                    # the sweeper's grace period restarts, then drop the old one (stored once).
                    self._copy_from_temp(tmp_key, tmp_version, key, size)
                    if existing.version_id:
                        try:
                            self.client.remove_object(
                                self.bucket, key, version_id=existing.version_id
                            )
                        except S3Error as exc:
                            if not _is_not_found(exc):  # a concurrent refresh removed it
                                raise
        finally:
            # A failed put_object leaves nothing (minio aborts multipart uploads); anything
            # a lost response left behind is removed later by cleanup_temp().
            if uploaded:
                self._remove_temp(tmp_key, tmp_version)
        return StoredBlob(sha256=sha256, size=size)

    def _put_local(self, stream: BinaryIO, start: int, max_size: int | None) -> StoredBlob:
        """A local, seekable source (an upload already spooled to disk): hash it first, then
        stream it once straight to its content key — no temporary object, no server-side copy.
        The upload is hashed again on the way; if the source changed meanwhile, the object
        written is removed and StorageUnavailable raised."""
        first = HashingReader(stream, max_size)
        try:
            while first.read(CHUNK_SIZE):
                pass
        except SourceReadError as exc:
            raise exc.original from None
        sha256, size = first.hexdigest(), first.size
        key = blob_key(sha256)
        with _translate("tải tệp lên"):
            existing = self._stat(key)
        if existing is not None and existing.size == size and not self._needs_refresh(existing):
            return StoredBlob(sha256=sha256, size=size)
        stream.seek(start)
        again = HashingReader(stream, max_size)
        try:
            with _translate("tải tệp lên"):
                result = self.client.put_object(self.bucket, key, again, length=size,  # type: ignore[arg-type]
                                                part_size=self.part_size, num_parallel_uploads=1)
        except SourceReadError as exc:
            raise exc.original from None
        if again.hexdigest() != sha256 or again.size != size:
            with contextlib.suppress(S3Error):
                self.client.remove_object(self.bucket, key, version_id=result.version_id)
            raise StorageUnavailable("Tệp nguồn thay đổi trong khi tải lên kho lưu trữ; vui lòng thử lại.")
        if existing is not None and existing.version_id and existing.size == size:
            with contextlib.suppress(S3Error):  # refreshed: keep only the new version (stored once)
                self.client.remove_object(self.bucket, key, version_id=existing.version_id)
        return StoredBlob(sha256=sha256, size=size)

    def _copy_from_temp(self, tmp_key: str, tmp_version: str | None, key: str, size: int) -> None:
        """Server-side copy of the finished temp object to its content key."""
        version_id = tmp_version or None
        if size > MAX_COPY_SIZE:
            self.client.compose_object(
                self.bucket, key, [ComposeSource(self.bucket, tmp_key, version_id=version_id)]
            )
        else:
            self.client.copy_object(
                self.bucket, key, CopySource(self.bucket, tmp_key, version_id=version_id)
            )

    def _needs_refresh(self, existing: Object) -> bool:
        """True for a non-final object older than ``refresh_after_seconds``."""
        modified = existing.last_modified
        if modified is None or self._locked_until(existing) is not None:
            return False
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=UTC)
        age = datetime.now(UTC) - modified
        return age.total_seconds() >= self.refresh_after_seconds

    def _remove_temp(self, tmp_key: str, version_id: str | None) -> None:
        """Best effort: remove the temp object and every version of it (no delete markers left)."""
        try:
            if version_id:
                self.client.remove_object(self.bucket, tmp_key, version_id=version_id)
            else:
                for obj in self.client.list_objects(
                    self.bucket, prefix=tmp_key, include_version=True
                ):
                    if obj.object_name == tmp_key:
                        self.client.remove_object(
                            self.bucket, tmp_key, version_id=obj.version_id
                        )
        except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            log.warning("cannot remove temp object %s: %s", tmp_key, exc)

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store ``data``; see ``put_stream``."""
        return self.put_stream(io.BytesIO(data))

    # -- reads -----------------------------------------------------------------------------
    def _stat(self, key: str) -> Object | None:
        try:
            return self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if _is_not_found(exc):
                return None
            raise

    def open(self, sha256: str) -> BinaryIO:
        """Download into a spooled temp file while hashing; return it at offset 0 once verified.

        Raises BlobNotFound, BlobCorrupted (bad bytes are discarded), StorageUnavailable.
        """
        sha256 = normalize_sha256(sha256)
        self._ensure_bucket()
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)
        try:
            digest = hashlib.sha256()
            with _translate("đọc tệp"):
                try:
                    response = self.client.get_object(self.bucket, blob_key(sha256))
                except S3Error as exc:
                    if _is_not_found(exc):
                        raise BlobNotFound(sha256=sha256) from None
                    raise
                try:
                    for chunk in response.stream(CHUNK_SIZE):
                        digest.update(chunk)
                        spool.write(chunk)
                finally:
                    response.close()
                    response.release_conn()
            if digest.hexdigest() != sha256:
                log.error("blob %s is corrupted in bucket %s", sha256, self.bucket)
                raise BlobCorrupted(sha256=sha256)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return spool  # type: ignore[return-value]

    def read_bytes(self, sha256: str) -> bytes:
        """The verified bytes of a blob; see ``open``."""
        with self.open(sha256) as fh:
            return fh.read()

    def exists(self, sha256: str) -> bool:
        """True when a blob is stored under ``sha256``; raises StorageUnavailable."""
        if not is_sha256(sha256):
            return False
        self._ensure_bucket()
        with _translate("kiểm tra tệp"):
            return self._stat(blob_key(normalize_sha256(sha256))) is not None

    def size(self, sha256: str) -> int:
        """Stored size; raises BlobNotFound, StorageUnavailable."""
        sha256 = normalize_sha256(sha256)
        self._ensure_bucket()
        with _translate("kiểm tra tệp"):
            obj = self._stat(blob_key(sha256))
        if obj is None:
            raise BlobNotFound(sha256=sha256)
        if obj.size is None:  # HEAD always carries Content-Length; a server that omits it is broken
            raise StorageUnavailable("Kho lưu trữ không trả về kích thước tệp; vui lòng thử lại sau.")
        return obj.size

    # -- lifecycle -------------------------------------------------------------------------
    def _locked_until(self, obj: Object) -> datetime | None:
        """Retain-until date of a stat'ed object version while retention (or a legal hold) holds.

        Read from the HEAD response headers, which S3, MinIO and moto all return
        (moto does not implement GetObjectRetention).
        """
        headers = obj.metadata or {}
        if str(headers.get("x-amz-object-lock-legal-hold", "")).upper() == "ON":
            return datetime.max.replace(tzinfo=UTC)
        raw = headers.get("x-amz-object-lock-retain-until-date")
        if not raw or not headers.get("x-amz-object-lock-mode"):
            return None
        try:
            until = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            log.warning("unparseable retain-until date %r on %s", raw, obj.object_name)
            return datetime.max.replace(tzinfo=UTC)  # err on the safe side
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        return until if until > datetime.now(UTC) else None

    def _stat_version(self, key: str, version_id: str | None) -> Object | None:
        try:
            return self.client.stat_object(self.bucket, key, version_id=version_id)
        except S3Error as exc:
            if _is_not_found(exc) or exc.code == "MethodNotAllowed":  # delete marker
                return None
            raise

    def delete(self, sha256: str) -> None:
        """Remove every version of a blob; raises BlobLocked while retention is set.

        A missing blob is not an error.
        """
        sha256 = normalize_sha256(sha256)
        key = blob_key(sha256)
        self._ensure_bucket()
        with _translate("xóa tệp"):
            versions = [
                obj
                for obj in self.client.list_objects(self.bucket, prefix=key, include_version=True)
                if obj.object_name == key
            ]
            for obj in versions:
                if obj.is_delete_marker:
                    continue
                head = self._stat_version(key, obj.version_id)
                if head is not None and self._locked_until(head) is not None:
                    raise BlobLocked(sha256=sha256)
            for obj in versions:
                try:
                    self.client.remove_object(self.bucket, key, version_id=obj.version_id)
                except S3Error as exc:
                    if exc.code == "AccessDenied":
                        # Object lock refused the removal (e.g. a legal hold).
                        raise BlobLocked(sha256=sha256) from None
                    if not _is_not_found(exc):
                        raise

    def mark_final(self, sha256: str) -> None:
        """Set object-lock retention (mode and days from the constructor) on the blob.

        Idempotent; raises BlobNotFound, StorageUnavailable (e.g. bucket without object lock).
        """
        sha256 = normalize_sha256(sha256)
        key = blob_key(sha256)
        self._ensure_bucket()
        with _translate("khóa tệp"):
            obj = self._stat(key)
            if obj is None:
                raise BlobNotFound(sha256=sha256)
            if self._locked_until(obj) is not None:
                return
            until = datetime.now(UTC) + timedelta(days=self.retention_days)
            self.client.set_object_retention(
                self.bucket,
                key,
                Retention(self.retention_mode, until.replace(microsecond=0)),
                version_id=obj.version_id,
            )

    def is_final(self, sha256: str) -> bool:
        """True while the blob's current version carries retention."""
        if not is_sha256(sha256):
            return False
        key = blob_key(normalize_sha256(sha256))
        self._ensure_bucket()
        with _translate("kiểm tra tệp"):
            obj = self._stat(key)
            return obj is not None and self._locked_until(obj) is not None

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every stored blob (current versions under ``sha256/``), for the sweeper."""
        self._ensure_bucket()
        with _translate("liệt kê tệp"):
            for obj in self.client.list_objects(self.bucket, prefix=BLOB_PREFIX, recursive=True):
                name = (obj.object_name or "").rsplit("/", 1)[-1]
                if obj.is_dir or not is_sha256(name) or obj.object_name != blob_key(name):
                    continue
                modified = obj.last_modified or datetime.now(UTC)
                if modified.tzinfo is None:
                    modified = modified.replace(tzinfo=UTC)
                yield BlobInfo(sha256=name, size=int(obj.size or 0), modified=modified)

    def temp_objects(self) -> list[str]:
        """Keys (any version) under ``tmp/``: uploads in progress or left behind."""
        self._ensure_bucket()
        with _translate("liệt kê tệp"):
            return sorted(
                {
                    obj.object_name
                    for obj in self.client.list_objects(
                        self.bucket, prefix=TEMP_PREFIX, recursive=True, include_version=True
                    )
                }
            )

    def cleanup_temp(self, max_age_seconds: float = 3600.0) -> int:
        """Remove temp objects (every version) older than ``max_age_seconds``; returns how many."""
        self._ensure_bucket()
        cutoff = datetime.now(UTC) - timedelta(seconds=max_age_seconds)
        removed = 0
        with _translate("dọn tệp tạm"):
            for obj in self.client.list_objects(
                self.bucket, prefix=TEMP_PREFIX, recursive=True, include_version=True
            ):
                modified = obj.last_modified
                if modified is not None and modified.tzinfo is None:
                    modified = modified.replace(tzinfo=UTC)
                if modified is None or modified < cutoff:
                    self.client.remove_object(
                        self.bucket, obj.object_name, version_id=obj.version_id
                    )
                    removed += 1
        return removed

    def check(self) -> None:
        """Health probe: the endpoint answers, the bucket exists with object lock (without it
        final blobs could not be locked) and accepts a write.

        Raises StorageUnavailable naming what failed.
        """
        self._bucket_ready = False
        self._ensure_bucket()
        try:
            with _translate("kiểm tra bucket"):
                self.client.get_object_lock_config(self.bucket)
        except StorageUnavailable:
            raise StorageUnavailable(
                f"Bucket lưu trữ '{self.bucket}' chưa bật khóa đối tượng (object lock), "
                "không thể khóa văn bản đã ban hành."
            ) from None
        probe = f"{TEMP_PREFIX}probe-{uuid.uuid4().hex}"
        with _translate("ghi thử"):
            result = self.client.put_object(self.bucket, probe, io.BytesIO(b"ok"), 2)
        self._remove_temp(probe, result.version_id)
