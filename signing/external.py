"""External (interrupted) PAdES signing for keys the server never holds.

An official's key lives on a USB token on their own PC. The flow has two stateless steps so the
API layer can persist the session (a DB row for ``state`` + a blob for ``prepared_pdf``):

1. :func:`prepare_external_signature` adds the signature field and a zero-filled ``/Contents``
   placeholder in an incremental update, digests the ``/ByteRange`` and builds the CMS signed
   attributes. The DER of those attributes (``data_to_sign``) goes to the official's tool.
2. :func:`complete_external_signature` checks the session (not expired, same prepared bytes),
   verifies the returned signature value against the certificate's public key, wraps it in a CMS
   ``SignedData`` (signer certificate + chain, optional RFC 3161 signature timestamp) and writes
   it into the placeholder; optionally adds the validation data (DSS) in a further revision.

Built on pyHanko's interrupted signing (``PdfSigner.init_signing_session``,
``PdfTBSDocument.finish_signing``, ``PreparedByteRangeDigest``, ``ExternalSigner``).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from io import BytesIO
from typing import Any, Awaitable, Callable, Iterable, Sequence, TypeVar

from asn1crypto import algos, cms, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509 as pyca_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from ioffice.kernel.errors import Conflict, InvalidDocument, InvalidInput, ServiceUnavailable
from signing.errors import SignerCertificateRejected

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = [
    "ExternalSession",
    "ExternalSigningError",
    "SigningSessionExpired",
    "PreparedDocumentChanged",
    "InvalidExternalSignature",
    "InvalidSigningSession",
    "SignerCertificateRejected",
    "DocumentNotSignable",
    "prepare_external_signature",
    "complete_external_signature",
    "async_prepare_external_signature",
    "async_complete_external_signature",
]

STATE_VERSION = 1
DIGEST_ALGORITHM = "sha256"
PSS_SALT_LENGTH = 32  # = digest length; what PKCS#11 tokens use for CKM_SHA256_RSA_PKCS_PSS
# Room kept in /Contents for an RFC 3161 token added at completion (DER bytes). Always reserved
# so that a timestamp can be added whether or not it was planned at prepare time.
TIMESTAMP_ROOM = 12_000
SIGNATURE_ROOM_MARGIN = 1_024
VN_TZ = timezone(timedelta(hours=7))


# --------------------------------------------------------------------------------------- errors
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


# ------------------------------------------------------------------------------------ session
@dataclass
class ExternalSession:
    """What :func:`prepare_external_signature` hands back.

    ``prepared_pdf`` and ``state`` must be stored by the caller and given back unchanged to
    :func:`complete_external_signature`; ``data_to_sign`` goes to the official's signing tool.
    """

    prepared_pdf: bytes
    state: dict
    data_to_sign: bytes
    digest_algorithm: str
    signature_mechanism: str
    expires_at: datetime

    @property
    def field_name(self) -> str:
        return self.state["field_name"]


# ------------------------------------------------------------------------------- certificates
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
            cert.native  # force full parse so garbage fails here, not later
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


# --------------------------------------------------------------------------------- plumbing
def _resolve_vc(validation_context: Any) -> Any:
    """Accept a pyHanko ValidationContext or a zero-argument factory of one (as
    ``signing.engine.make_validation_context`` returns)."""
    if validation_context is None:
        return None
    from pyhanko_certvalidator import ValidationContext

    if not isinstance(validation_context, ValidationContext) and callable(validation_context):
        return validation_context()
    return validation_context


def _run_sync(make_coro: Callable[[], Awaitable[T]], validation_context: Any = None) -> T:
    """Run a coroutine to completion from synchronous code (see :func:`certs.aio.run_sync`) and
    release the network resources of ``validation_context`` afterwards."""
    from certs.aio import run_sync

    async def runner() -> T:
        try:
            return await make_coro()
        finally:
            aclose = getattr(validation_context, "aclose", None)
            if aclose is not None:
                await aclose()

    return run_sync(runner)


# -------------------------------------------------------------------------------------- time
def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        return now.replace(tzinfo=timezone.utc)
    return now


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: str) -> bytes:
    return base64.b64decode(value.encode("ascii"), validate=True)


# ------------------------------------------------------------------------------------ prepare
def _pick_field_name(reader: Any) -> str:
    from pyhanko.sign.fields import enumerate_sig_fields

    existing = {name for name, _, _ in enumerate_sig_fields(reader, filled_status=None)}
    n = len(existing) + 1
    while f"Signature{n}" in existing:
        n += 1
    return f"Signature{n}"


async def async_prepare_external_signature(
    pdf: bytes,
    *,
    signer_cert: CertLike,
    chain: Iterable[CertLike] = (),
    field_name: str | None = None,
    appearance: Any = None,
    timestamp_url: str | None = None,
    ttl: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
    prefer_pss: bool = False,
    reason: str | None = None,
    location: str | None = None,
    validation_context: Any = None,
) -> ExternalSession:
    """Async form of :func:`prepare_external_signature`."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import fields, signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    now = _aware(now)
    cert = _load_cert(signer_cert)
    chain_certs = [_load_cert(c) for c in chain]
    _check_signer_cert(cert, now)
    validation_context = _resolve_vc(validation_context)
    if validation_context is not None:
        await _validate_signer_path(cert, chain_certs, validation_context)
    mechanism = _mechanism_for(cert, prefer_pss)

    input_sha256 = hashlib.sha256(pdf).hexdigest()
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    except Exception as exc:  # noqa: BLE001 - pyHanko raises assorted errors on broken files
        raise InvalidDocument("Tệp không phải là tài liệu PDF hợp lệ, không thể ký.") from exc
    if writer.prev.encrypted:
        raise InvalidDocument("Tài liệu PDF đã được mã hóa, không thể ký.")

    if field_name is None:
        field_name = _pick_field_name(writer.prev)

    stamp_style = None
    text_params = None
    field_spec = fields.SigFieldSpec(sig_field_name=field_name)
    if appearance is not None:
        field_spec = fields.SigFieldSpec(
            sig_field_name=field_name,
            on_page=getattr(appearance, "page", 0),
            box=tuple(getattr(appearance, "box")),
        )
        stamp_style = getattr(appearance, "stamp_style", None)
        text_params = getattr(appearance, "text_params", None)

    signer = signers.ExternalSigner(
        signing_cert=cert,
        cert_registry=SimpleCertificateStore.from_certs(chain_certs),
        signature_value=_signature_size(cert),
        signature_mechanism=mechanism,
        embed_roots=True,
    )
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=DIGEST_ALGORITHM,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
    )
    pdf_signer = signers.PdfSigner(
        meta, signer=signer, stamp_style=stamp_style, new_field_spec=field_spec
    )
    signing_time = now.astimezone(VN_TZ).replace(microsecond=0)
    try:
        session = pdf_signer.init_signing_session(writer)
        session.system_time = signing_time
        estimate = await session.estimate_signature_container_size(None, tight=True)
        bytes_reserved = estimate + 2 * (TIMESTAMP_ROOM + SIGNATURE_ROOM_MARGIN)
        tbs = session.prepare_tbs_document(
            validation_info=None,
            bytes_reserved=bytes_reserved,
            appearance_text_params=text_params,
        )
        prepared_digest, output = tbs.digest_tbs_document(output=BytesIO())
    except SigningError as exc:
        raise DocumentNotSignable(
            "Tài liệu không cho phép thêm chữ ký số (đã bị khóa hoặc ô chữ ký đã được ký)."
        ) from exc
    except PdfError as exc:
        raise InvalidDocument("Tài liệu PDF bị lỗi cấu trúc, không thể ký.") from exc

    output.seek(0)
    prepared_pdf = output.read()
    signed_attrs = await signer.signed_attrs(
        prepared_digest.document_digest,
        DIGEST_ALGORITHM,
        attr_settings=PdfCMSSignedAttributes(signing_time=signing_time),
        use_pades=True,
    )
    data_to_sign = signed_attrs.dump()
    expires_at = now + ttl
    state = {
        "version": STATE_VERSION,
        "field_name": field_name,
        "md_algorithm": DIGEST_ALGORITHM,
        "signature_mechanism": mechanism["algorithm"].native,
        "pss_salt_length": PSS_SALT_LENGTH if prefer_pss else None,
        "document_digest": prepared_digest.document_digest.hex(),
        "reserved_region_start": prepared_digest.reserved_region_start,
        "reserved_region_end": prepared_digest.reserved_region_end,
        "signed_attrs": _b64(data_to_sign),
        "signer_cert": _b64(cert.dump()),
        "chain": [_b64(c.dump()) for c in chain_certs],
        "cert_sha256": hashlib.sha256(cert.dump()).hexdigest(),
        "input_sha256": input_sha256,
        "prepared_sha256": hashlib.sha256(prepared_pdf).hexdigest(),
        "signing_time": signing_time.isoformat(),
        "created_at": now.isoformat(),
        "expires_at": expires_at.isoformat(),
        "timestamp_url": timestamp_url,
    }
    return ExternalSession(
        prepared_pdf=prepared_pdf,
        state=state,
        data_to_sign=data_to_sign,
        digest_algorithm=DIGEST_ALGORITHM,
        signature_mechanism=state["signature_mechanism"],
        expires_at=expires_at,
    )


