"""Remote signing through a Cloud Signature Consortium (CSC API v1) service — the shape of VNPT
SmartCA and Viettel MySign — on pyHanko's CSC signer.

``credentials/list`` and ``credentials/info`` find the official's credential and certificate;
``credentials/authorize`` obtains one SAD for N hashes (``numSignatures``, the hashes themselves
when the credential pins them, SCAL 2); ``signatures/signHash`` signs them in one call (pyHanko's
``CSCSigner`` with a batch of N).

Asynchronous confirmation: a provider that waits for the official to confirm on their phone
answers ``credentials/authorize`` with HTTP 202 and ``{"transactionID": …}``; the client repeats
the request with that ``transactionID`` every ``poll_interval`` seconds until it gets the SAD
(200), a refusal (4xx, e.g. ``{"error": "access_denied"}``) or ``timeout`` elapses. A provider
that confirms at once simply answers 200 with the SAD the first time.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from ioffice.kernel.errors import Conflict, ServiceUnavailable

_T = TypeVar("_T")

log = logging.getLogger(__name__)


class RemoteSigningRefused(Conflict):
    code = "remote-signing-refused"
    title = "Người ký đã từ chối yêu cầu ký số từ xa"


class RemoteSigningExpired(Conflict):
    code = "remote-signing-expired"
    title = "Yêu cầu ký số từ xa đã hết thời gian chờ xác nhận"


class RemoteSigningUnavailable(ServiceUnavailable):
    code = "remote-signing-unavailable"
    title = "Dịch vụ ký số từ xa không khả dụng"


@dataclass(frozen=True)
class CscProvider:
    name: str
    url: str  # the part before /csc/v1/…
    token: str | None = None


@dataclass(frozen=True)
class RemoteCredential:
    credential_id: str
    certificate_der: bytes
    chain_der: list[bytes]
    max_batch_size: int
    hash_pinning_required: bool

    @property
    def certificate_pem(self) -> str:
        return _pem(self.certificate_der)

    @property
    def chain_pem(self) -> list[str]:
        return [_pem(c) for c in self.chain_der]


def _pem(der: bytes) -> str:
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


class CscClient:
    """One provider. Every call is a short aiohttp session; errors are Vietnamese DomainErrors."""

    def __init__(self, provider: CscProvider, *, timeout: float = 120.0, poll_interval: float = 2.0,
                 request_timeout: float = 30.0) -> None:
        self.provider = provider
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.request_timeout = request_timeout

    def _session_info(self, credential_id: str) -> Any:
        from pyhanko.sign.signers.csc_signer import CSCServiceSessionInfo

        return CSCServiceSessionInfo(service_url=self.provider.url.rstrip("/"), credential_id=credential_id,
                                     oauth_token=self.provider.token)

    def _unavailable(self, exc: BaseException) -> RemoteSigningUnavailable:
        log.warning("CSC provider %s failed: %s", self.provider.name, type(exc).__name__)
        return RemoteSigningUnavailable(
            f"Dịch vụ ký số từ xa ({self.provider.name}) không phản hồi hoặc trả lời không hợp lệ; "
            "văn bản chưa được ký, vui lòng thử lại sau.")

    async def list_credentials(self) -> list[str]:
        import aiohttp

        info = self._session_info("")
        try:
            async with aiohttp.ClientSession() as http:
                async with http.post(info.endpoint_url("credentials/list"), headers=info.auth_headers, json={},
                                     raise_for_status=True,
                                     timeout=aiohttp.ClientTimeout(total=self.request_timeout)) as resp:
                    data = await resp.json()
            return [str(c) for c in data.get("credentialIDs", [])]
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            raise self._unavailable(exc) from exc

    async def credential(self, credential_id: str) -> RemoteCredential:
        import aiohttp
        from pyhanko.sign.general import SigningError
        from pyhanko.sign.signers.csc_signer import fetch_certs_in_csc_credential

        try:
            async with aiohttp.ClientSession() as http:
                info = await fetch_certs_in_csc_credential(http, self._session_info(credential_id),
                                                           timeout=int(self.request_timeout))
        except (TimeoutError, SigningError, aiohttp.ClientError) as exc:
            raise self._unavailable(exc) from exc
        return RemoteCredential(credential_id=credential_id, certificate_der=info.signing_cert.dump(),
                                chain_der=[c.dump() for c in info.chain], max_batch_size=info.max_batch_size,
                                hash_pinning_required=info.hash_pinning_required)

    async def authorize(self, credential_id: str, hashes_b64: list[str], *, pinned: bool,
                        description: str | None = None) -> str:
        """One SAD for ``len(hashes_b64)`` signatures, waiting for the official's confirmation."""
        import aiohttp

        info = self._session_info(credential_id)
        body: dict[str, Any] = {"credentialID": credential_id, "numSignatures": len(hashes_b64)}
        if pinned:
            body["hash"] = hashes_b64
        if description:
            body["description"] = description[:500]
        deadline = time.monotonic() + self.timeout
        try:
            async with aiohttp.ClientSession() as http:
                while True:
                    async with http.post(info.endpoint_url("credentials/authorize"), headers=info.auth_headers,
                                         json=body,
                                         timeout=aiohttp.ClientTimeout(total=self.request_timeout)) as resp:
                        status = resp.status
                        try:
                            data = await resp.json(content_type=None)
                        except ValueError:
                            data = {}
                    if status == 200 and data.get("SAD"):
                        return str(data["SAD"])
                    if status == 202 and data.get("transactionID"):
                        body["transactionID"] = data["transactionID"]
                        if time.monotonic() + self.poll_interval > deadline:
                            raise RemoteSigningExpired(
                                "Người ký chưa xác nhận yêu cầu ký trên điện thoại trong thời gian cho phép; "
                                "văn bản giữ nguyên, hãy ký lại khi sẵn sàng.")
                        await asyncio.sleep(self.poll_interval)
                        continue
                    if 400 <= status < 500:
                        raise RemoteSigningRefused(
                            "Yêu cầu ký số từ xa đã bị từ chối"
                            + (" (người ký từ chối trên điện thoại)" if data.get("error") == "access_denied" else "")
                            + "; văn bản giữ nguyên phiên bản trước.", provider_error=str(data.get("error") or status))
                    raise self._unavailable(RuntimeError(f"HTTP {status}"))
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._unavailable(exc) from exc

    async def sign(self, credential_id: str, datas: list[bytes], *, description: str | None = None,
                   credential: RemoteCredential | None = None) -> list[bytes]:
        """Sign each of ``datas`` (SHA-256 then the key) under one authorisation and one
        ``signatures/signHash`` call; returns the raw signature values in order."""
        import aiohttp
        from pyhanko.sign.general import SigningError
        from pyhanko.sign.signers.csc_signer import (
            CSCAuthorizationInfo,
            CSCSigner,
            PrefetchedSADAuthorizationManager,
            fetch_certs_in_csc_credential,
        )

        if not datas:
            return []
        hashes = [base64.b64encode(hashlib.sha256(d).digest()).decode("ascii") for d in datas]
        cred = credential or await self.credential(credential_id)
        if len(datas) > cred.max_batch_size:
            raise Conflict(
                f"Dịch vụ ký số từ xa chỉ cho phép ký tối đa {cred.max_batch_size} văn bản mỗi lần xác nhận."
            )
        sad = await self.authorize(credential_id, hashes, pinned=cred.hash_pinning_required, description=description)
        session_info = self._session_info(credential_id)
        try:
            async with aiohttp.ClientSession() as http:
                info = await fetch_certs_in_csc_credential(http, session_info, timeout=int(self.request_timeout))
                auth = PrefetchedSADAuthorizationManager(session_info, info, CSCAuthorizationInfo(sad=sad))
                signer = CSCSigner(http, auth, batch_size=len(datas), sign_timeout=int(self.request_timeout))
                return list(await asyncio.gather(*(signer.async_sign_raw(d, "sha256") for d in datas)))
        except (TimeoutError, SigningError, aiohttp.ClientError) as exc:
            raise self._unavailable(exc) from exc


def run(coro_factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    from ioffice.kernel.aio import run_sync

    return run_sync(coro_factory)
