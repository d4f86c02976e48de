"""How each official signs: a key held by the server, a USB token through the signing plugin on
their own PC, or remote signing (a CSC service, confirmed on their phone).

The administrator sets the method (and, for remote signing, the provider and the credential
id); a token or remote official's certificate is registered once, checked by an adapter (trust,
validity, key usage, that it names the official) before it is stored. A sign request in a mode
the official does not have is refused with a Vietnamese message.

An official without a profile keeps the behaviour that predates profiles: the server key when
the server holds one, and the USB token (external mode) always.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Literal, Protocol

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from .. import audit
from ..accounts.models import User
from ..kernel.caller import Caller
from ..kernel.db import Base, UTCDateTime, utcnow
from ..kernel.errors import InvalidInput, NotFound

Method = Literal["server", "token", "remote"]
METHODS: tuple[str, ...] = ("server", "token", "remote")
# the ``mode`` of a sign request that each method allows
MODE_OF_METHOD = {"server": "server", "token": "external", "remote": "remote"}
METHOD_LABEL_VI = {"server": "khóa ký lưu trên máy chủ", "token": "USB token qua phần mềm ký trên máy tính",
                   "remote": "ký số từ xa (xác nhận trên điện thoại)"}


class SigningMethodNotAllowed(InvalidInput):
    """A sign request in a mode the official's signing method does not allow."""

    code = "signing-method-not-allowed"
    title = "Phương thức ký không phù hợp với cấu hình của người ký"


class SigningProfile(Base):
    """One official's signing method; absent means "as before profiles existed"."""

    __tablename__ = "signing_profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    csc_provider: Mapped[str | None] = mapped_column(String(64))
    csc_credential_id: Mapped[str | None] = mapped_column(String(255))
    certificate_pem: Mapped[str | None] = mapped_column(Text)
    certificate_sha256: Mapped[str | None] = mapped_column(String(64))
    certificate_subject: Mapped[str | None] = mapped_column(String(255))
    certificate_not_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CertificateInfo(Protocol):
    """What a certificate checker reports about a certificate it accepted (read-only)."""

    @property
    def subject(self) -> str: ...
    @property
    def not_after(self) -> datetime: ...
    @property
    def der_sha256(self) -> str: ...


class CertificateChecker(Protocol):
    def check(self, certificate_pem: str, *, full_name: str) -> CertificateInfo:
        """Return the facts of an acceptable signing certificate of ``full_name``; raise a
        DomainError naming the reason otherwise (expired, revoked, untrusted, key usage, name)."""
        ...


def profile_of(session: Session, user: User) -> SigningProfile | None:
    return session.get(SigningProfile, user.id)


def effective_method(session: Session, user: User) -> str:
    prof = profile_of(session, user)
    if prof is not None:
        return prof.method
    return "server" if user.signing_key else "token"


def allowed_modes(session: Session, user: User) -> list[str]:
    """The sign request modes ``user`` may use for a personal signature."""
    prof = profile_of(session, user)
    if prof is None:
        return ["server", "external"] if user.signing_key else ["external"]
    return [MODE_OF_METHOD[prof.method]]


def require_mode(session: Session, *, user: User, mode: str) -> SigningProfile | None:
    """Refuse a personal sign request in a mode the official's method does not allow."""
    if mode in allowed_modes(session, user):
        return profile_of(session, user)
    method = effective_method(session, user)
    asked = {"server": "server", "external": "token", "remote": "remote"}.get(mode, mode)
    raise SigningMethodNotAllowed(
        f"Bạn được cấu hình ký bằng {METHOD_LABEL_VI[method]}, không thể ký bằng "
        f"{METHOD_LABEL_VI.get(asked, mode)}. Hãy liên hệ quản trị viên nếu cần đổi phương thức ký.",
        method=method, requested_mode=mode)


