"""Step 2: embed the token's signature (CMS), timestamp and validation data."""
from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509

from ioffice.kernel.errors import ServiceUnavailable

from .certificates import _mechanism_for, _resolve_vc, _verify_raw_signature
from .errors import (
    ExternalSigningError,
    InvalidExternalSignature,
    InvalidSigningSession,
    PreparedDocumentChanged,
    SigningSessionExpired,
)
from .session import DIGEST_ALGORITHM, STATE_VERSION, VN_TZ, _aware, _run_sync, _unb64

log = logging.getLogger("signing.external")


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


def _load_state(state: dict[str, Any]) -> _LoadedState:
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
) -> cms.ContentInfo:
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
    state: dict[str, Any],
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
    data: bytes = out.read()
    return data


def complete_external_signature(
    prepared_pdf: bytes,
    state: dict[str, Any],
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
