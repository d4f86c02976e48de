"""A loopback S3 endpoint for tests: moto's ThreadedMotoServer, or a real MinIO from the env.

Reuse from any test folder::

    from tests.storage.s3server import moto_s3_endpoint, s3_target, unique_bucket_name  # fixtures

``IOFFICE_TEST_S3_ENDPOINT`` (+ ``IOFFICE_TEST_S3_ACCESS_KEY``, ``IOFFICE_TEST_S3_SECRET_KEY``,
optional ``IOFFICE_TEST_S3_SECURE``, default false) makes ``s3_target`` point at that server.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from minio import Minio

from storage.s3 import make_minio_client

MOTO_ACCESS_KEY = "testing"
MOTO_SECRET_KEY = "testing"


@dataclass(frozen=True)
class S3Target:
    """Where the S3 tests talk to: ``endpoint`` is ``host:port``."""

    endpoint: str
    access_key: str
    secret_key: str
    secure: bool = False
    is_moto: bool = True

    def client(self) -> Minio:
        """A raw minio client (short timeouts) for setting up or tampering with objects."""
        return make_minio_client(
            self.endpoint, self.access_key, self.secret_key, secure=self.secure
        )


class MotoS3Server:
    """moto's S3 server on 127.0.0.1 in a daemon thread (a real HTTP endpoint)."""

    def __init__(self, port: int = 0) -> None:
        from moto.server import ThreadedMotoServer

        # werkzeug logs every request at INFO; keep test output readable.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        """Start serving; returns ``host:port``."""
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"{host}:{port}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()

    def target(self) -> S3Target:
        return S3Target(self.endpoint, MOTO_ACCESS_KEY, MOTO_SECRET_KEY, secure=False)


def env_s3_target() -> S3Target | None:
    """The real S3/MinIO named by ``IOFFICE_TEST_S3_*``, or None."""
    endpoint = os.environ.get("IOFFICE_TEST_S3_ENDPOINT")
    if not endpoint:
        return None
    secure = os.environ.get("IOFFICE_TEST_S3_SECURE", "false").lower() in ("1", "true", "yes")
    return S3Target(
        endpoint,
        os.environ.get("IOFFICE_TEST_S3_ACCESS_KEY", ""),
        os.environ.get("IOFFICE_TEST_S3_SECRET_KEY", ""),
        secure=secure,
        is_moto=False,
    )


def unique_bucket_name(prefix: str = "ioffice-test") -> str:
    """A fresh, valid bucket name."""
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def closed_port() -> int:
    """A loopback TCP port nobody listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def moto_s3_server() -> Iterator[MotoS3Server]:
    """One moto S3 server for the whole session."""
    server = MotoS3Server()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_s3_endpoint(moto_s3_server: MotoS3Server) -> tuple[str, str, str]:
    """``(endpoint, access_key, secret_key)`` of the session's moto server (plain HTTP)."""
    return moto_s3_server.endpoint, MOTO_ACCESS_KEY, MOTO_SECRET_KEY


@pytest.fixture(scope="session")
def s3_target(request: pytest.FixtureRequest) -> S3Target:
    """The real MinIO from ``IOFFICE_TEST_S3_*`` if set, else the session's moto server."""
    target = env_s3_target()
    if target is not None:
        return target
    server: MotoS3Server = request.getfixturevalue("moto_s3_server")
    return server.target()
