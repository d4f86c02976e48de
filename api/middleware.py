"""Pure ASGI middleware guarding the HTTP surface.

- ``SecurityHeaders``: Content-Security-Policy (no inline scripts, no framing), X-Frame-Options,
  X-Content-Type-Options, Referrer-Policy on every response.
- ``BodyGuard``: a request body larger than the limit gets 413 while it streams in (chunked bodies
  counted, Content-Length checked up front); a body that stalls longer than the read timeout gets
  408. Both answer problem+json even when the route was already parsing a multipart form (which
  would otherwise turn the failure into a generic 400).
- ``CatchAll``: an unexpected exception becomes a problem+json 500 *inside* the app, so the server
  keeps the connection alive (an exception reaching uvicorn closes it).
- ``AdmissionGate``: a worker runs a few requests at once; the others wait their turn in arrival
  order.
"""
from __future__ import annotations

import asyncio
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import problems

log = logging.getLogger("ioffice.api")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI (React) sets a few inline styles; scripts stay 'self' only.
CSP_DOCS = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
# The signing page talks to the official's own signing plugin on their PC (VGCA, VNPT-CA, Viettel-CA
# listen on loopback): only there may it connect besides the app itself.
CSP_SIGN = CSP.replace("connect-src 'self'", "connect-src 'self' wss://127.0.0.1:* wss://localhost:* "
                       "http://127.0.0.1:* http://localhost:*")
_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        csp = (CSP_DOCS if path.startswith("/docs") else CSP_SIGN if path.startswith("/sign") else CSP).encode()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                ours = {b"content-security-policy"} | {k for k, _ in _HEADERS}
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() not in ours]
                headers.append((b"content-security-policy", csp))
                headers.extend(_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class _BodyFailure(Exception):
    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


def _too_large(limit: int) -> _BodyFailure:
    return _BodyFailure(413, "payload-too-large", "Tệp vượt quá dung lượng cho phép",
                        f"Tệp vượt quá dung lượng cho phép ({limit // (1024 * 1024)} MB).")


def _nul() -> _BodyFailure:
    return _BodyFailure(422, "invalid-input", "Dữ liệu không hợp lệ",
                        "Dữ liệu gửi lên chứa ký tự NUL (\\u0000), không được phép trong văn bản.")


_NUL_MARKERS = {b"application/json": re.compile(rb"(?<!\\)\\u0000", re.I),
                b"application/x-www-form-urlencoded": re.compile(rb"%00")}


async def _no_body() -> Message:
    """``receive`` for a problem response sent in place of the app's (the response never reads)."""
    return {"type": "http.disconnect"}


def _timed_out(seconds: float) -> _BodyFailure:
    return _BodyFailure(408, "request-timeout", "Hết thời gian chờ dữ liệu",
                        f"Không nhận được dữ liệu trong {seconds:g} giây; yêu cầu đã bị hủy. Vui lòng gửi lại.")


async def _send_problem(scope: Scope, send: Send, failure: _BodyFailure, close: bool) -> None:
    resp = problems.problem(failure.status, failure.code, failure.title, failure.detail, scope.get("path"))
    if close:
        resp.headers["Connection"] = "close"
    await resp({"type": "http", **scope}, _no_body, send)


class BodyGuard:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout_seconds: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and re.search(rb"%00", scope.get("query_string", b"")):
            return await _send_problem(scope, send, _nul(), close=False)
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            return await self.app(scope, receive, send)
        limit = self.max_bytes
        nul_marker = None
        tail = b""
        for name, value in scope.get("headers", ()):
            if name == b"content-type":
                nul_marker = _NUL_MARKERS.get(value.split(b";")[0].strip().lower())
            if name == b"content-length":
                try:
                    if int(value) > limit:
                        return await _send_problem(scope, send, _too_large(limit), close=True)
                except ValueError:
                    pass
        seen = 0
        body_done = False
        failure: _BodyFailure | None = None
        started = False

        async def guarded_receive() -> Message:
            nonlocal seen, body_done, failure, tail
            if body_done or failure is not None:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                failure = _timed_out(self.timeout)
                raise failure from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    failure = _too_large(limit)
                    raise failure
                body_done = not message.get("more_body", False)
                if nul_marker is not None:  # NUL in text: PostgreSQL refuses it, nobody means it
                    chunk = tail + message.get("body", b"")
                    if nul_marker.search(chunk) or b"\x00" in chunk:
                        failure = _nul()
                        raise failure
                    tail = chunk[-8:]
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if failure is not None:  # the app answers a failed body with its own 400: replace it
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _send_problem(scope, send, failure, close=True)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            if failure is None or started:
                raise
            started = True
            await _send_problem(scope, send, failure, close=True)


class CatchAll:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            resp = problems.problem(500, "internal-error", "Lỗi hệ thống",
                                    "Đã xảy ra lỗi không mong muốn. Vui lòng thử lại sau.", scope.get("path"))
            await resp({"type": "http", **scope}, _no_body, send)


class AdmissionGate:
    """At most ``limit`` requests of this worker process run at once; the others wait in arrival
    order (asyncio's semaphore is first come, first served).

    Without it every request a worker has accepted runs at once: 16 threads of one process take
    turns on the interpreter lock between their database round trips, each request finishes late,
    and which ones finish last is chance. Queued in order, each waits for those ahead of it and
    then runs almost alone: the same two cores serve more requests, and the slowest ones are
    closer to the median (benchmarks/bench_load.py, README "Load").

    A request holds its place for at most ``lease`` seconds; after that it runs on but no longer
    counts, so a long upload, download, preview or signature delays the short requests queued
    behind it by the lease at most. ``exempt`` paths (the health check) never wait."""

    def __init__(self, app: ASGIApp, *, limit: int, lease: float, exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.lease = lease
        self.exempt = frozenset(exempt)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or loop is not self._loop:  # one semaphore per event loop (test clients make several)
            self._loop, self._slots = loop, asyncio.Semaphore(self.limit)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit <= 0 or scope.get("path") in self.exempt:
            return await self.app(scope, receive, send)
        slots = self._semaphore()
        await slots.acquire()
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                slots.release()

        lease = asyncio.get_running_loop().call_later(self.lease, release)
        try:
            await self.app(scope, receive, send)
        finally:
            lease.cancel()
            release()
