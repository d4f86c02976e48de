"""``ioffice serve --workers 2`` spreads connections evenly over its workers (the parent hands them
out in turn), and keeps serving when a worker dies."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.deploy.test_run import _clean_env, _start, _stop, _wait_healthy, free_port
from tests.support.waiting import wait_for

PASSWORD = "balancer-pass-1"


def _established_inodes(port: int) -> set[str]:
    """Socket inodes of the server side of established TCP connections on ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "01":
                inodes.add(cols[9])
    return inodes


def _connections_per_worker(workers: list[int], port: int) -> dict[int, int]:
    inodes = _established_inodes(port)
    counts = {}
    for pid in workers:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                held += 1
        counts[pid] = held
    return counts


def _workers(parent: int) -> list[int]:
    """uvicorn's worker processes: the parent's children started by multiprocessing's spawn
    (not its resource tracker)."""
    out = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"multiprocessing-fork" in cmd and b"resource_tracker" not in cmd:
                out.append(int(child))
    return sorted(out)


def _two_workers(parent: int, without: int | None = None) -> list[int] | None:
    found = _workers(parent)
    return found if len(found) == 2 and without not in found else None


def _connections_of(pid: int, workers: list[int], port: int) -> bool:
    """Open one keep-alive connection: is it served by ``pid``?"""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
        assert c.get("/healthz").status_code == 200
        return _connections_per_worker(workers, port)[pid] == 1


@pytest.mark.slow
def test_connections_are_spread_evenly_and_a_dead_worker_is_replaced(tmp_path):
    env = _clean_env(IOFFICE_DATA_DIR=str(tmp_path / "data"), IOFFICE_DEMO_PASSWORD=PASSWORD)
    init = subprocess.run([sys.executable, "-m", "api.cli", "init", "--demo"], env=env, capture_output=True,
                          text=True, timeout=180)
    assert init.returncode == 0, init.stderr
    port = free_port()
    proc = _start(["serve", "--workers", "2"], tmp_path, dict(env, IOFFICE_BASE_URL=f"http://127.0.0.1:{port}"),
                  port)
    clients: list[httpx.Client] = []
    try:
        _wait_healthy(proc, port, timeout=240.0)
        workers = wait_for(lambda: _two_workers(proc.pid), "two workers")
        for pid in workers:  # each has started and taken a connection from the parent
            wait_for(lambda pid=pid: _connections_of(pid, workers, port), f"a connection served by worker {pid}")
        # Eight keep-alive clients connecting one after the other: four connections each. (uvicorn's
        # shared socket let the first worker to wake take them all.)
        for _ in range(8):
            c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            assert c.get("/healthz").status_code == 200
            clients.append(c)
        assert _connections_per_worker(workers, port) == {workers[0]: 4, workers[1]: 4}

        # A worker dies: every new connection is served by the other until its replacement is up.
        os.kill(workers[0], signal.SIGKILL)
        wait_for(lambda: not Path(f"/proc/{workers[0]}").exists()
              or "zombie" in Path(f"/proc/{workers[0]}/status").read_text(), "the worker's end")
        for _ in range(6):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as c:
                r = c.post("/api/v1/auth/token", data={"username": "vanthu", "password": PASSWORD})
                assert r.status_code == 200, r.text
        replaced = wait_for(lambda: _two_workers(proc.pid, without=workers[0]), "a replacement worker")
        for c in clients:
            c.close()
        clients = []

        new = next(pid for pid in replaced if pid not in workers)
        wait_for(lambda: _connections_of(new, replaced, port), "a connection served by the replacement")
        for _ in range(4):
            c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            assert c.get("/healthz").status_code == 200
            clients.append(c)
        # Connections made while the replacement was starting went to the survivor; new ones
        # alternate again.
        assert sorted(_connections_per_worker(replaced, port).values()) == [2, 2]
    finally:
        for c in clients:
            c.close()
        out = _stop(proc)
    assert "Traceback" not in out, out
