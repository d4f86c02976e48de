"""Request ids, structured (JSON) logs and Prometheus metrics.

- Every request gets an id: the caller's ``X-Request-ID`` when it is sane (≤ 128 characters of
  ``[A-Za-z0-9._:-]``), else a new one; it is echoed in the response header and carried by every
  log line written while the request runs (a ``contextvars`` variable read by a logging filter).
- ``/metrics`` serves Prometheus text: ``ioffice_http_requests_total`` and
  ``ioffice_http_request_duration_seconds`` by method, route template and status,
  ``ioffice_signatures_total`` and ``ioffice_validations_total`` by outcome, and the background job
  queue's depth (``ioffice_jobs_queued``, ``ioffice_jobs_scheduled``). With several worker
  processes (``ioffice serve --workers N``) the figures of all workers are summed through
  prometheus_client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``ioffice serve``).
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from collections.abc import Iterator

    from fastapi import FastAPI
    from prometheus_client.core import GaugeMetricFamily

    from .container import Container

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("ioffice_request_id", default=None)
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = logging.getLogger("ioffice.access")

_metrics = None


class _Metrics:
    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.requests = Counter("ioffice_http_requests_total", "HTTP requests", ["method", "route", "status"])
        self.latency = Histogram("ioffice_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"],
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.signatures = Counter("ioffice_signatures_total", "Signing requests", ["kind", "outcome"])
        self.validations = Counter("ioffice_validations_total", "Public validation requests", ["outcome"])


def metrics() -> _Metrics:
    global _metrics
    if _metrics is None:
        _metrics = _Metrics()
    return _metrics


def render_metrics() -> tuple[bytes, str]:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

    metrics()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _outcome(status: int) -> str:
    return "ok" if status < 400 else ("refused" if status < 500 else "error")


class RequestContext:
    """Pure ASGI middleware: request id, one access log line, metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.m = metrics()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-request-id"), "")
        rid = given if _SANE_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.m.requests.labels(method, route, str(status)).inc()
            self.m.latency.labels(method, route).observe(elapsed)
            if method == "POST" and (
                route.endswith("/sign") or route.endswith("/signing-sessions/{session_id}/complete")
            ):
                kind = "external-complete" if route.endswith("/complete") else route.rsplit("/", 2)[-2]
                self.m.signatures.labels("attachments" if kind == "attachments" else (
                    kind if kind == "external-complete" else "document"), _outcome(status)).inc()
            elif method == "POST" and route in ("/api/v1/verify", "/verify"):
                self.m.validations.labels(_outcome(status)).inc()
            if route != "/metrics":
                log.info("request", extra={"method": method, "path": scope.get("path"), "route": route,
                                           "status": status, "duration_ms": round(elapsed * 1000, 1)})
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


_STD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "request_id",
                                                                          "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request id and any extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,  # which worker process (ioffice serve --workers N)
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None)
        if rid:
            out["request_id"] = rid
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc_type"] = record.exc_info[0].__name__ if record.exc_info[0] else None
        return json.dumps(out, ensure_ascii=False, default=str)


def log_config(level: str | None = None) -> dict[str, Any]:
    """logging.dictConfig for uvicorn and ioffice: JSON lines on stderr carrying the request id."""
    level = (level or os.environ.get("IOFFICE_LOG_LEVEL") or "INFO").upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "api.observability.RequestIdFilter"}},
        "formatters": {"json": {"()": "api.observability.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"],
                                "stream": "ext://sys.stderr"}},
        "loggers": {
            "ioffice": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def queue_metrics(container: Container) -> bytes:
    """``ioffice_jobs_queued`` / ``ioffice_jobs_scheduled``: the background job queue's depth, read
    from the shared queue at scrape time (the same figure whichever worker answers)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    from .jobs import install as install_jobs

    try:
        jobs = install_jobs(container)
        queued, scheduled = jobs.pending(), jobs.scheduled()
    except Exception as exc:  # noqa: BLE001 - the queue's database down: the rest of /metrics still answers
        log.warning("job queue depth unavailable: %s", type(exc).__name__)
        return b""

    class _Queue:
        def collect(self) -> Iterator[GaugeMetricFamily]:
            yield GaugeMetricFamily("ioffice_jobs_queued", "Background jobs waiting to run", value=queued)
            yield GaugeMetricFamily("ioffice_jobs_scheduled", "Background jobs waiting for a later time (retries)",
                                    value=scheduled)

    registry = CollectorRegistry()
    registry.register(_Queue())
    return generate_latest(registry)


def install(app: FastAPI) -> None:
    """Add the middleware and the /metrics route to ``app``."""
    from fastapi.responses import Response

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        body, ctype = render_metrics()
        return Response(body + queue_metrics(app.state.container), media_type=ctype)

    app.add_middleware(RequestContext)