def prepare_external_signature(
    pdf: bytes,
    *,
    signer_cert: CertLike,
    chain: Iterable[CertLike] = (),
    field_name: str | None = None,
    appearance: Any = None,
    timestamp_url: str | None = None,
    ttl: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
    prefer_pss: bool = False,
    reason: str | None = None,
    location: str | None = None,
    validation_context: Any = None,
) -> ExternalSession:
    """Put a signature placeholder into ``pdf`` and return what the token must sign.

    ``appearance`` is an optional visible signature (``page``, ``box``, ``stamp_style``,
    ``text_params``); without it the signature is invisible. ``timestamp_url`` is remembered in
    the state so that completion adds a signature timestamp (PAdES B-T) from that TSA.
    The signer certificate is checked against ``now`` (validity period, key usage) and, when a
    pyHanko ``validation_context`` is given, for trust and revocation. Nothing is stored.

    Raises SignerCertificateRejected, InvalidDocument, DocumentNotSignable.
    ``validation_context`` may be a pyHanko ValidationContext or a factory of one.
    From async code prefer the async form (this one then blocks in a helper thread).
    """
    vc = _resolve_vc(validation_context)
    return _run_sync(
        lambda: async_prepare_external_signature(
            pdf,
            signer_cert=signer_cert,
            chain=chain,
            field_name=field_name,
            appearance=appearance,
            timestamp_url=timestamp_url,
            ttl=ttl,
            now=now,
            prefer_pss=prefer_pss,
            reason=reason,
            location=location,
            validation_context=vc,
        ),
        vc,
    )


