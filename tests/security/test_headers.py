"""Security headers and HTTP protocol behaviour: CSP and friends on every response, /docs without
a CDN, WWW-Authenticate on 401, Retry-After on 429, 413 for oversized chunked uploads, 408 for a
stalled body, and a 500 that keeps the connection usable."""
from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_pdf
from tests.security.conftest import live_server


def _assert_security_headers(r):
    csp = r.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (r.url, csp)
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and "'unsafe-inline'" not in script_src.group(1) and "http" not in script_src.group(1)
    assert "default-src 'self'" in csp
    assert r.headers.get("x-frame-options") == "DENY"
    assert r.headers.get("x-content-type-options") == "nosniff"
    assert r.headers.get("referrer-policy") == "no-referrer"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_response_carries_security_headers(client):
    for r in (client.get("/verify"), client.get("/docs"), client.get("/healthz"), client.get("/api/v1/auth/me"),
              client.get("/nowhere"), client.post("/api/v1/verify", files={"file": ("a.pdf", b"x", "application/pdf")})):
        _assert_security_headers(r)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_verify_page_has_no_inline_script_or_style_and_still_works(client):
    for r in (client.get("/verify"), client.post("/verify", files={"file": ("a.pdf", make_pdf(), "application/pdf")})):
        assert r.status_code == 200
        html = r.text
        assert "<style" not in html and "<script>" not in html and " style=" not in html and "onclick" not in html
        sheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert sheets, "the page links its stylesheet"
        for href in sheets:
            css = client.get(href)
            assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
            assert "--bad" in css.text  # the verdict colours are really there
        _assert_security_headers(r)
    assert "chữ ký số" in r.text.lower()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_docs_load_swagger_ui_from_the_app_itself(client):
    r = client.get("/docs")
    assert r.status_code == 200
    html = r.text
    assert "cdn" not in html.lower() and "https://" not in html and "<script>" not in html
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets) and any(a.endswith(".css") for a in assets)
    for a in assets:
        assert a.startswith("/"), a
        got = client.get(a)
        assert got.status_code == 200, a
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and spec.json()["info"]["title"] == "ioffice"
    # the vendored bundle ships with its licence
    import api

    static = Path(api.__file__).parent / "static" / "swagger-ui"
    assert "Apache License" in (static / "LICENSE").read_text()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_401_names_the_bearer_scheme(client):
    for r in (client.get("/api/v1/auth/me"), client.get("/api/v1/auth/me", headers={"Authorization": "Bearer junk"}),
              client.post("/api/v1/auth/token", data={"username": "vanthu", "password": "wrong-password"})):
        assert r.status_code == 401
        assert r.headers.get("www-authenticate", "").startswith("Bearer")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_429_carries_retry_after_on_the_citizen_page_too(env):
    from api.app import create_app

    with TestClient(create_app(env.settings(public_rate_limit_per_minute=2))) as c:
        codes = [c.post("/verify", files={"file": ("a.pdf", b"x", "application/pdf")}) for _ in range(3)]
        assert [r.status_code for r in codes] == [200, 200, 429]
        assert int(codes[2].headers["retry-after"]) > 0
        assert "quá nhiều" in codes[2].text.lower()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_oversized_chunked_upload_is_413(env, as_user):
    from api.app import create_app

    app = create_app(env.settings(max_upload_mb=1))
    with TestClient(app) as c:
        from tests.conftest import login

        headers = login(c, "vanthu")
        body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n" \
               b"Content-Type: application/pdf\r\n\r\n" + b"0" * (3 * 1024 * 1024) + b"\r\n--b--\r\n"

        def chunks():
            for i in range(0, len(body), 65536):
                yield body[i:i + 65536]

        r = c.post("/api/v1/documents", headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
                   content=chunks())
        assert r.status_code == 413, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "dung lượng" in r.json()["detail"]
        listed = c.get("/api/v1/documents", headers=headers).json()
        assert listed["total"] == 0


def _read_response(sock) -> tuple[int, dict, bytes]:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_stalled_request_body_times_out_with_408(env):
    from api.app import create_app

    app = create_app(env.settings(body_timeout_seconds=1))
    with live_server(app) as (host, port):
        with socket.create_connection((host, port), timeout=60) as s:
            s.sendall(b"POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                      b"Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"")
            status, headers, body = _read_response(s)  # the client sends nothing more
        assert status == 408
        assert headers["content-type"].startswith("application/problem+json")
        assert json.loads(body)["status"] == 408


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_after_a_500_the_connection_stays_usable(app):
    def boom():
        raise RuntimeError("simulated bug")

    app.add_api_route("/boom-for-test", boom)
    with live_server(app) as (host, port):
        with socket.create_connection((host, port), timeout=60) as s:
            s.sendall(b"GET /boom-for-test HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, body = _read_response(s)
            assert status == 500
            assert headers["content-type"].startswith("application/problem+json")
            assert "simulated" not in body.decode() and "Traceback" not in body.decode()
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # same connection
            status, headers, body = _read_response(s)
            assert status in (200, 503)
