"""The external signing session handed to the client, and the constants of its state."""
from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

T = TypeVar("T")


STATE_VERSION = 1


DIGEST_ALGORITHM = "sha256"


PSS_SALT_LENGTH = 32  # = digest length; what PKCS#11 tokens use for CKM_SHA256_RSA_PKCS_PSS


# Room kept in /Contents for an RFC 3161 token added at completion (DER bytes). Always reserved
# so that a timestamp can be added whether or not it was planned at prepare time.
TIMESTAMP_ROOM = 12_000


SIGNATURE_ROOM_MARGIN = 1_024


VN_TZ = timezone(timedelta(hours=7))


@dataclass
class ExternalSession:
    """What :func:`prepare_external_signature` hands back.

    ``prepared_pdf`` and ``state`` must be stored by the caller and given back unchanged to
    :func:`complete_external_signature`; ``data_to_sign`` goes to the official's signing tool.
    """

    prepared_pdf: bytes
    state: dict[str, Any]
    data_to_sign: bytes
    digest_algorithm: str
    signature_mechanism: str
    expires_at: datetime

    @property
    def field_name(self) -> str:
        name: str = self.state["field_name"]
        return name


def _run_sync(make_coro: Callable[[], Awaitable[T]], validation_context: Any = None) -> T:
    """Run a coroutine to completion from synchronous code (see :func:`ioffice.kernel.aio.run_sync`) and
    release the network resources of ``validation_context`` afterwards."""
    from ioffice.kernel.aio import run_sync

    async def runner() -> T:
        try:
            return await make_coro()
        finally:
            aclose = getattr(validation_context, "aclose", None)
            if aclose is not None:
                await aclose()

    return run_sync(runner)


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: str) -> bytes:
    return base64.b64decode(value.encode("ascii"), validate=True)
