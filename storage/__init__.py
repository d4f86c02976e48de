"""Object storage adapters for the core's ``BlobStore`` port.

``open_blob_store(url, ...)`` builds the adapter named by ``IOFFICE_STORAGE_URL``:

* ``file:///abs/path`` or a plain path → ``FilesystemBlobStore`` (the embedded default);
* ``s3://bucket`` → ``S3BlobStore`` through the ``minio`` SDK (``?retention_days=N`` and
  ``?retention_mode=GOVERNANCE|COMPLIANCE`` may be added to the URL).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ioffice.kernel.errors import InvalidInput
from ioffice.kernel.ports import BlobStore

from .filesystem import FilesystemBlobStore
from .s3 import S3BlobStore, make_http_client, make_minio_client

__all__ = [
    "FilesystemBlobStore",
    "S3BlobStore",
    "make_http_client",
    "make_minio_client",
    "open_blob_store",
]

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def open_blob_store(
    url: str,
    *,
    s3_endpoint: str | None = None,
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
    s3_secure: bool = True,
    s3_region: str | None = None,
) -> BlobStore:
    """Build the blob store named by ``url``. No I/O happens here; call ``check()`` to probe.

    Raises InvalidInput (Vietnamese message) for a URL that names no supported store, an
    invalid bucket name, or ``s3://`` without an endpoint.
    """
    url = (url or "").strip()
    if not url:
        raise InvalidInput("Chưa cấu hình địa chỉ kho lưu trữ tệp (IOFFICE_STORAGE_URL).")
    if "://" not in url:
        return FilesystemBlobStore(Path(url))

    scheme = url.split("://", 1)[0].lower()
    if scheme == "file":
        # file:///abs/path; file://localhost/abs/path; a relative ``file://./dir`` or
        # ``file://dir/sub`` (what ``file://<data dir>/blobs`` gives for a relative data dir).
        # Not parsed with urlsplit, so a directory name may contain '?' or '#'.
        rest = unquote(url.split("://", 1)[1])
        if rest.startswith("localhost/"):
            rest = rest[len("localhost"):]
        if not rest.strip("/"):
            raise InvalidInput(f"Địa chỉ kho lưu trữ tệp '{url}' thiếu đường dẫn thư mục.")
        return FilesystemBlobStore(Path(rest))

    parts = urlsplit(url)

    if scheme == "s3":
        bucket = parts.netloc
        if not _BUCKET_RE.match(bucket) or ".." in bucket:
            raise InvalidInput(
                f"Tên bucket '{bucket}' trong địa chỉ kho lưu trữ '{url}' không hợp lệ "
                "(3–63 ký tự chữ thường, số, dấu chấm hoặc gạch ngang)."
            )
        if parts.path not in ("", "/"):
            raise InvalidInput(
                f"Địa chỉ kho lưu trữ '{url}' chỉ được gồm tên bucket (s3://tên-bucket)."
            )
        if not s3_endpoint:
            raise InvalidInput(
                "Kho lưu trữ S3 cần địa chỉ máy chủ (IOFFICE_S3_ENDPOINT)."
            )
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        kwargs: dict[str, Any] = {}
        if "retention_days" in options:
            try:
                kwargs["retention_days"] = int(options.pop("retention_days"))
            except ValueError:
                raise InvalidInput("Tham số retention_days phải là số ngày.") from None
        if "retention_mode" in options:
            kwargs["retention_mode"] = options.pop("retention_mode")
        if options:
            raise InvalidInput(
                f"Tham số không được hỗ trợ trong địa chỉ kho lưu trữ: {', '.join(sorted(options))}."
            )
        client = make_minio_client(
            s3_endpoint, s3_access_key, s3_secret_key, secure=s3_secure, region=s3_region
        )
        return S3BlobStore(client, bucket, **kwargs)

    raise InvalidInput(
        f"Địa chỉ kho lưu trữ '{url}' không được hỗ trợ: dùng file:///đường/dẫn hoặc s3://bucket."
    )
