"""One error tree for the whole core. ``api`` maps each class to RFC 9457 problem+json.

Every error carries a stable ``code`` (used as the problem ``type`` suffix), an HTTP-ish
``status`` hint and a human message (Vietnamese where a citizen or clerk reads it).
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of all expected failures. Never carries transport details or secrets."""

    code = "error"
    status = 400
    title = "Yêu cầu không hợp lệ"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)


class InvalidInput(DomainError):
    code = "invalid-input"
    status = 422
    title = "Dữ liệu không hợp lệ"


class InvalidDocument(InvalidInput):
    """An uploaded file is not an acceptable PDF (empty, truncated, encrypted, unparseable)."""

    code = "invalid-document"
    title = "Tệp không phải là tài liệu PDF hợp lệ"


class PayloadTooLarge(DomainError):
    code = "payload-too-large"
    status = 413
    title = "Tệp vượt quá dung lượng cho phép"


class AuthenticationFailed(DomainError):
    code = "unauthenticated"
    status = 401
    title = "Chưa đăng nhập hoặc phiên đăng nhập đã hết hạn"


class PermissionDenied(DomainError):
    code = "forbidden"
    status = 403
    title = "Bạn không có quyền thực hiện thao tác này"


class NotFound(DomainError):
    code = "not-found"
    status = 404
    title = "Không tìm thấy"


class Conflict(DomainError):
    code = "conflict"
    status = 409
    title = "Xung đột trạng thái"


class TooManyRequests(DomainError):
    code = "too-many-requests"
    status = 429
    title = "Quá nhiều yêu cầu, vui lòng thử lại sau"


class StorageUnavailable(DomainError):
    """The blob store cannot be reached or refused the operation."""

    code = "storage-unavailable"
    status = 503
    title = "Kho lưu trữ tệp đang không khả dụng"


class BlobNotFound(NotFound):
    code = "blob-not-found"
    title = "Không tìm thấy nội dung tệp trong kho lưu trữ"


class BlobCorrupted(DomainError):
    """Stored bytes no longer match their SHA-256: never served."""

    code = "blob-corrupted"
    status = 503
    title = "Nội dung tệp trong kho lưu trữ đã bị hỏng"


class BlobLocked(Conflict):
    """A final (signed, issued, certified) blob cannot be deleted or overwritten."""

    code = "blob-locked"
    title = "Tệp đã được khóa, không thể xóa hoặc ghi đè"


class ServiceUnavailable(DomainError):
    """An external service (TSA, OCSP, SMTP, database) failed after retries."""

    code = "service-unavailable"
    status = 503
    title = "Dịch vụ bên ngoài không khả dụng"


# Raised by the key/certificate adapters (certs) and by signing alike.
class SignerCertificateRejected(DomainError):
    """The signer's certificate may not be used to sign now (expired, revoked, wrong usage,
    untrusted). ``detail`` names the reason in Vietnamese; ``extra['reason']`` is a stable code:
    ``expired``, ``not-yet-valid``, ``revoked``, ``key-usage``, ``untrusted``, ``revocation-unknown``."""

    code = "signer-certificate-rejected"
    status = 422
    title = "Chứng thư số của người ký không được phép dùng để ký"


class SigningKeyUnavailable(InvalidInput):
    """The key source cannot be opened: missing file, wrong passphrase/PIN, token not found."""

    code = "signing-key-unavailable"
    title = "Không mở được khóa ký"
