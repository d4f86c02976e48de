"""Request ids (echoed, carried by log lines) and Prometheus metrics at /metrics."""
from __future__ import annotations

import json
import logging
import re

from tests.conftest import make_pdf


def _sample(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_request_id_is_echoed_or_made_and_carried_by_log_lines(client, caplog):
    from api.observability import JsonFormatter, RequestIdFilter

    caplog.set_level(logging.INFO, logger="ioffice.access")
    r = client.get("/healthz", headers={"X-Request-ID": "abc-123.x"})
    assert r.headers["x-request-id"] == "abc-123.x"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz").headers["x-request-id"] != made
    # A problem response carries it too.
    assert client.get("/api/v1/documents", headers={"X-Request-ID": "r-401"}).headers["x-request-id"] == "r-401"

    records = [rec for rec in caplog.records if rec.name == "ioffice.access"]
    mine = [rec for rec in records if getattr(rec, "path", None) == "/healthz" and rec.status == 200]
    assert mine
    f = RequestIdFilter()
    line = None
    for rec in records:
        if getattr(rec, "status", None) == 401:
            f.filter(rec)  # the filter reads the id of the request being handled
            line = json.loads(JsonFormatter().format(rec))
    assert line is not None
    assert line["route"] == "/api/v1/documents" and line["status"] == 401 and line["method"] == "GET"
    assert line["level"] == "info" and line["logger"] == "ioffice.access"


def test_log_lines_written_during_a_request_carry_its_id(client, caplog):
    """The id lives in a context variable while the request runs: the access line is logged inside it."""
    from api.observability import RequestIdFilter

    seen = []

    class Grab(logging.Handler):
        def emit(self, record):
            seen.append(record.request_id)

    h = Grab()
    h.addFilter(RequestIdFilter())
    logger = logging.getLogger("ioffice.access")
    logger.addHandler(h)
    logger.setLevel(logging.INFO)
    try:
        client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    finally:
        logger.removeHandler(h)
    assert "trace-42" in seen


def test_metrics_count_requests_latency_and_validations(client):
    before = client.get("/metrics").text
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    r = client.post("/api/v1/verify", files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert r.status_code == 200, r.text
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    after = r.text
    delta = _sample(after, "ioffice_http_requests_total", route="/healthz", status="200") - \
        _sample(before, "ioffice_http_requests_total", route="/healthz", status="200")
    assert delta == 3
    assert _sample(after, "ioffice_http_request_duration_seconds_count", route="/healthz") >= 3
    assert _sample(after, "ioffice_validations_total", outcome="ok") - \
        _sample(before, "ioffice_validations_total", outcome="ok") == 1
    assert "ioffice_signatures_total" in after
