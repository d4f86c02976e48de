"""Bring an externally made signature (USB token, remote CSC) to the agency's PAdES level.

Completion of an interrupted signature yields B-T (the CMS carries a signature timestamp). For
B-LT the validation data of the signer and of the timestamp (certificates, OCSP responses, CRLs)
are added in a DSS revision; for B-LTA a document timestamp follows, with its own validation
data. Built on pyHanko's ``async_add_validation_info`` and ``PdfTimeStamper``.
"""
from __future__ import annotations

import logging
from io import BytesIO
from typing import Any

from ioffice.kernel.errors import ServiceUnavailable

log = logging.getLogger(__name__)


async def async_raise_level(signed: bytes, *, field_name: str, level: str, validation_context: Any,
                            timestamper: Any = None) -> bytes:
    """Add DSS (B-LT) and a document timestamp (B-LTA) after the signature ``field_name``.

    ``validation_context`` is a pyHanko ValidationContext or a factory of one. Raises
    ServiceUnavailable when revocation data or the document timestamp cannot be obtained
    (nothing is stored by this function)."""
    if level not in ("B-LT", "B-LTA"):
        return signed
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.validation.dss import async_add_validation_info
    from pyhanko_certvalidator import ValidationContext

    made: list[Any] = []

    def fresh_vc() -> Any:
        if validation_context is None:
            raise ValueError("B-LT needs a validation context")
        if isinstance(validation_context, ValidationContext) or not callable(validation_context):
            return validation_context
        vc = validation_context()
        made.append(vc)
        return vc

    try:
        reader = PdfFileReader(BytesIO(signed), strict=False)
        embedded = next(s for s in reader.embedded_signatures if s.field_name == field_name)
        out = await async_add_validation_info(embedded, fresh_vc(), output=BytesIO(), force_write=True)
        data: bytes = out.getvalue()
        if level == "B-LTA":
            if timestamper is None:
                raise ValueError("B-LTA needs a timestamper")
            writer = IncrementalPdfFileWriter(BytesIO(data), strict=False)
            out = await PdfTimeStamper(timestamper).async_timestamp_pdf(
                writer, "sha256", validation_context=fresh_vc(), output=BytesIO())
            data = out.getvalue()
    except Exception as exc:  # noqa: BLE001 - revocation / TSA failures of every kind
        await _close(made)
        log.warning("could not raise the signature to %s: %s", level, type(exc).__name__)
        raise ServiceUnavailable(
            "Không thu thập được thông tin kiểm tra hiệu lực chứng thư số (OCSP/CRL) hoặc dấu thời gian; "
            "văn bản chưa được ký và giữ nguyên phiên bản trước, vui lòng thử lại sau.") from exc
    await _close(made)
    return data


async def _close(contexts: list[Any]) -> None:
    """Release the HTTP sessions of the validation contexts this module created."""
    for vc in contexts:
        aclose = getattr(vc, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass


def raise_level(signed: bytes, **kw: Any) -> bytes:
    from ioffice.kernel.aio import run_sync

    return run_sync(lambda: async_raise_level(signed, **kw))
