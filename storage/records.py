"""Named write-once records beside the blobs (``ioffice.kernel.ports.RecordStore``), mixed into both
blob-store adapters. They hold what the database must not be able to rewrite: the audit chain's
anchors.

* Filesystem: ``<root>/records/<name>``, created exclusively and left read-only (0o444). Anyone who
  can write the directory as the service's user can still remove it: a filesystem offers no
  retention. Keep a copy elsewhere (backups, or use S3 object lock) when that matters.
* S3: ``records/<name>`` written with object-lock retention (the store's mode and days) so that
  nobody, the service included, can delete or overwrite it before the retention ends. On a bucket
  without object lock the record is written without retention (and a warning logged).
"""
from __future__ import annotations

import io
import logging
import os
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ioffice.kernel.errors import BlobLocked, BlobNotFound

from ._common import RECORD_PREFIX, normalize_record_name

if TYPE_CHECKING:
    from minio import Minio

log = logging.getLogger("storage")


class FilesystemRecords:
    """Records as read-only files under ``<root>/records``."""

    root: Path

    def _unavailable(self, action: str, exc: OSError) -> Exception:  # provided by the store
        raise NotImplementedError

    def _ensure_dirs(self, *dirs: Path) -> None:  # provided by the store
        raise NotImplementedError

    def _record_path(self, name: str) -> Path:
        return self.root / RECORD_PREFIX.rstrip("/") / normalize_record_name(name)

    def put_record(self, name: str, data: bytes) -> None:
        path = self._record_path(name)
        try:
            if path.exists():
                if path.read_bytes() == data:
                    return
                raise BlobLocked(f"Bản ghi '{name}' đã tồn tại và không thể ghi đè.")
            self._ensure_dirs(path.parent)
            tmp = path.with_name(f".{uuid.uuid4().hex}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
                try:
                    os.link(tmp, path)  # fails if someone created it meanwhile: never overwrite
                except FileExistsError:
                    if path.read_bytes() != data:
                        raise BlobLocked(f"Bản ghi '{name}' đã tồn tại và không thể ghi đè.") from None
            finally:
                tmp.unlink(missing_ok=True)
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise self._unavailable("ghi bản ghi", exc) from None

    def list_records(self, prefix: str) -> list[str]:
        base = self.root / RECORD_PREFIX.rstrip("/")
        start = base / normalize_record_name(prefix.rstrip("/")) if prefix.strip("/") else base
        if not start.is_dir():
            return []
        try:
            names = [p.relative_to(base).as_posix() for p in start.rglob("*")
                     if p.is_file() and not p.name.startswith(".")]
        except OSError as exc:
            raise self._unavailable("liệt kê bản ghi", exc) from None
        return sorted(names)

    def read_record(self, name: str) -> bytes:
        path = self._record_path(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"Không tìm thấy bản ghi '{name}'.") from None
        except OSError as exc:
            raise self._unavailable("đọc bản ghi", exc) from None


class S3Records:
    """Records as objects under ``records/`` with object-lock retention."""

    client: Minio
    bucket: str
    retention_days: int
    retention_mode: str

    def _ensure_bucket(self) -> None:  # provided by the store
        raise NotImplementedError

    def put_record(self, name: str, data: bytes) -> None:
        from minio.error import S3Error
        from minio.retention import Retention

        from .s3 import _is_not_found, _translate

        key = RECORD_PREFIX + normalize_record_name(name)
        self._ensure_bucket()
        with _translate("ghi bản ghi"):
            try:
                self.client.stat_object(self.bucket, key)
                existing = True
            except S3Error as exc:
                if not _is_not_found(exc):
                    raise
                existing = False
            if existing:
                if self.read_record(name) == data:
                    return
                raise BlobLocked(f"Bản ghi '{name}' đã tồn tại và không thể ghi đè.")
            # written, then retained (the PUT with retention headers needs a checksum that minio
            # does not send for put_object; set_object_retention does)
            result = self.client.put_object(self.bucket, key, io.BytesIO(data), len(data))
            until = (datetime.now(UTC) + timedelta(days=self.retention_days)).replace(microsecond=0)
            try:
                self.client.set_object_retention(self.bucket, key, Retention(self.retention_mode, until),
                                                 version_id=result.version_id)
            except S3Error as exc:
                if exc.code not in ("InvalidRequest", "InvalidBucketState", "ObjectLockConfigurationNotFoundError"):
                    raise
                log.warning("bucket %s has no object lock: record %s kept without retention", self.bucket, key)

    def list_records(self, prefix: str) -> list[str]:
        from .s3 import _translate

        sub = normalize_record_name(prefix.rstrip("/")) + "/" if prefix.strip("/") else ""
        self._ensure_bucket()
        with _translate("liệt kê bản ghi"):
            objs: Any = self.client.list_objects(self.bucket, prefix=RECORD_PREFIX + sub, recursive=True)
            return sorted(o.object_name[len(RECORD_PREFIX):] for o in objs if not o.is_dir)

    def read_record(self, name: str) -> bytes:
        from minio.error import S3Error

        from .s3 import _is_not_found, _translate

        key = RECORD_PREFIX + normalize_record_name(name)
        self._ensure_bucket()
        with _translate("đọc bản ghi"):
            try:
                resp = self.client.get_object(self.bucket, key)
            except S3Error as exc:
                if _is_not_found(exc):
                    raise BlobNotFound(f"Không tìm thấy bản ghi '{name}'.") from None
                raise
            try:
                return resp.read()
            finally:
                resp.close()
                resp.release_conn()
