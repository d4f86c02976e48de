"""Two instances (two `ioffice serve` processes on different ports, one of them with two workers)
on one PostgreSQL database and one S3 bucket behave as one service; a busy port gives one line."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.conftest import _pg_exec, _pg_url, make_pdf, pg_available
from tests.deploy.test_run import _clean_env, _start, _stop, _wait_healthy, free_port
from tests.storage.s3server import moto_s3_endpoint, moto_s3_server  # noqa: F401

PASSWORD = "operator-pass-1"


def _login(c: httpx.Client, username: str) -> dict:
    r = c.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.mark.slow
def test_two_instances_on_one_database_and_bucket_behave_as_one(tmp_path, moto_s3_endpoint):  # noqa: F811
    if not pg_available():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    endpoint, access, secret = moto_s3_endpoint
    dbname = f"ioffice_two_{uuid.uuid4().hex[:10]}"
    _pg_exec(f'CREATE DATABASE "{dbname}"')
    env = _clean_env(
        IOFFICE_DATA_DIR=str(tmp_path / "data"), IOFFICE_DATABASE_URL=_pg_url(dbname),
        IOFFICE_STORAGE_URL=f"s3://ioffice-{uuid.uuid4().hex[:8]}", IOFFICE_S3_ENDPOINT=endpoint,
        IOFFICE_S3_ACCESS_KEY=access, IOFFICE_S3_SECRET_KEY=secret, IOFFICE_S3_SECURE="false",
        IOFFICE_DEMO_PASSWORD=PASSWORD, IOFFICE_SECRET_KEY="one-secret-shared-by-every-instance",
    )
    procs = []
    try:
        init = subprocess.run([sys.executable, "-m", "api.cli", "init", "--demo"], env=env, capture_output=True,
                              text=True, timeout=180)
        assert init.returncode == 0, init.stderr
        ports = [free_port(), free_port()]
        for port, workers in zip(ports, ("2", "1"), strict=True):
            procs.append(_start(["serve", "--workers", workers], tmp_path,
                                dict(env, IOFFICE_BASE_URL=f"http://127.0.0.1:{port}"), port))
        for proc, port in zip(procs, ports, strict=True):
            _wait_healthy(proc, port, timeout=240.0)  # worker processes start slowly on a busy machine
        a = httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=60)
        b = httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", timeout=60)
        # A token issued by one instance is honoured by the other (shared secret, sessions in the DB).
        ha = _login(a, "vanthu")
        assert b.get("/api/v1/auth/me", headers=ha).json()["username"] == "vanthu"
        hb = _login(b, "vanthu")

        pdf = make_pdf("Cong van den qua hai may chu", pages=2)
        meta = {"direction": "incoming", "doc_type": "Công văn", "summary": "Về việc chạy hai phiên bản",
                "issuing_body": "Sở Tư pháp", "issued_date": "2026-03-02", "number_symbol": "1/STP"}
        r = a.post("/api/v1/documents", headers=ha, files={"file": ("cv.pdf", pdf, "application/pdf")},
                   data={"metadata": json.dumps(meta, ensure_ascii=False)})
        assert r.status_code == 201, r.text
        doc_id = r.json()["id"]
        listed = b.get("/api/v1/documents", headers=hb, params={"q": "hai phien ban"}).json()
        items = listed["items"] if isinstance(listed, dict) else listed
        assert [d["id"] for d in items] == [doc_id]
        got = b.get(f"/api/v1/documents/{doc_id}/content", headers=hb)
        assert got.status_code == 200 and got.content == pdf

        # Arrival numbers allocated alternately by the two instances (and A's two workers) are gapless.
        ids = [doc_id]
        for i in range(2, 9):
            client, h = (a, ha) if i % 2 else (b, hb)
            m = dict(meta, summary=f"Văn bản {i}", number_symbol=f"{i}/STP")
            r = client.post("/api/v1/documents", headers=h, files={"file": (f"{i}.pdf", make_pdf(f"so {i}"),
                                                                            "application/pdf")},
                            data={"metadata": json.dumps(m, ensure_ascii=False)})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        numbers = []
        for i, did in enumerate(ids):
            client, h = (a, ha) if i % 2 else (b, hb)
            r = client.post(f"/api/v1/documents/{did}/register", headers=h)
            assert r.status_code == 200, r.text
            numbers.append(r.json()["arrival_number"])
        assert numbers == list(range(1, len(ids) + 1))
        # Metrics of both workers of instance A are summed in one /metrics answer.
        text = a.get("/metrics").text
        assert "ioffice_http_requests_total" in text
        a.close()
        b.close()
    finally:
        for proc in procs:
            _stop(proc)
        _pg_exec(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def test_a_busy_port_gives_one_clear_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
                           env=_clean_env(IOFFICE_DATA_DIR=str(tmp_path / "d")), capture_output=True, text=True,
                           timeout=60, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == f"ioffice: cổng {port} trên 127.0.0.1 đang được một chương trình khác sử dụng; " \
                               "chọn cổng khác bằng --port"


def test_a_bad_setting_gives_one_clear_line_naming_it(tmp_path):
    r = subprocess.run([sys.executable, "-m", "api.cli", "serve", "--port", "1"],
                       env=_clean_env(IOFFICE_DATA_DIR=str(tmp_path / "d"), IOFFICE_WORKER_CONCURRENCY="-1"),
                       capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == ("ioffice: cấu hình không hợp lệ — IOFFICE_WORKER_CONCURRENCY='-1': "
                                "Input should be greater than or equal to 0")
    assert not (tmp_path / "d").exists()  # nothing was created
