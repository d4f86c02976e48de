"""The token's certificate: loading, checks before preparing, the signature mechanism, verifying the
raw signature the token returns."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asn1crypto import algos, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from signing.errors import SignerCertificateRejected

from .errors import InvalidExternalSignature, InvalidSigningSession
from .session import DIGEST_ALGORITHM, PSS_SALT_LENGTH, VN_TZ

CertLike = Any  # asn1crypto / cryptography certificate, PEM str/bytes or DER bytes


def _load_cert(value: CertLike) -> asn1_x509.Certificate:
    """Normalise a certificate given in any common form; raises SignerCertificateRejected."""
    try:
        if isinstance(value, asn1_x509.Certificate):
            return value
        if isinstance(value, pyca_x509.Certificate):
            return asn1_x509.Certificate.load(value.public_bytes(serialization.Encoding.DER))
        if isinstance(value, str):
            value = value.encode("ascii")
        if isinstance(value, (bytes, bytearray)):
            data = bytes(value)
            if pem.detect(data):
                _, _, data = pem.unarmor(data)
            cert = asn1_x509.Certificate.load(data)
            cert.native  # noqa: B018 - force full parse so garbage fails here, not later
            return cert
    except Exception as exc:  # noqa: BLE001 - any parse failure is the caller's input
        raise SignerCertificateRejected(
            "Không đọc được chứng thư số (cần định dạng PEM hoặc DER hợp lệ).", reason="unreadable"
        ) from exc
    raise SignerCertificateRejected("Không đọc được chứng thư số.", reason="unreadable")


def _pyca_cert(cert: asn1_x509.Certificate) -> pyca_x509.Certificate:
    return pyca_x509.load_der_x509_certificate(cert.dump())


def _check_signer_cert(cert: asn1_x509.Certificate, now: datetime) -> None:
    """Refuse a certificate that cannot sign now: out of its validity period or wrong key usage."""
    c = _pyca_cert(cert)
    subject = _subject_cn(cert)
    if now < c.not_valid_before_utc:
        raise SignerCertificateRejected(
            f"Chứng thư số của {subject} chưa đến thời điểm có hiệu lực "
            f"({c.not_valid_before_utc.astimezone(VN_TZ):%d/%m/%Y %H:%M}).",
            reason="not-yet-valid",
        )
    if now > c.not_valid_after_utc:
        raise SignerCertificateRejected(
            f"Chứng thư số của {subject} đã hết hạn "
            f"(từ {c.not_valid_after_utc.astimezone(VN_TZ):%d/%m/%Y %H:%M}).",
            reason="expired",
        )
    try:
        ku = c.extensions.get_extension_for_class(pyca_x509.KeyUsage).value
    except pyca_x509.ExtensionNotFound:
        ku = None
    if ku is not None and not (ku.digital_signature or ku.content_commitment):
        raise SignerCertificateRejected(
            f"Chứng thư số của {subject} không có mục đích sử dụng cho phép ký số.",
            reason="key-usage",
        )
    pub = c.public_key()
    if not isinstance(pub, (rsa.RSAPublicKey, ec.EllipticCurvePublicKey)):
        raise SignerCertificateRejected(
            "Chỉ hỗ trợ chứng thư số dùng khóa RSA hoặc ECDSA.", reason="key-usage"
        )


async def _validate_signer_path(
    cert: asn1_x509.Certificate,
    chain: Sequence[asn1_x509.Certificate],
    validation_context: Any,
) -> None:
    """Check trust and revocation of the signer certificate with a pyHanko validation context."""
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator import errors as cv_errors

    subject = _subject_cn(cert)
    validator = CertificateValidator(
        cert, intermediate_certs=list(chain), validation_context=validation_context
    )
    try:
        await validator.async_validate_usage(set())
    except cv_errors.RevokedError as exc:
        raise SignerCertificateRejected(
            f"Chứng thư số của {subject} đã bị thu hồi.", reason="revoked"
        ) from exc
    except (cv_errors.ExpiredError, cv_errors.NotYetValidError) as exc:
        raise SignerCertificateRejected(
            f"Chứng thư số của {subject} không còn hiệu lực tại thời điểm ký.", reason="expired"
        ) from exc
    except cv_errors.InsufficientRevinfoError as exc:
        raise SignerCertificateRejected(
            f"Không kiểm tra được tình trạng thu hồi chứng thư số của {subject} (OCSP/CRL).",
            reason="revocation-unknown",
        ) from exc
    except cv_errors.PathBuildingError as exc:
        raise SignerCertificateRejected(
            f"Chứng thư số của {subject} không do tổ chức cung cấp dịch vụ chứng thực tin cậy cấp.",
            reason="untrusted",
        ) from exc
    except (cv_errors.PathValidationError, cv_errors.InvalidCertificateError) as exc:
        raise SignerCertificateRejected(
            f"Chứng thư số của {subject} không hợp lệ để ký.", reason="untrusted"
        ) from exc


def _subject_cn(cert: asn1_x509.Certificate) -> str:
    native = cert.subject.native
    return str(native.get("common_name") or native.get("organization_name") or "người ký")


def _mechanism_for(cert: asn1_x509.Certificate, prefer_pss: bool) -> algos.SignedDigestAlgorithm:
    algo = cert.public_key.algorithm
    if algo == "rsa":
        if prefer_pss:
            return algos.SignedDigestAlgorithm(
                {
                    "algorithm": "rsassa_pss",
                    "parameters": algos.RSASSAPSSParams(
                        {
                            "hash_algorithm": algos.DigestAlgorithm({"algorithm": DIGEST_ALGORITHM}),
                            "mask_gen_algorithm": algos.MaskGenAlgorithm(
                                {
                                    "algorithm": "mgf1",
                                    "parameters": algos.DigestAlgorithm(
                                        {"algorithm": DIGEST_ALGORITHM}
                                    ),
                                }
                            ),
                            "salt_length": PSS_SALT_LENGTH,
                            "trailer_field": "trailer_field_bc",
                        }
                    ),
                }
            )
        return algos.SignedDigestAlgorithm({"algorithm": f"{DIGEST_ALGORITHM}_rsa"})
    if algo == "ec":
        return algos.SignedDigestAlgorithm({"algorithm": f"{DIGEST_ALGORITHM}_ecdsa"})
    raise SignerCertificateRejected(
        "Chỉ hỗ trợ chứng thư số dùng khóa RSA hoặc ECDSA.", reason="key-usage"
    )


def _signature_size(cert: asn1_x509.Certificate) -> int:
    """Upper bound of the raw signature value size for the certificate's key (bytes)."""
    pub = _pyca_cert(cert).public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        return (pub.key_size + 7) // 8
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    coord = (pub.curve.key_size + 7) // 8
    return 2 * coord + 12  # DER SEQUENCE of two INTEGERs with possible sign bytes