def _target(session: Session, *, caller: Caller, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None or user.org_id != caller.org_id:
        raise NotFound("Không tìm thấy người dùng.")
    return user


def set_method(session: Session, *, caller: Caller, user_id: str, method: str, csc_provider: str | None = None,
               csc_credential_id: str | None = None, known_providers: tuple[str, ...] = ()) -> SigningProfile:
    """Set an official's signing method (administrator). Remote needs a provider and credential id."""
    user = _target(session, caller=caller, user_id=user_id)
    if method not in METHODS:
        raise InvalidInput(f"Phương thức ký không hợp lệ: {method}. Dùng: {', '.join(METHODS)}.")
    if method == "server" and not user.signing_key:
        raise InvalidInput("Máy chủ không giữ khóa ký của người dùng này; hãy chọn USB token hoặc ký số từ xa.")
    if method == "remote":
        if not csc_provider or not csc_credential_id:
            raise InvalidInput("Ký số từ xa cần nhà cung cấp (csc_provider) và mã chứng thư (csc_credential_id).")
        if csc_provider not in known_providers:
            raise InvalidInput(f"Nhà cung cấp ký số từ xa chưa được cấu hình: {csc_provider}. "
                               f"Đã cấu hình: {', '.join(known_providers) or 'chưa có'}.")
    else:
        csc_provider = csc_credential_id = None
    prof = session.get(SigningProfile, user.id)
    if prof is None:
        prof = SigningProfile(user_id=user.id, org_id=user.org_id, method=method)
        session.add(prof)
    prof.method, prof.csc_provider, prof.csc_credential_id = method, csc_provider, csc_credential_id
    session.flush()
    audit.record(session, caller=caller, action="user.signing_method", object_type="user", object_id=user.id,
                 details={"method": method, "csc_provider": csc_provider, "csc_credential_id": csc_credential_id})
    return prof


def register_certificate(session: Session, checker: CertificateChecker, *, caller: Caller, user_id: str,
                         certificate_pem: str) -> SigningProfile:
    """Register the certificate of a token or remote official after ``checker`` accepted it."""
    user = _target(session, caller=caller, user_id=user_id)
    info = checker.check(certificate_pem, full_name=user.full_name)
    prof = session.get(SigningProfile, user.id)
    if prof is None:
        prof = SigningProfile(user_id=user.id, org_id=user.org_id, method="token")
        session.add(prof)
    prof.certificate_pem = certificate_pem.strip() + "\n"
    prof.certificate_sha256 = info.der_sha256
    prof.certificate_subject = info.subject[:255]
    prof.certificate_not_after = info.not_after
    session.flush()
    audit.record(session, caller=caller, action="user.certificate", object_type="user", object_id=user.id,
                 details={"certificate_sha256": info.der_sha256, "subject": info.subject})
    return prof


def set_server_key(session: Session, checker: CertificateChecker, *, caller: Caller, user_id: str,
                   certificate_pem: str, store_key: Callable[[str], str], kind: str) -> SigningProfile:
    """Give an official a key the server holds (administrator), effective at once: the key's
    certificate must pass ``checker`` (trusted, valid, not revoked, allows signing, names the
    official); then ``store_key(username)`` keeps the key and returns its reference. The official's
    method becomes ``server``."""
    user = _target(session, caller=caller, user_id=user_id)
    info = checker.check(certificate_pem, full_name=user.full_name)
    user.signing_key = store_key(user.username)
    prof = session.get(SigningProfile, user.id)
    if prof is None:
        prof = SigningProfile(user_id=user.id, org_id=user.org_id, method="server")
        session.add(prof)
    prof.method, prof.csc_provider, prof.csc_credential_id = "server", None, None
    prof.certificate_pem = certificate_pem.strip() + "\n"
    prof.certificate_sha256 = info.der_sha256
    prof.certificate_subject = info.subject[:255]
    prof.certificate_not_after = info.not_after
    session.flush()
    audit.record(session, caller=caller, action="user.signing_key", object_type="user", object_id=user.id,
                 details={"kind": kind, "certificate_sha256": info.der_sha256, "subject": info.subject})
    return prof


def registered_certificate(session: Session, user: User) -> str | None:
    prof = profile_of(session, user)
    return prof.certificate_pem if prof else None


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()
