"""Signing errors: DomainError subclasses with Vietnamese details for clerks and officials.

``SignerCertificateRejected`` and ``SigningKeyUnavailable`` are raised by ``certs`` (key sources,
certificate checks) as well as here, so they live in the core's error tree and are re-exported.
"""
from __future__ import annotations

from ioffice.kernel.errors import (
    DomainError,
    ServiceUnavailable,
    SignerCertificateRejected,
    SigningKeyUnavailable,
)

__all__ = [
    "SignerCertificateRejected",
    "SigningKeyUnavailable",
    "SigningFailed",
    "ServiceUnavailable",
]


class SigningFailed(DomainError):
    """Signing failed for a reason that is neither the input's nor an external service's."""

    code = "signing-failed"
    status = 500
    title = "Ký số không thành công"
