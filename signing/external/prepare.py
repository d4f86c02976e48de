"""Step 1: prepare the document and the data the token signs."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from io import BytesIO
from typing import Any

from ioffice.kernel.errors import InvalidDocument

from .certificates import (
    CertLike,
    _check_signer_cert,
    _load_cert,
    _mechanism_for,
    _resolve_vc,
    _signature_size,
    _validate_signer_path,
)
from .errors import DocumentNotSignable
from .session import (
    DIGEST_ALGORITHM,
    PSS_SALT_LENGTH,
    SIGNATURE_ROOM_MARGIN,
    STATE_VERSION,
    TIMESTAMP_ROOM,
    VN_TZ,
    ExternalSession,
    _aware,
    _b64,
    _run_sync,
)


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
            box=tuple(appearance.box),
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
