"""Pre-signing checks of the signer's certificate (Decree 130 / national standards: signing
software must check the certificate before signing).

:func:`check_signer_certificate` refuses a certificate that is expired or not yet valid, whose
key usage does not allow signing, that does not chain to a trust root, or that is revoked
(OCSP/CRL through pyhanko-certvalidator). Messages are Vietnamese and name the reason.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeAlias

from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.hazmat.primitives import serialization
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)

from ioffice.kernel.aio import run_sync
from ioffice.kernel.errors import ServiceUnavailable, SignerCertificateRejected

CertLike: TypeAlias = "asn1_x509.Certificate | pyca_x509.Certificate"


def _asn1(cert: CertLike) -> asn1_x509.Certificate:
    if isinstance(cert, asn1_x509.Certificate):
        return cert
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _vn_date(d: dt.datetime) -> str:
    d = d.astimezone(dt.timezone(dt.timedelta(hours=7)))
    return d.strftime("%d/%m/%Y")


def check_signer_certificate(
    cert: CertLike,
    chain: Iterable[CertLike] = (),
    *,
    trust_roots: Sequence[CertLike],
    now: dt.datetime | None = None,
    revocation_mode: Literal["soft-fail", "hard-fail"] = "soft-fail",
    allow_fetching: bool = True,
    fetcher_backend: Any = None,
    ocsps: Sequence[Any] = (),
    crls: Sequence[Any] = (),
) -> None:
    """Return if ``cert`` may sign at ``now`` (default: the current time); raise otherwise.

    ``chain``: intermediates (roots may be included). ``revocation_mode``: with ``soft-fail``
    an unreachable OCSP/CRL service does not block signing; with ``hard-fail`` it does.
    Raises :class:`SignerCertificateRejected` (``extra['reason']`` one of ``expired``,
    ``not-yet-valid``, ``key-usage``, ``untrusted``, ``revoked``) or
    :class:`ioffice.kernel.errors.ServiceUnavailable` when revocation status is required but could not
    be obtained.
    """
    leaf = _asn1(cert)
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    name = leaf.subject.native.get("common_name", "")

    # 1. validity period (checked first: a clear message without any network traffic)
    not_before = leaf["tbs_certificate"]["validity"]["not_before"].native
    not_after = leaf["tbs_certificate"]["validity"]["not_after"].native
    if moment > not_after:
        raise SignerCertificateRejected(
            f"Chứng thư số của người ký ({name}) đã hết hạn ngày {_vn_date(not_after)}; "
            "không thể ký.", reason="expired", not_after=not_after.isoformat(),
        )
    if moment < not_before:
        raise SignerCertificateRejected(
            f"Chứng thư số của người ký ({name}) chưa có hiệu lực (có hiệu lực từ ngày "
            f"{_vn_date(not_before)}); không thể ký.", reason="not-yet-valid",
        )

    # 2. key usage
    ku = leaf.key_usage_value
    if ku is not None:
        usages = set(ku.native)
        if not usages & {"digital_signature", "non_repudiation"}:
            raise SignerCertificateRejected(
                f"Chứng thư số của người ký ({name}) không cho phép dùng để ký số "
                "(thiếu mục đích sử dụng digitalSignature/nonRepudiation).", reason="key-usage",
            )

    # 3. path to a trust root + revocation
    kwargs: dict[str, Any] = dict(
        trust_roots=[_asn1(c) for c in trust_roots],
        other_certs=[_asn1(c) for c in chain],
        moment=moment,
        allow_fetching=allow_fetching,
        revocation_mode=revocation_mode,
        time_tolerance=dt.timedelta(seconds=30),
        ocsps=list(ocsps),
        crls=list(crls),
    )
    if fetcher_backend is not None:
        kwargs["fetcher_backend"] = fetcher_backend

    async def validate() -> None:
        vc = ValidationContext(**kwargs)
        try:
            await CertificateValidator(leaf, validation_context=vc).async_validate_usage(set())
        finally:
            await vc.aclose()

    try:
        run_sync(validate)
    except RevokedError as exc:
        raise SignerCertificateRejected(
            f"Chứng thư số của người ký ({name}) đã bị thu hồi từ ngày "
            f"{_vn_date(exc.revocation_dt)}; không thể ký.", reason="revoked",
            revoked_at=exc.revocation_dt.isoformat(),
        ) from None
    except InsufficientRevinfoError:
        raise ServiceUnavailable(
            "Không kiểm tra được tình trạng thu hồi của chứng thư số người ký (OCSP/CRL "
            "không phản hồi); vui lòng thử lại sau."
        ) from None
    except ExpiredError:
        raise SignerCertificateRejected(
            f"Một chứng thư số trong chuỗi chứng thực của người ký ({name}) đã hết hạn; "
            "không thể ký.", reason="expired",
        ) from None
    except NotYetValidError:
        raise SignerCertificateRejected(
            f"Một chứng thư số trong chuỗi chứng thực của người ký ({name}) chưa có hiệu lực.",
            reason="not-yet-valid",
        ) from None
    except (PathBuildingError, PathValidationError, InvalidCertificateError):
        raise SignerCertificateRejected(
            f"Chứng thư số của người ký ({name}) không được cấp bởi tổ chức chứng thực tin cậy.",
            reason="untrusted",
        ) from None


def check_prepared_signer(signer: Any, *, trust_roots: Sequence[CertLike], **kw: Any) -> None:
    """:func:`check_signer_certificate` for a :class:`signing.engine.PreparedSigner`."""
    check_signer_certificate(signer.signing_cert, signer.chain[1:], trust_roots=trust_roots, **kw)
