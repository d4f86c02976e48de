"""Fixtures for the security tests: a live uvicorn server on loopback (for protocol-level checks
that an in-process client cannot make: stalled bodies, connection reuse after an error)."""
from __future__ import annotations

import socket
import threading
from contextlib import contextmanager

import pytest


@contextmanager
def live_server(app):
    """Run ``app`` under uvicorn on a free loopback port; yields (host, port)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    from api.proxies import server_options

    config = uvicorn.Config(app, lifespan="on", **server_options("127.0.0.1", port, log_level="warning"))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    ready = threading.Event()
    for _ in range(2000):  # wait until it accepts connections (bounded)
        if server.started:
            ready.set()
            break
        threading.Event().wait(0.01)
    assert ready.is_set(), "the live server did not start"
    try:
        yield "127.0.0.1", port
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def live(app):
    with live_server(app) as addr:
        yield addr
