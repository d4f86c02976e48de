"""Fast PAdES signing engine on pyHanko.

Why it is fast (compared with ``SimpleSigner.load_pkcs12`` + ``signers.sign_pdf`` defaults):

* :class:`PreparedSigner` parses the private key once (a ``cryptography`` key object, reused for
  every signature; it is thread-safe) instead of re-parsing the PKCS#8 DER for every raw signature.
* The CMS ``SignedData`` is assembled from pre-encoded DER pieces (certificate set, signer
  identifier, algorithm identifiers, the constant signed attributes) instead of being rebuilt and
  re-encoded through asn1crypto for every document; only the message digest, the raw signature
  and (B-T and above) the timestamp token change per document.
* The size of ``/Contents`` is computed once per signer (no dry-run signature per document) and
  passed to pyHanko as ``bytes_reserved``.

Everything else — incremental update, appearance streams, DocMDP/FieldMDP locks, DSS (B-LT),
document timestamps (B-LTA) — is pyHanko's ``PdfSigner`` on an ``IncrementalPdfFileWriter``.

Levels: ``B-B`` (CAdES-detached, signing certificate v2 attribute, no signing-time attribute:
the time is in the signature dictionary's ``/M``), ``B-T`` (+ RFC 3161 signature timestamp),
``B-LT`` (+ DSS with certificates, OCSP responses and CRLs), ``B-LTA`` (+ document timestamp).

Stamping number/symbol and date at issue time (:func:`issue_stamp`) is done as an additional
text-only visible signature of the agency — never as a change to page content, which would make
earlier signatures report "modified" in every validator.
"""
from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigSeedSubFilter
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko_certvalidator import ValidationContext

from ioffice.kernel.aio import run_sync as _run_sync
from ioffice.kernel.errors import InvalidDocument, InvalidInput, ServiceUnavailable
from signing.errors import SignerCertificateRejected, SigningFailed

from .levels import LEVELS, Level  # noqa: F401
from .services import (  # noqa: F401 - re-exported: the engine's public names
    _RETRY_ATTEMPTS,
    _RETRY_BASE_DELAY,
    RetryingTimeStamper,
    _ServiceFailure,
    http_timestamper,
    make_validation_context,
)
from .signer import PreparedSigner

log = logging.getLogger("signing.engine")


@dataclass
class _Appearance:
    page: int
    box: tuple[float, float, float, float]
    stamp_style: Any
    text_params: dict[str, Any] | None


def _as_appearance(appearance: Any) -> _Appearance | None:
    if appearance is None:
        return None
    try:
        return _Appearance(
            page=int(getattr(appearance, "page", 0)),
            box=tuple(appearance.box),
            stamp_style=getattr(appearance, "stamp_style", None),
            text_params=getattr(appearance, "text_params", None),
        )
    except AttributeError as exc:
        raise InvalidInput("Cấu hình hình thức chữ ký không hợp lệ") from exc


def _int_box(box: Sequence[float]) -> tuple[int, int, int, int]:
    """A signature field's rectangle in whole points."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    return x1, y1, x2, y2


def _open_input(data: bytes | BinaryIO) -> BinaryIO:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(data)  # shares the buffer; never written to
    return data


def _existing_field_names(writer: IncrementalPdfFileWriter) -> list[str]:
    return [name for name, _, _ in fields.enumerate_sig_fields(writer.prev)]


def _has_signatures(writer: IncrementalPdfFileWriter) -> bool:
    return any(True for _ in fields.enumerate_sig_fields(writer.prev, filled_status=True))


def _classify(exc: BaseException) -> BaseException:
    """Map library failures to DomainErrors (no transport details)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, _ServiceFailure):
            if seen.service == "tsa":
                return ServiceUnavailable(
                    "Không kết nối được dịch vụ cấp dấu thời gian (TSA) sau nhiều lần thử; "
                    "tài liệu chưa được ký và giữ nguyên phiên bản trước."
                )
            return ServiceUnavailable(
                "Không kiểm tra được tình trạng thu hồi chứng thư số (OCSP/CRL) sau nhiều lần thử; "
                "tài liệu chưa được ký và giữ nguyên phiên bản trước."
            )
        seen = seen.__cause__ or seen.__context__
    return exc


