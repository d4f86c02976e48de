"""The job worker as it runs in production (real processes): on the embedded default `ioffice
serve` signs a server-key batch with the worker in its own process; on PostgreSQL the service
only queues and a separate `ioffice worker` does the work."""
from __future__ import annotations

import subprocess
import sys
import uuid

import httpx
import pytest

from api.bootstrap import init
from api.settings import Settings
from tests.conftest import DEMO_PASSWORD, _pg_exec, _pg_url, make_pdf, pg_available
from tests.deploy.test_run import _clean_env, _start, _stop, _wait_healthy, free_port
from tests.signing_api.conftest import approved_draft_factory
from tests.support.waiting import wait_for


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_server_key_batch_is_signed_by_the_background_worker(backend_name, tmp_path):
    env = _clean_env(IOFFICE_DATA_DIR=str(tmp_path / "data"), IOFFICE_DEMO_PASSWORD=DEMO_PASSWORD)
    dbname = None
    if backend_name == "postgresql":
        if not pg_available():
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        dbname = f"ioffice_worker_{uuid.uuid4().hex[:10]}"
        _pg_exec(f'CREATE DATABASE "{dbname}"')
        env["IOFFICE_DATABASE_URL"] = _pg_url(dbname)
    port = free_port()
    env["IOFFICE_BASE_URL"] = f"http://127.0.0.1:{port}"
    init(Settings(data_dir=tmp_path / "data", database_url=env.get("IOFFICE_DATABASE_URL"),
                  demo_password=DEMO_PASSWORD, base_url=env["IOFFICE_BASE_URL"]), demo=True)
    server = _start(["serve", "--workers", "2"], tmp_path, env, port)
    worker = None
    try:
        _wait_healthy(server, port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as c:
            tokens: dict[str, dict] = {}

            def as_user(name: str) -> dict:
                if name not in tokens:
                    r = c.post("/api/v1/auth/token", data={"username": name, "password": DEMO_PASSWORD})
                    assert r.status_code == 200, r.text
                    tokens[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}
                return tokens[name]

            make = approved_draft_factory(c, as_user)
            docs = [make(make_pdf(f"Du thao {i}"), summary=f"Văn bản số {i}")["id"] for i in range(3)]
            r = c.post("/api/v1/signing-batches", headers=as_user("chutich"),
                       json={"document_ids": docs, "kind": "personal"})
            assert r.status_code == 202, r.text
            batch_id = r.json()["id"]

            def batch():
                return c.get(f"/api/v1/signing-batches/{batch_id}", headers=as_user("chutich")).json()

            if backend_name == "postgresql":
                # PostgreSQL: the service runs no worker of its own; the job waits in the queue...
                assert "ioffice_jobs_queued 1.0" in c.get("/metrics").text
                assert batch()["status"] == "running"
                check = subprocess.run([sys.executable, "-m", "api.cli", "worker", "--check"], cwd=tmp_path, env=env,
                                       capture_output=True, text=True, timeout=120)  # the compose health check
                assert check.returncode == 0 and "queued 1" in check.stdout, check.stderr
                # ...until `ioffice worker` takes it.
                worker = subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], cwd=tmp_path, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            done = wait_for(lambda: (b := batch())["status"] == "done" and b, "the batch to finish")
            assert [x["status"] for x in done["results"]] == ["signed"] * 3
            for d in docs:
                assert c.get(f"/api/v1/documents/{d}", headers=as_user("chutich")).json()["status"] == "signed"
            assert "ioffice_jobs_queued 0.0" in c.get("/metrics").text
    finally:
        if worker is not None:
            _stop(worker)
        _stop(server)
        if dbname:
            _pg_exec(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
