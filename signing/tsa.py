"""The ``TimestampAuthority`` port on pyHanko: RFC 3161 tokens over a SHA-256 digest (for the audit
chain's anchors) and their verification against the trust roots."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps import TimeStamper

from ioffice.kernel.aio import run_sync
from ioffice.kernel.errors import ServiceUnavailable


class PyHankoTimestampAuthority:
    """``stamp`` asks ``timestamper`` (pyHanko's HTTPTimeStamper for the agency's TSA, or the
    in-process development TSA); ``check`` verifies a token's signature, its message imprint and the
    TSA certificate's chain to ``trust_roots`` at the time the token states (so that an anchor stays
    verifiable after the TSA certificate expires). No network access while checking."""

    def __init__(self, timestamper: TimeStamper, trust_roots: Sequence[asn1_x509.Certificate]) -> None:
        self.timestamper = timestamper
        self.trust_roots = list(trust_roots)

    def stamp(self, sha256_digest: bytes) -> bytes:
        try:
            token: cms.ContentInfo = run_sync(lambda: self.timestamper.async_timestamp(sha256_digest, "sha256"))
        except Exception as exc:  # noqa: BLE001 - transport, TSA refusal, retries exhausted
            raise ServiceUnavailable("Không lấy được dấu thời gian từ dịch vụ cấp dấu thời gian (TSA) "
                                     "để neo nhật ký kiểm tra.") from exc
        return bytes(token.dump())

    def check(self, token: bytes, sha256_digest: bytes) -> datetime:
        from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
        from pyhanko_certvalidator import ValidationContext

        try:
            info = cms.ContentInfo.load(token)
            signed = info["content"]
            tst_info = signed["encap_content_info"]["content"].parsed
            if not isinstance(tst_info, tsp.TSTInfo):
                raise ValueError("not a timestamp token")
            gen_time: datetime = tst_info["gen_time"].native
        except ValueError:
            raise
        except Exception as exc:  # noqa: BLE001 - any malformed DER
            raise ValueError("malformed timestamp token") from exc
        context = ValidationContext(trust_roots=self.trust_roots, allow_fetching=False,
                                    revocation_mode="soft-fail", moment=gen_time)

        def expected(algo: str) -> bytes:
            if algo != "sha256":
                return b""
            return sha256_digest

        try:
            status: dict[str, Any] = run_sync(lambda: validate_tst_signed_data(signed, context, expected))
        except Exception as exc:  # noqa: BLE001 - pyHanko's validation errors of every kind
            raise ValueError(f"token signature is invalid ({type(exc).__name__})") from exc
        if not status.get("intact"):
            raise ValueError("token covers another chain head (imprint mismatch)")
        if not status.get("valid"):
            raise ValueError("token signature is invalid")
        if status.get("trust_problem_indic") is not None or status.get("validation_path") is None:
            raise ValueError("TSA certificate does not chain to a trusted root")
        return gen_time
