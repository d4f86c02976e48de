"""Errors of external (token) signing sessions."""
from __future__ import annotations

from ioffice.kernel.errors import Conflict, InvalidInput


class ExternalSigningError(InvalidInput):
    """Base class for refusals specific to external signing."""

    code = "external-signing-error"
    title = "Không thể hoàn tất ký số bằng thiết bị ký số của người dùng"


class SigningSessionExpired(Conflict):
    code = "signing-session-expired"
    title = "Phiên ký đã hết hạn, vui lòng bắt đầu lại thao tác ký"


class PreparedDocumentChanged(Conflict):
    code = "prepared-document-changed"
    title = "Tài liệu đã bị thay đổi sau khi chuẩn bị ký, không thể hoàn tất phiên ký"


class DocumentNotSignable(Conflict):
    code = "document-not-signable"
    title = "Tài liệu không cho phép thêm chữ ký số"


class InvalidExternalSignature(ExternalSigningError):
    code = "invalid-external-signature"
    title = "Chữ ký số gửi về không hợp lệ"


class InvalidSigningSession(ExternalSigningError):
    code = "invalid-signing-session"
    title = "Dữ liệu phiên ký không hợp lệ"
