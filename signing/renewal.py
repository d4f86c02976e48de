"""pyHanko side of B-LTA renewal (:class:`ioffice.signatures.renewal.TimestampRenewalPort`): read
when the latest document timestamp's TSA certificate expires, and extend the timestamp chain with
pyHanko's ``PdfTimeStamper.async_update_archival_timestamp_chain`` (validation data of the last
timestamp in a DSS revision, then a new document timestamp)."""
from __future__ import annotations

import logging
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from ioffice.kernel.errors import InvalidInput, ServiceUnavailable

log = logging.getLogger(__name__)


def _reader(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(BytesIO(pdf), strict=False)


def timestamp_expiry(pdf: bytes) -> datetime | None:
    """``not_after`` of the TSA certificate of the last document timestamp, or None (no
    document timestamp, or an unreadable PDF: nothing this job can renew)."""
    try:
        stamps = _reader(pdf).embedded_timestamp_signatures
    except Exception as exc:  # noqa: BLE001 - a broken archived PDF is reported, never renewed blindly
        log.warning("timestamp renewal: unreadable PDF (%s)", type(exc).__name__)
        return None
    if not stamps:
        return None
    last = max(stamps, key=lambda s: s.signed_revision)
    not_after = last.signer_cert["tbs_certificate"]["validity"]["not_after"].native
    return not_after if not_after.tzinfo else not_after.replace(tzinfo=UTC)


async def async_renew(pdf: bytes, *, timestamper: Any, validation_context: Any) -> bytes:
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

    if not _reader(pdf).embedded_timestamp_signatures:
        raise InvalidInput("Văn bản không có dấu thời gian tài liệu (B-LTA) để gia hạn.")
    vc = validation_context() if callable(validation_context) else validation_context
    try:
        out = await PdfTimeStamper(timestamper).async_update_archival_timestamp_chain(
            _reader(pdf), vc, in_place=False, output=BytesIO())
    except Exception as exc:  # noqa: BLE001 - TSA / OCSP / CRL failures of every kind
        log.warning("timestamp renewal failed: %s", type(exc).__name__, exc_info=log.isEnabledFor(logging.DEBUG))
        raise ServiceUnavailable("Không gia hạn được dấu thời gian (TSA hoặc OCSP/CRL không phản hồi); "
                                 "văn bản giữ nguyên, sẽ thử lại ở lần chạy sau.") from exc
    finally:
        aclose = getattr(vc, "aclose", None)
        if aclose is not None and vc is not validation_context:
            try:
                await aclose()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
    return out.getvalue()


def renew(pdf: bytes, *, timestamper: Any, validation_context: Any) -> bytes:
    from ioffice.kernel.aio import run_sync

    return run_sync(lambda: async_renew(pdf, timestamper=timestamper, validation_context=validation_context))
