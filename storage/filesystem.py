"""Filesystem blob store: the embedded default.

Layout under ``root``::

    sha256/ab/cd/abcd…          the blob (read-only 0o444 once final)
    sha256/ab/cd/abcd….final    marker: the blob is final (signed, issued, certified)
    tmp/<uuid>.part             uploads in progress (same filesystem, so rename is atomic)
"""
from __future__ import annotations

import errno
import hashlib
import logging
import os
import stat
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ioffice.kernel.errors import BlobCorrupted, BlobLocked, BlobNotFound, StorageUnavailable
from ioffice.kernel.ports import BlobInfo, StoredBlob, blob_key

from ._common import CHUNK_SIZE, is_sha256, normalize_sha256, too_large_error
from .records import FilesystemRecords

log = logging.getLogger(__name__)

FINAL_SUFFIX = ".final"
TEMP_SUFFIX = ".part"
TEMP_DIR = "tmp"
BLOB_DIR = "sha256"


def _fsync_dir(path: Path) -> None:
    """Flush a directory entry change (create/rename/unlink) to disk."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_REASONS = {
    errno.ENOSPC: "hết dung lượng đĩa",
    errno.EDQUOT: "vượt hạn mức dung lượng",
    errno.EACCES: "không có quyền truy cập",
    errno.EPERM: "không có quyền truy cập",
    errno.EROFS: "hệ thống tệp chỉ cho phép đọc",
    errno.ENOTDIR: "một phần của đường dẫn không phải là thư mục",
    errno.EEXIST: "đường dẫn đã tồn tại nhưng không phải là thư mục",
    errno.ENOENT: "thư mục không tồn tại",
}


def _reason(exc: OSError) -> str:
    """A short Vietnamese reason for an OS error (no English OS message reaches a user)."""
    return _REASONS.get(exc.errno or 0, "lỗi vào/ra")


class FilesystemBlobStore(FilesystemRecords):
    """Content-addressed blob store in a local directory (implements ``ioffice.ports.BlobStore``).

    Writes are atomic (temp file, fsync, rename, fsync dir); identical content is stored once;
    reads are verified against the SHA-256 before any byte is handed out.
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser().absolute()
        self._blob_root = self.root / BLOB_DIR
        self._temp_root = self.root / TEMP_DIR

    def __repr__(self) -> str:
        return f"FilesystemBlobStore({str(self.root)!r})"

    # -- paths -----------------------------------------------------------------------------
    def _path(self, sha256: str) -> Path:
        return self.root / blob_key(normalize_sha256(sha256))

    def _unavailable(self, action: str, exc: OSError) -> StorageUnavailable:
        log.warning("filesystem blob store %s failed: %s", action, exc)
        return StorageUnavailable(
            f"Kho lưu trữ tệp tại {self.root} không khả dụng khi {action}: {_reason(exc)}."
        )


    def _ensure_dirs(self, *dirs: Path) -> None:
        """Create directories (and fsync the parents of new ones so the entries survive)."""
        for d in dirs:
            missing = []
            p = d
            while not p.exists():
                missing.append(p)
                if p.parent == p:
                    break
                p = p.parent
            if not missing:
                continue
            d.mkdir(parents=True, exist_ok=True)
            for created in reversed(missing):
                _fsync_dir(created.parent)

    # -- writes ----------------------------------------------------------------------------
    def put_stream(self, stream: BinaryIO, *, max_size: int | None = None) -> StoredBlob:
        """Stream into the store under the content's SHA-256.

        Raises PayloadTooLarge (nothing kept) past ``max_size`` bytes, StorageUnavailable on a
        disk error. Errors raised by ``stream.read`` itself propagate unchanged (temp removed).
        """
        try:
            self._ensure_dirs(self._temp_root)
            tmp = self._temp_root / f"{uuid.uuid4().hex}{TEMP_SUFFIX}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            raise self._unavailable("ghi tệp", exc) from None

        digest = hashlib.sha256()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    chunk = stream.read(CHUNK_SIZE)
                    if not chunk:
                        break
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise too_large_error(max_size)
                    digest.update(chunk)
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise self._unavailable("ghi tệp", exc) from None
                try:
                    out.flush()
                    os.fsync(out.fileno())
                except OSError as exc:
                    raise self._unavailable("ghi tệp", exc) from None
            sha256 = digest.hexdigest()
            self._commit(tmp, sha256, size)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredBlob(sha256=sha256, size=size)

    def _commit(self, tmp: Path, sha256: str, size: int) -> None:
        """Move a fully written temp file to its content address (or drop it if already there)."""
        target = self._path(sha256)
        try:
            try:
                existing = target.stat()
            except FileNotFoundError:
                existing = None
            if existing is not None and existing.st_size == size:
                # Identical content already stored: keep the existing blob, but refresh its
                # mtime so the sweeper's grace period restarts (a row is about to reference it).
                tmp.unlink()
                try:
                    os.utime(target)
                except OSError as exc:  # e.g. a read-only final blob owned by someone else
                    log.warning("cannot refresh mtime of %s: %s", target, exc)
                return
            # Missing, or a damaged copy of different length: (re)place it atomically.
            self._ensure_dirs(target.parent)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise self._unavailable("ghi tệp", exc) from None

    def put_bytes(self, data: bytes) -> StoredBlob:
        """Store ``data``; see ``put_stream``."""
        import io

        return self.put_stream(io.BytesIO(data))

    # -- reads -----------------------------------------------------------------------------
    def open(self, sha256: str) -> BinaryIO:
        """Open a blob after verifying its bytes; the caller closes the handle.

        The handle that was hashed is the one returned (blobs are only ever replaced by rename,
        so it keeps pointing at the verified bytes). Raises BlobNotFound, BlobCorrupted,
        StorageUnavailable.
        """
        sha256 = normalize_sha256(sha256)
        path = self._path(sha256)
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            raise BlobNotFound(sha256=sha256) from None
        except OSError as exc:
            raise self._unavailable("đọc tệp", exc) from None
        try:
            digest = hashlib.sha256()
            while True:
                chunk = fh.read(CHUNK_SIZE)
                if not chunk:
                    break
                digest.update(chunk)
            if digest.hexdigest() != sha256:
                log.error("blob %s is corrupted on disk (%s)", sha256, path)
                raise BlobCorrupted(sha256=sha256)
            fh.seek(0)
        except OSError as exc:
            fh.close()
            raise self._unavailable("đọc tệp", exc) from None
        except BaseException:
            fh.close()
            raise
        return fh

    def read_bytes(self, sha256: str) -> bytes:
        """The verified bytes of a blob; see ``open``."""
        with self.open(sha256) as fh:
            return fh.read()

    def exists(self, sha256: str) -> bool:
        """True when a blob is stored under ``sha256`` (a malformed address is never stored)."""
        if not is_sha256(sha256):
            return False
        try:
            return stat.S_ISREG(os.stat(self._path(sha256)).st_mode)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._unavailable("kiểm tra tệp", exc) from None

    def size(self, sha256: str) -> int:
        """Stored size in bytes; raises BlobNotFound."""
        sha256 = normalize_sha256(sha256)
        try:
            return self._path(sha256).stat().st_size
        except FileNotFoundError:
            raise BlobNotFound(sha256=sha256) from None
        except OSError as exc:
            raise self._unavailable("kiểm tra tệp", exc) from None

    # -- lifecycle -------------------------------------------------------------------------
    def delete(self, sha256: str) -> None:
        """Remove a blob; raises BlobLocked when it is final. A missing blob is not an error."""
        sha256 = normalize_sha256(sha256)
        path = self._path(sha256)
        if self.is_final(sha256):
            raise BlobLocked(sha256=sha256)
        try:
            path.unlink(missing_ok=True)
            if path.parent.exists():
                _fsync_dir(path.parent)
        except OSError as exc:
            raise self._unavailable("xóa tệp", exc) from None

    def mark_final(self, sha256: str) -> None:
        """Make the blob read-only (0o444) and record it as final; raises BlobNotFound."""
        sha256 = normalize_sha256(sha256)
        path = self._path(sha256)
        marker = path.with_name(path.name + FINAL_SUFFIX)
        try:
            os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            if not marker.exists():
                fd = os.open(marker, os.O_WRONLY | os.O_CREAT, 0o444)
                try:
                    os.write(fd, datetime.now(UTC).isoformat().encode())
                    os.fsync(fd)
                finally:
                    os.close(fd)
                _fsync_dir(path.parent)
        except FileNotFoundError:
            raise BlobNotFound(sha256=sha256) from None
        except OSError as exc:
            raise self._unavailable("khóa tệp", exc) from None

    def is_final(self, sha256: str) -> bool:
        """True once ``mark_final`` was called for this blob."""
        if not is_sha256(sha256):
            return False
        path = self._path(sha256)
        try:
            os.stat(path.with_name(path.name + FINAL_SUFFIX))
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._unavailable("kiểm tra tệp", exc) from None

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every stored blob (temp files and markers skipped), for the sweeper."""
        if not self._blob_root.is_dir():
            return
        try:
            for dirpath, _dirnames, filenames in os.walk(self._blob_root):
                for name in filenames:
                    if not is_sha256(name) or name != name.lower():
                        continue
                    try:
                        st = os.stat(os.path.join(dirpath, name))
                    except FileNotFoundError:
                        continue  # deleted while walking
                    yield BlobInfo(
                        sha256=name,
                        size=st.st_size,
                        modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
                    )
        except OSError as exc:
            raise self._unavailable("liệt kê tệp", exc) from None

    def cleanup_temp(self, max_age_seconds: float = 3600.0) -> int:
        """Remove leftover temp files older than ``max_age_seconds``; returns how many."""
        if not self._temp_root.is_dir():
            return 0
        cutoff = time.time() - max_age_seconds
        removed = 0
        for entry in os.scandir(self._temp_root):
            if not entry.name.endswith(TEMP_SUFFIX):
                continue
            try:
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cannot remove stale temp file %s: %s", entry.path, exc)
        return removed

    def temp_files(self) -> list[Path]:
        """Uploads in progress or left behind (for diagnostics and tests)."""
        if not self._temp_root.is_dir():
            return []
        return sorted(p for p in self._temp_root.iterdir() if p.name.endswith(TEMP_SUFFIX))

    def check(self) -> None:
        """Health probe: the root exists (or can be created) and accepts a write.

        Raises StorageUnavailable naming the path problem.
        """
        root = self.root
        if root.exists() and not root.is_dir():
            raise StorageUnavailable(
                f"Đường dẫn kho lưu trữ {root} không phải là thư mục."
            )
        try:
            self._ensure_dirs(self._temp_root, self._blob_root)
        except OSError as exc:
            raise StorageUnavailable(
                f"Không tạo được thư mục kho lưu trữ {root}: {_reason(exc)}."
            ) from None
        probe = self._temp_root / f"probe-{uuid.uuid4().hex}"
        try:
            with open(probe, "wb") as fh:
                fh.write(b"ok")
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise StorageUnavailable(
                f"Không ghi được vào thư mục kho lưu trữ {root}: "
                f"{_reason(exc)}."
            ) from None
        finally:
            try:
                probe.unlink(missing_ok=True)
            except OSError:
                pass