# ----------------------------------------------------------------------------------- complete
@dataclass(frozen=True)
class _LoadedState:
    field_name: str
    mechanism: str
    pss_salt_length: int | None
    document_digest: bytes
    reserved_region_start: int
    reserved_region_end: int
    signed_attrs_der: bytes
    signer_cert: asn1_x509.Certificate
    chain: Sequence[asn1_x509.Certificate]
    prepared_sha256: str
    expires_at: datetime
    timestamp_url: str | None


def _load_state(state: dict) -> _LoadedState:
    try:
        if state.get("version") != STATE_VERSION or state.get("md_algorithm") != DIGEST_ALGORITHM:
            raise ValueError("unsupported state version or digest")
        loaded = _LoadedState(
            field_name=str(state["field_name"]),
            mechanism=str(state["signature_mechanism"]),
            pss_salt_length=state.get("pss_salt_length"),
            document_digest=bytes.fromhex(state["document_digest"]),
            reserved_region_start=int(state["reserved_region_start"]),
            reserved_region_end=int(state["reserved_region_end"]),
            signed_attrs_der=_unb64(state["signed_attrs"]),
            signer_cert=asn1_x509.Certificate.load(_unb64(state["signer_cert"])),
            chain=[asn1_x509.Certificate.load(_unb64(c)) for c in state.get("chain", [])],
            prepared_sha256=str(state["prepared_sha256"]),
            expires_at=_aware(datetime.fromisoformat(state["expires_at"])),
            timestamp_url=state.get("timestamp_url"),
        )
        if hashlib.sha256(loaded.signer_cert.dump()).hexdigest() != state["cert_sha256"]:
            raise ValueError("certificate fingerprint mismatch")
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidSigningSession(
            "Dữ liệu phiên ký bị thiếu hoặc hỏng, vui lòng bắt đầu lại thao tác ký."
        ) from exc
    return loaded


