"""Timestamp and revocation services with retries: :func:`http_timestamper`,
:func:`make_validation_context`."""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko_certvalidator import ValidationContext

log = logging.getLogger("signing.engine")


_RETRY_ATTEMPTS = 3


_RETRY_BASE_DELAY = 0.2  # seconds; 0.2, 0.4 (+ jitter)


_DEFAULT_TIMEOUT = 5  # seconds per TSA / OCSP request


class _ServiceFailure(Exception):
    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class RetryingTimeStamper(TimeStamper):
    """Wrap a TimeStamper: retry failed requests with exponential backoff, then raise
    :class:`ServiceUnavailable`."""

    def __init__(self, inner: TimeStamper, *, attempts: int = _RETRY_ATTEMPTS,
                 base_delay: float = _RETRY_BASE_DELAY) -> None:
        super().__init__(include_nonce=inner.include_nonce)  # type: ignore[no-untyped-call]  # pyHanko: unannotated
        self.inner = inner
        self.attempts = attempts
        self.base_delay = base_delay
        self.cert_registry = inner.cert_registry

    async def async_request_tsa_response(self, req: Any) -> Any:  # pragma: no cover - delegated
        return await self.inner.async_request_tsa_response(req)

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> Any:
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                return await self.inner.async_timestamp(message_digest, md_algorithm)
            except (TimeoutError, TimestampRequestError, OSError, Exception) as exc:  # noqa: B014
                last = exc
                log.warning("TSA request failed (attempt %d/%d): %s", attempt + 1, self.attempts,
                            type(exc).__name__)
                if attempt + 1 < self.attempts:
                    await asyncio.sleep(self.base_delay * (2 ** attempt) * (1 + random.random() / 4))
        raise _ServiceFailure("tsa") from last

    async def async_dummy_response(self, md_algorithm: str) -> Any:
        last: Exception | None = None
        for attempt in range(self.attempts):
            try:
                return await self.inner.async_dummy_response(md_algorithm)
            except Exception as exc:
                last = exc
                if attempt + 1 < self.attempts:
                    await asyncio.sleep(self.base_delay * (2 ** attempt))
        raise _ServiceFailure("tsa") from last

    async def validation_paths(self, validation_context: ValidationContext) -> AsyncIterator[Any]:
        await self.async_dummy_response("sha256")
        async for p in self.inner.validation_paths(validation_context):
            yield p


def make_validation_context(
    trust_roots: Sequence[asn1_x509.Certificate],
    *,
    other_certs: Sequence[asn1_x509.Certificate] = (),
    revocation_mode: str = "hard-fail",
    timeout: float = _DEFAULT_TIMEOUT,
) -> Callable[[], ValidationContext]:
    """A factory of fresh validation contexts (fetching allowed, short timeouts) for B-LT/B-LTA.

    A ``ValidationContext`` fixes "now" when it is built, so each signing needs a new one:
    pass the factory itself as ``sign_pdf(validation_context=...)``.
    """
    from datetime import timedelta

    from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
    from pyhanko_certvalidator.fetchers.api import OwnedFetcherBackend

    roots = list(trust_roots)
    others = list(other_certs)

    def factory() -> ValidationContext:
        return ValidationContext(
            trust_roots=roots, other_certs=others, allow_fetching=True,
            revocation_mode=revocation_mode, time_tolerance=timedelta(seconds=30),
            fetcher_backend=OwnedFetcherBackend(
                AIOHttpFetcherBackend(per_request_timeout=max(1, int(timeout)))
            ),
        )

    return factory


def http_timestamper(url: str, *, timeout: float = _DEFAULT_TIMEOUT) -> TimeStamper:
    """An RFC 3161 client for ``url`` with a short timeout and retry/backoff."""
    return RetryingTimeStamper(HTTPTimeStamper(url, timeout=int(max(1, timeout))))