def _verify_raw_signature(
    cert: asn1_x509.Certificate, mechanism: str, data: bytes, signature: bytes
) -> bytes:
    """Check ``signature`` over ``data`` with the certificate's key; return it DER-normalised.

    Raises InvalidExternalSignature (nothing else happens) when it does not verify.
    """
    pub = _pyca_cert(cert).public_key()
    md = hashes.SHA256()
    try:
        if mechanism == "sha256_rsa" and isinstance(pub, rsa.RSAPublicKey):
            pub.verify(signature, data, padding.PKCS1v15(), md)
            return signature
        if mechanism == "rsassa_pss" and isinstance(pub, rsa.RSAPublicKey):
            pub.verify(
                signature, data, padding.PSS(mgf=padding.MGF1(md), salt_length=PSS_SALT_LENGTH), md
            )
            return signature
        if mechanism == "sha256_ecdsa" and isinstance(pub, ec.EllipticCurvePublicKey):
            candidates = [signature]
            coord = (pub.curve.key_size + 7) // 8
            if len(signature) == 2 * coord:  # raw r||s as PKCS#11 returns it
                r = int.from_bytes(signature[:coord], "big")
                s = int.from_bytes(signature[coord:], "big")
                candidates.insert(0, encode_dss_signature(r, s))
            for candidate in candidates:
                try:
                    pub.verify(candidate, data, ec.ECDSA(md))
                    return candidate
                except (InvalidSignature, ValueError):
                    continue
            raise InvalidSignature()
    except (InvalidSignature, ValueError, TypeError) as exc:
        raise InvalidExternalSignature(
            "Chữ ký số gửi về không khớp với chứng thư số của người ký hoặc với dữ liệu cần ký "
            "(sai khóa, sai thuật toán hoặc dữ liệu hỏng). Tài liệu chưa được ký."
        ) from exc
    raise InvalidSigningSession("Thuật toán ký của phiên ký không được hỗ trợ.")


def _resolve_vc(validation_context: Any) -> Any:
    """Accept a pyHanko ValidationContext or a zero-argument factory of one (as
    ``signing.engine.make_validation_context`` returns)."""
    if validation_context is None:
        return None
    from pyhanko_certvalidator import ValidationContext

    if not isinstance(validation_context, ValidationContext) and callable(validation_context):
        return validation_context()
    return validation_context