def _parse_signed_attrs(st: _LoadedState) -> cms.CMSAttributes:
    """Signed attributes from the state, checked to cover the prepared ByteRange digest."""
    try:
        attrs = cms.CMSAttributes.load(st.signed_attrs_der)
        message_digest = next(
            a["values"][0].native for a in attrs if a["type"].native == "message_digest"
        )
    except (ValueError, StopIteration, KeyError) as exc:
        raise InvalidSigningSession("Dữ liệu phiên ký bị hỏng (thuộc tính ký).") from exc
    if message_digest != st.document_digest:
        raise InvalidSigningSession("Dữ liệu phiên ký không khớp với tài liệu đã chuẩn bị.")
    return attrs


TSA_ATTEMPTS = 3
TSA_BACKOFF_SECONDS = 0.5


async def _build_cms(
    signer: Any, signed_attrs: cms.CMSAttributes, timestamper: Any, attempts: int
):
    """Build the CMS around the token's signature value, with a signature timestamp when a
    timestamper is given.

    A failing TSA is retried ``attempts`` times with exponential backoff, then
    ServiceUnavailable is raised (nothing has been written anywhere). A DomainError raised by
    the timestamper itself (e.g. a retrying wrapper's) passes through unchanged."""
    from ioffice.kernel.errors import DomainError

    if timestamper is None:
        return await signer.async_sign_prescribed_attributes(DIGEST_ALGORITHM, signed_attrs)
    for attempt in range(attempts):
        try:
            return await signer.async_sign_prescribed_attributes(
                DIGEST_ALGORITHM, signed_attrs, timestamper=timestamper
            )
        except DomainError:
            raise
        except Exception as exc:  # noqa: BLE001 - any TSA/transport failure
            log.warning("timestamp request failed (attempt %d/%d): %s",
                        attempt + 1, attempts, type(exc).__name__)
            if attempt == attempts - 1:
                raise ServiceUnavailable(
                    "Không lấy được dấu thời gian từ dịch vụ cấp dấu thời gian. "
                    "Tài liệu chưa được ký, vui lòng thử lại sau."
                ) from exc
            await asyncio.sleep(TSA_BACKOFF_SECONDS * (2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


async def async_complete_external_signature(
    prepared_pdf: bytes,
    state: dict,
    signature: bytes,
    *,
    now: datetime | None = None,
    timestamper: Any = None,
    embed_validation_info: bool = False,
    validation_context: Any = None,
) -> bytes:
    """Async form of :func:`complete_external_signature`."""
    from pyhanko.sign import signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
    from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
    from pyhanko.sign.timestamps import HTTPTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    now = _aware(now)
    st = _load_state(state)
    if now >= st.expires_at:
        raise SigningSessionExpired(
            "Phiên ký đã hết hạn (lúc "
            f"{st.expires_at.astimezone(VN_TZ):%H:%M ngày %d/%m/%Y}), "
            "vui lòng bắt đầu lại thao tác ký."
        )
    if hashlib.sha256(prepared_pdf).hexdigest() != st.prepared_sha256:
        raise PreparedDocumentChanged(
            "Tài liệu đã bị thay đổi sau khi chuẩn bị ký; không thể hoàn tất phiên ký này."
        )
    signed_attrs = _parse_signed_attrs(st)
    if not isinstance(signature, (bytes, bytearray)) or not signature:
        raise InvalidExternalSignature("Chưa nhận được chữ ký số từ thiết bị ký.")
    signature = _verify_raw_signature(
        st.signer_cert, st.mechanism, st.signed_attrs_der, bytes(signature)
    )

    tsa_attempts = 1  # a caller's timestamper brings its own retry policy
    if timestamper is None and st.timestamp_url:
        timestamper = HTTPTimeStamper(st.timestamp_url, timeout=10)
        tsa_attempts = TSA_ATTEMPTS
    signer = signers.ExternalSigner(
        signing_cert=st.signer_cert,
        cert_registry=SimpleCertificateStore.from_certs(st.chain),
        signature_value=signature,
        signature_mechanism=_mechanism_for(st.signer_cert, st.mechanism == "rsassa_pss"),
        embed_roots=True,
    )
    signed_cms = await _build_cms(signer, signed_attrs, timestamper, tsa_attempts)

    prepared_digest = PreparedByteRangeDigest(
        document_digest=st.document_digest,
        reserved_region_start=st.reserved_region_start,
        reserved_region_end=st.reserved_region_end,
    )
    output = BytesIO(prepared_pdf)
    try:
        await PdfTBSDocument.async_finish_signing(output, prepared_digest, signed_cms)
    except SigningError as exc:
        raise ExternalSigningError(
            "Không đủ chỗ để nhúng chữ ký số vào tài liệu (chuỗi chứng thư hoặc dấu thời gian "
            "quá lớn). Tài liệu chưa được ký."
        ) from exc
    signed = output.getvalue()

    if embed_validation_info:
        signed = await _add_dss(signed, st.field_name, _resolve_vc(validation_context))
    return signed


async def _add_dss(signed: bytes, field_name: str, validation_context: Any) -> bytes:
    """Add the signature's validation data (certificates, OCSP, CRLs) in a DSS revision."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import async_add_validation_info

    if validation_context is None:
        raise ValueError("embed_validation_info needs a validation_context")
    reader = PdfFileReader(BytesIO(signed), strict=False)
    embedded = next(s for s in reader.embedded_signatures if s.field_name == field_name)
    try:
        out = await async_add_validation_info(
            embedded, validation_context, output=BytesIO(), force_write=True
        )
    except Exception as exc:  # noqa: BLE001 - revocation fetch failures of every kind
        log.warning("could not collect validation info: %s", exc)
        raise ServiceUnavailable(
            "Không thu thập được thông tin kiểm tra hiệu lực chứng thư số (OCSP/CRL). "
            "Tài liệu chưa được ký, vui lòng thử lại sau."
        ) from exc
    out.seek(0)
    return out.read()


def complete_external_signature(
    prepared_pdf: bytes,
    state: dict,
    signature: bytes,
    *,
    now: datetime | None = None,
    timestamper: Any = None,
    embed_validation_info: bool = False,
    validation_context: Any = None,
) -> bytes:
    """Embed the token's ``signature`` into ``prepared_pdf`` and return the signed PDF.

    Checks, in order: the session has not expired (SigningSessionExpired), ``prepared_pdf`` is
    byte for byte what prepare produced (PreparedDocumentChanged), the signature verifies with
    the signer certificate's key over the signed attributes (InvalidExternalSignature; nothing
    embedded). Then writes the CMS (signer certificate + chain), with a signature timestamp
    when ``timestamper`` is given or the session has a ``timestamp_url`` (B-T; a TSA failure
    after retries raises ServiceUnavailable) and, with ``embed_validation_info``, a DSS
    revision built from ``validation_context`` (a ValidationContext or a factory of one).
    From async code prefer the async form (this one then blocks in a helper thread).
    """
    vc = _resolve_vc(validation_context)
    return _run_sync(
        lambda: async_complete_external_signature(
            prepared_pdf,
            state,
            signature,
            now=now,
            timestamper=timestamper,
            embed_validation_info=embed_validation_info,
            validation_context=vc,
        ),
        vc,
    )
