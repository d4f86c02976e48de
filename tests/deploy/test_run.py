"""The service as a newcomer and an operator run it: real processes, real ports.

- the README's run command (`ioffice demo`) on the embedded default brings /healthz to ok;
- PostgreSQL + S3 (moto server on loopback) chosen by environment variables only;
- storage down: /healthz names it (503), uploads fail with 503 and leave no row.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.conftest import _pg_exec, _pg_url, make_pdf, pg_available
from tests.storage.s3server import closed_port, moto_s3_endpoint, moto_s3_server  # noqa: F401


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args, cwd, env, port):
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", *args, "--port", str(port)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc


def _wait_healthy(proc, port, timeout=180.0) -> float:  # a hang guard, not a timing check
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stdout.read()}")
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            if r.status_code == 200 and r.json() == {"status": "ok", "database": "ok", "storage": "ok"}:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"healthz not ok within {timeout:.0f} s")


def _stop(proc) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _clerk_round_trip(base: str, password: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as c:
        tok = c.post("/api/v1/auth/token", data={"username": "vanthu", "password": password})
        assert tok.status_code == 200, tok.text
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        pdf = make_pdf("Cong van den", pages=3)
        meta = {"direction": "incoming", "doc_type": "Công văn", "summary": "Về việc báo cáo số liệu"}
        r = c.post("/api/v1/documents", headers=h, files={"file": ("cv.pdf", pdf, "application/pdf")},
                   data={"metadata": json.dumps(meta, ensure_ascii=False)})
        assert r.status_code == 201, r.text
        got = c.get(f"/api/v1/documents/{r.json()['id']}/content", headers=h)
        assert got.status_code == 200 and got.content == pdf


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOFFICE_")}
    env.update(extra)
    return env


@pytest.mark.slow
def test_readme_run_command_serves_the_demo_on_the_embedded_default(tmp_path):
    port = free_port()
    proc = _start(["demo"], tmp_path, _clean_env(IOFFICE_BASE_URL=f"http://127.0.0.1:{port}"), port)
    try:
        _wait_healthy(proc, port)
        password = (tmp_path / "ioffice-data" / "demo-password.txt").read_text().strip()
        _clerk_round_trip(f"http://127.0.0.1:{port}", password)
    finally:
        out = _stop(proc)
    assert "vanthu" in out and password in out and f"http://127.0.0.1:{port}" in out
    assert (tmp_path / "ioffice-data" / "ioffice.db").exists()
    assert any((tmp_path / "ioffice-data" / "blobs").rglob("*"))


@pytest.mark.slow
def test_postgresql_and_s3_chosen_by_environment_only(tmp_path, moto_s3_endpoint):  # noqa: F811
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable")
    endpoint, access, secret = moto_s3_endpoint
    dbname = f"ioffice_run_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{dbname}"')
    port = free_port()
    env = _clean_env(
        IOFFICE_DATA_DIR=str(tmp_path / "data"),
        IOFFICE_DATABASE_URL=_pg_url(dbname),
        IOFFICE_STORAGE_URL=f"s3://ioffice-{uuid.uuid4().hex[:8]}",
        IOFFICE_S3_ENDPOINT=endpoint, IOFFICE_S3_ACCESS_KEY=access, IOFFICE_S3_SECRET_KEY=secret,
        IOFFICE_S3_SECURE="false", IOFFICE_DEMO_PASSWORD="operator-pass-1",
        IOFFICE_BASE_URL=f"http://127.0.0.1:{port}",
    )
    try:
        init = subprocess.run([sys.executable, "-m", "api.cli", "init", "--demo"], env=env, capture_output=True,
                              text=True, timeout=180)
        assert init.returncode == 0, init.stderr
        again = subprocess.run([sys.executable, "-m", "api.cli", "init", "--demo"], env=env, capture_output=True,
                               text=True, timeout=180)
        assert again.returncode == 0, again.stderr  # idempotent
        proc = _start(["serve"], tmp_path, env, port)
        try:
            _wait_healthy(proc, port)
            _clerk_round_trip(f"http://127.0.0.1:{port}", "operator-pass-1")
        finally:
            _stop(proc)
        assert not (tmp_path / "data" / "ioffice.db").exists()
        assert not (tmp_path / "data" / "blobs").exists()
    finally:
        _pg_exec(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_storage_down_is_named_by_healthz_and_uploads_fail_without_rows(env):
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from api.app import create_app
    from ioffice.documents.models import Document
    from ioffice.kernel.db import make_engine

    settings = env.settings(storage_url="s3://ioffice-down", s3_endpoint=f"127.0.0.1:{closed_port()}",
                            s3_access_key="x", s3_secret_key="y", s3_secure=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        r = c.get("/healthz")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "database": "ok", "storage": "unavailable"}
        tok = c.post("/api/v1/auth/token", data={"username": "vanthu", "password": "demo-password-123"})
        h = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        r = c.post("/api/v1/documents", headers=h, files={"file": ("a.pdf", make_pdf(), "application/pdf")},
                   data={"metadata": json.dumps({"direction": "incoming", "doc_type": "CV", "summary": "x"})})
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert re.search("lưu trữ", r.json()["detail"])
    engine = make_engine(env.database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Document)) == 0
    engine.dispose()


def test_database_down_is_named_by_healthz(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    settings = Settings(data_dir=tmp_path, database_url=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/x")
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        r = c.get("/healthz")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "database": "unavailable", "storage": "ok"}
        r = c.post("/api/v1/auth/token", data={"username": "vanthu", "password": "x" * 10})
        assert r.status_code == 503 and r.headers["content-type"].startswith("application/problem+json")