def _is_revocation_failure(exc: BaseException) -> bool:
    from pyhanko_certvalidator.errors import (
        InsufficientRevinfoError,
        PathValidationError,
        RevokedError,
    )

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RevokedError):
            return False
        if isinstance(seen, InsufficientRevinfoError):
            return True
        if isinstance(seen, PathValidationError) and "revocation" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_network_error(exc: BaseException) -> bool:
    """A fetch (OCSP/CRL/certificate) that timed out or could not connect."""
    try:
        import aiohttp

        net: tuple[type[BaseException], ...] = (TimeoutError, ConnectionError, aiohttp.ClientError)
    except ImportError:  # pragma: no cover
        net = (TimeoutError, ConnectionError)
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, net):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _revoked(exc: BaseException) -> bool:
    from pyhanko_certvalidator.errors import RevokedError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RevokedError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def sign_pdf(
    data: bytes | BinaryIO,
    *,
    signer: PreparedSigner,
    level: Level = "B-B",
    appearance: Any = None,
    field_name: str | None = None,
    timestamper: TimeStamper | None = None,
    validation_context: ValidationContext | Callable[[], ValidationContext] | None = None,
    certify: bool = False,
    output: BinaryIO | None = None,
    reason: str | None = None,
    location: str | None = None,
    reserve_fields: Sequence[tuple[str, int, tuple[float, float, float, float]]] = (),
) -> bytes | None:
    """Sign ``data`` (a PDF) with an incremental update and return the signed bytes.

    With ``output`` the result is streamed there (nothing returned; large files never held in
    memory when ``data`` is a file object). ``level`` B-T and above need ``timestamper``
    (see :func:`http_timestamper`); B-LT and B-LTA need ``validation_context`` (trust roots,
    fetching allowed) or, better, a factory from :func:`make_validation_context` (a fresh context
    per attempt; revocation fetch failures are retried with backoff). ``appearance`` is a
    ``signing.appearance.VisibleSignature`` (or anything with ``page``, ``box``, ``stamp_style``,
    ``text_params``); None means invisible.
    ``certify`` makes this the certification signature (DocMDP: form filling and further
    signatures allowed); other signatures lock their own field only. Validators (pyHanko,
    Adobe) accept only *pre-existing* signature fields being signed after a certification
    signature, so a certifying signer should create the later fields (seal, number, date) in
    the same revision: ``reserve_fields=[(name, page, box), ...]`` adds empty signature fields
    that later ``sign_pdf(field_name=name)`` calls fill. Without certification (the default),
    later signatures may add new fields freely.

    The input is never modified. Raises InvalidDocument (not a readable PDF), InvalidInput
    (bad arguments, field exists, certifying an already signed document),
    SignerCertificateRejected (signer revoked, found while collecting revocation data),
    ServiceUnavailable (TSA or OCSP/CRL failing after retries), SigningFailed (anything else).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # called from async code: pyHanko's sync API needs its own loop (prefer async_sign_pdf)
        return _run_sync(lambda: asyncio.to_thread(
            sign_pdf, data, signer=signer, level=level, appearance=appearance,
            field_name=field_name, timestamper=timestamper, validation_context=validation_context,
            certify=certify, output=output, reason=reason, location=location,
            reserve_fields=reserve_fields,
        ))
    if level not in LEVELS:
        raise InvalidInput(f"Mức chữ ký không hợp lệ: {level}")
    if level != "B-B" and timestamper is None:
        raise InvalidInput("Mức chữ ký này cần dịch vụ cấp dấu thời gian (TSA)")
    if level in ("B-LT", "B-LTA") and validation_context is None:
        raise InvalidInput("Mức chữ ký B-LT/B-LTA cần cấu hình kiểm tra chứng thư (trust roots)")
    if timestamper is not None and not isinstance(timestamper, RetryingTimeStamper):
        timestamper = RetryingTimeStamper(timestamper)
    app = _as_appearance(appearance)

    stream = _open_input(data)
    try:
        start = stream.tell()
    except (OSError, AttributeError):
        start = 0
    try:
        writer = IncrementalPdfFileWriter(stream, strict=False)
    except (PdfError, ValueError, OSError, KeyError, TypeError, IndexError) as exc:
        raise InvalidDocument("Tệp không phải là tài liệu PDF hợp lệ hoặc đã bị hỏng") from exc
    if writer.prev.encrypted:
        raise InvalidDocument("Không ký được tài liệu PDF đã mã hóa")

    if app is not None and app.page < 0:
        pages = int(writer.root["/Pages"]["/Count"])
        app.page = max(0, pages + app.page)

    existing = _existing_field_names(writer)
    if field_name is None:
        n = len(existing) + 1
        while f"Signature{n}" in existing:
            n += 1
        field_name = f"Signature{n}"
    elif field_name in existing:
        # An existing empty field may be filled; a filled one is an error.
        filled = [n for n, _, _ in fields.enumerate_sig_fields(writer.prev, filled_status=True)]
        if field_name in filled:
            raise InvalidInput(f"Trường chữ ký {field_name} đã được ký")
    if certify and _has_signatures(writer):
        raise InvalidInput("Tài liệu đã có chữ ký, không thể ký chứng nhận (certify)")

    embed = level in ("B-LT", "B-LTA")
    field_spec = None
    if field_name not in existing:
        field_spec = fields.SigFieldSpec(
            sig_field_name=field_name,
            on_page=app.page if app else 0,
            box=_int_box(app.box) if app else None,
            field_mdp_spec=None if certify else FieldMDPSpec(FieldMDPAction.INCLUDE, fields=[field_name]),
        )

    for name, _, _ in reserve_fields:
        if name in existing or name == field_name:
            raise InvalidInput(f"Trường chữ ký {name} đã tồn tại")

    def add_reserved(w: IncrementalPdfFileWriter) -> IncrementalPdfFileWriter:
        for name, page, box in reserve_fields:
            fields.append_signature_field(w, fields.SigFieldSpec(
                sig_field_name=name, on_page=page, box=_int_box(box)))
        return w

    add_reserved(writer)

    def make_pdf_signer() -> signers.PdfSigner:
        vc = None
        if embed:
            vc = validation_context() if callable(validation_context) else validation_context
        meta = signers.PdfSignatureMetadata(
            field_name=field_name,
            md_algorithm="sha256",
            subfilter=SigSeedSubFilter.PADES,
            certify=certify,
            docmdp_permissions=MDPPerm.FILL_FORMS,
            embed_validation_info=embed,
            use_pades_lta=level == "B-LTA",
            validation_context=vc,
            reason=reason,
            location=location,
        )
        return signers.PdfSigner(
            meta,
            signer=signer.pyhanko_signer(),
            timestamper=timestamper if level != "B-B" else None,
            stamp_style=app.stamp_style if app else None,
            new_field_spec=field_spec,
        )

    own_output = output is None
    buffer = io.BytesIO()  # the result when the caller gives no output
    out: BinaryIO = buffer if output is None else output
    try:
        out_start = out.tell()
    except (OSError, AttributeError):
        out_start = None
    attempts = _RETRY_ATTEMPTS if embed and callable(validation_context) else 1
    try:
        for attempt in range(attempts):
            try:
                if attempt:
                    writer = add_reserved(IncrementalPdfFileWriter(stream, strict=False))
                    if out_start is not None:
                        out.seek(out_start)
                        out.truncate()
                make_pdf_signer().sign_pdf(
                    writer,
                    bytes_reserved=signer.bytes_reserved(level),
                    appearance_text_params=(app.text_params if app else None) or None,
                    output=out,
                )
                break
            except Exception as exc:
                fetch_failed = _is_revocation_failure(exc) or (embed and _is_network_error(exc))
                if attempt + 1 < attempts and fetch_failed and not _revoked(exc):
                    log.warning("revocation data unavailable (attempt %d/%d)", attempt + 1, attempts)
                    time.sleep(_RETRY_BASE_DELAY * (2 ** attempt))
                    stream.seek(start)
                    continue
                raise
    except BaseException as exc:
        # leave the caller's output as it was
        if not own_output and out_start is not None:
            try:
                out.seek(out_start)
                out.truncate()
            except OSError:
                pass
        mapped = _classify(exc)
        if mapped is not exc:
            raise mapped from None
        if _revoked(exc):
            raise SignerCertificateRejected(
                "Chứng thư số của người ký đã bị thu hồi; không thể ký.", reason="revoked"
            ) from None
        if _is_revocation_failure(exc) or (embed and _is_network_error(exc)):
            raise ServiceUnavailable(
                "Không lấy được thông tin thu hồi chứng thư số (OCSP/CRL); "
                "tài liệu chưa được ký và giữ nguyên phiên bản trước."
            ) from None
        from pyhanko.pdf_utils.misc import PdfReadError

        if isinstance(exc, PdfReadError):
            raise InvalidDocument("Tệp PDF bị hỏng, không ký được") from None
        if isinstance(exc, (SigningError, PdfError)):
            log.exception("signing failed")
            raise SigningFailed() from None
        raise
    finally:
        try:
            stream.seek(start)
        except (OSError, ValueError):
            pass
    if own_output:
        return buffer.getvalue()
    return None


async def async_sign_pdf(data: bytes | BinaryIO, **kwargs: Any) -> bytes | None:
    """:func:`sign_pdf` in a worker thread, for async callers (FastAPI routes)."""
    return await asyncio.to_thread(sign_pdf, data, **kwargs)


def issue_stamp(
    data: bytes | BinaryIO,
    *,
    signer: PreparedSigner,
    text: str,
    page: int = 0,
    box: tuple[float, float, float, float],
    level: Level = "B-B",
    timestamper: TimeStamper | None = None,
    validation_context: ValidationContext | None = None,
    field_name: str | None = None,
    font_path: str | None = None,
    output: BinaryIO | None = None,
) -> bytes | None:
    """Stamp ``text`` (number/symbol, or the issue date) into an already signed document.

    Done as a text-only visible signature of the agency (``signer``) whose appearance shows the
    text, so the earlier signatures stay valid: pages are never rewritten. Raises as
    :func:`sign_pdf`.
    """
    if font_path is None:
        from signing.appearance import number_date_mark

        app: Any = number_date_mark(text=text, box=box, page=page)
    else:
        style = _text_only_style(font_path)
        app = _Appearance(page=page, box=box, stamp_style=style, text_params={"stamp_text": text})
    return sign_pdf(
        data, signer=signer, level=level, appearance=app, field_name=field_name,
        timestamper=timestamper, validation_context=validation_context, output=output,
    )


_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
)


def _text_only_style(font_path: str | None) -> Any:
    from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    path = font_path or next((p for p in _FONT_CANDIDATES if Path(p).exists()), None)
    box_style = TextBoxStyle(font=GlyphAccumulatorFactory(path), font_size=10) if path else TextBoxStyle(font_size=10)
    return TextStampStyle(stamp_text="%(stamp_text)s", text_box_style=box_style, border_width=0,
                          background=None)
