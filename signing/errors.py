"""Signing errors: DomainError subclasses with Vietnamese details for clerks and officials."""
from __future__ import annotations

from ioffice.kernel.errors import DomainError, InvalidInput, ServiceUnavailable

__all__ = [
    "SignerCertificateRejected",
    "SigningKeyUnavailable",
    "SigningFailed",
    "ServiceUnavailable",
]


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


class SigningFailed(DomainError):
    """Signing failed for a reason that is neither the input's nor an external service's."""

    code = "signing-failed"
    status = 500
    title = "Ký số không thành công"
