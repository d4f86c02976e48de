"""The service under load: ``ioffice serve --workers 2`` on loopback, SQLite and PostgreSQL.

For each backend the benchmark makes a fresh database with the demo agency, starts a real
``ioffice serve --workers N`` process (started here, stopped at the end) and measures, with async
aiohttp clients, three operations at 1, 8 and 32 concurrent clients, each for a fixed time:

- ``list``: ``GET /api/v1/documents?limit=50`` (a full page of 50 rows) as the clerk;
- ``upload``: ``POST /api/v1/documents`` (a small incoming PDF) as the clerk;
- ``verify``: ``POST /api/v1/verify`` (public, no account) of a PDF signed at the agency's level.

Targets (issue 13): throughput at 32 clients ≥ 1.6 × that at 1 client; on PostgreSQL the list's p99
at 32 clients < 250 ms; no error; server memory flat over 10,000 requests (the RSS of every server
process is reported before and after a mixed run of ``--rss-requests`` requests).

    python benchmarks/bench_load.py [--quick] [--backends sqlite,postgresql] [--seconds 10]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_concurrency import approved_drafts, small_pdf  # noqa: E402
from bench_upload import ApiServer  # noqa: E402

DEMO_PASSWORD = "bench-password-2026"
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
OPS = ("list", "upload", "verify")


# -- server ----------------------------------------------------------------------------------
class Server(ApiServer):
    """``ioffice serve --workers N`` with the public rate limit lifted (one client address here)."""

    def __init__(self, env: dict[str, str], workers: int) -> None:
        super().__init__({**env, "IOFFICE_PUBLIC_RATE_LIMIT_PER_MINUTE": "100000000"})
        self.workers = workers

    def __enter__(self) -> str:
        import subprocess

        self.proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(self.port),
                                      "--workers", str(self.workers)], env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ioffice serve exited")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200 and len(self.pids()) > self.workers:
                    return base
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("ioffice serve did not become healthy")

    def pids(self) -> list[int]:
        """The server process and its descendants (uvicorn's workers, validation children)."""
        assert self.proc is not None
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    todo += [int(c) for c in (task / "children").read_text().split()]
                except OSError:
                    pass
        return out

    def rss_mb(self) -> dict[int, float]:
        """Resident memory (MB) of the server process and its uvicorn workers."""
        rss = {}
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss[pid] = int(line.split()[1]) / 1024
            except OSError:
                pass
        return rss


# -- set-up ----------------------------------------------------------------------------------
def prepare(base: str, documents: int) -> tuple[str, bytes]:
    """A full page of incoming documents for the clerk; returns (clerk token, a signed PDF)."""
    from bench_concurrency import Client

    clerk = Client(base, "vanthu")
    for i in range(documents):
        clerk.upload("incoming", f"Cong van den {i}")
    doc_id = approved_drafts(base, 1)[0]
    Client(base, "chutich").call("POST", f"/api/v1/documents/{doc_id}/sign", expect=201, json_body={})
    r = httpx.get(f"{base}/api/v1/documents/{doc_id}/content", headers=clerk.headers, timeout=60)
    r.raise_for_status()
    return clerk.headers["Authorization"], r.content


class Load:
    """The load generator: aiohttp clients in this process (on the same two cores as the server:
    httpx's async pool spent 3–8 ms of CPU a request at 32 clients, aiohttp under 1 ms)."""

    def __init__(self, base: str, token: str, signed_pdf: bytes) -> None:
        self.base, self.token, self.signed = base, token, signed_pdf
        self.upload_pdf = small_pdf("Cong van do tai")
        self.errors: list[str] = []

    async def one(self, http: aiohttp.ClientSession, op: str, n: int) -> None:
        auth = {"Authorization": self.token}
        if op == "list":
            async with http.get("/api/v1/documents?limit=50", headers=auth) as r:
                body = await r.read()
                ok = r.status == 200 and len(json.loads(body)["items"]) == 50
        elif op == "upload":
            meta = {"direction": "incoming", "doc_type": "Công văn", "summary": f"Văn bản tải {n}"}
            form = aiohttp.FormData()
            form.add_field("file", self.upload_pdf, filename="a.pdf", content_type="application/pdf")
            form.add_field("metadata", json.dumps(meta, ensure_ascii=False))
            async with http.post("/api/v1/documents", headers=auth, data=form) as r:
                body = await r.read()
                ok = r.status == 201
        else:
            form = aiohttp.FormData()
            form.add_field("file", self.signed, filename="signed.pdf", content_type="application/pdf")
            async with http.post("/api/v1/verify", data=form) as r:
                body = await r.read()
                ok = r.status == 200 and json.loads(body)["verdict"] == "valid"
        if not ok:
            self.errors.append(f"{op}: {r.status} {body[:200]!r}")

    def session(self, clients: int) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(self.base, connector=aiohttp.TCPConnector(limit=clients),
                                     timeout=aiohttp.ClientTimeout(total=120))

    async def run_for(self, op: str, clients: int, seconds: float) -> tuple[float, list[float]]:
        """``clients`` concurrent loops for ``seconds``; returns (requests/s, latencies)."""
        latencies: list[float] = []
        async with self.session(clients) as http:
            await self.one(http, op, -1)  # warm-up (connections, caches)
            start = time.perf_counter()
            stop = start + seconds

            async def loop(i: int) -> None:
                n = 0
                while time.perf_counter() < stop:
                    t = time.perf_counter()
                    await self.one(http, op, i * 100000 + n)
                    latencies.append(time.perf_counter() - t)
                    n += 1

            await asyncio.gather(*(loop(i) for i in range(clients)))
            elapsed = time.perf_counter() - start
        return len(latencies) / elapsed, latencies

    async def mixed(self, total: int, clients: int) -> None:
        """``total`` requests: 8 lists, 1 upload, 1 verify in every 10."""
        pattern = ["list"] * 8 + ["upload", "verify"]
        counter = iter(range(total))
        async with self.session(clients) as http:
            async def loop() -> None:
                for n in counter:
                    await self.one(http, pattern[n % len(pattern)], n)

            await asyncio.gather(*(loop() for _ in range(clients)))


def p99(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def bench_backend(backend: str, work: Path, args) -> dict:
    from api.bootstrap import init
    from api.settings import Settings

    env = {"IOFFICE_DATA_DIR": str(work / backend), "IOFFICE_DEMO_PASSWORD": DEMO_PASSWORD}
    if args.concurrency is not None:
        env["IOFFICE_WORKER_CONCURRENCY"] = str(args.concurrency)
    dbname = None
    if backend == "postgresql":
        import psycopg

        dbname = f"ioffice_load_{uuid.uuid4().hex[:10]}"
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["IOFFICE_DATABASE_URL"] = PG + dbname
    try:
        init(Settings(data_dir=work / backend, demo_password=DEMO_PASSWORD,
                      database_url=env.get("IOFFICE_DATABASE_URL")), demo=True)
        result: dict = {"backend": backend, "ops": {}}
        server = Server(env, args.workers)
        with server as base:
            token, signed = prepare(base, 55)
            load = Load(base, token, signed)
            for op in args.ops:
                rows = {}
                for clients in args.clients:
                    rps, lat = asyncio.run(load.run_for(op, clients, args.seconds))
                    rows[clients] = {"rps": rps, "median_ms": statistics.median(lat) * 1000,
                                     "p99_ms": p99(lat) * 1000, "n": len(lat)}
                    print(f"  {backend:<10} {op:<6} {clients:>2} clients: {rps:7.1f} req/s  median "
                          f"{rows[clients]['median_ms']:7.1f} ms  p99 {rows[clients]['p99_ms']:7.1f} ms  "
                          f"({len(lat)} requests)", flush=True)
                result["ops"][op] = rows
            before = server.rss_mb()
            print(f"  {backend:<10} RSS before {args.rss_requests} mixed requests: {fmt_rss(before)}", flush=True)
            asyncio.run(load.mixed(args.rss_requests, 8))
            after = server.rss_mb()
            print(f"  {backend:<10} RSS after: {fmt_rss(after)}", flush=True)
            result["rss_before"], result["rss_after"] = before, after
            result["errors"] = load.errors
    finally:
        if dbname:
            import psycopg

            with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    return result


def fmt_rss(rss: dict[int, float]) -> str:
    return ", ".join(f"{mb:.0f} MB" for _, mb in sorted(rss.items())) + f" (total {sum(rss.values()):.0f} MB)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=15.0, help="duration of each measurement")
    parser.add_argument("--rss-requests", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="IOFFICE_WORKER_CONCURRENCY for the server (default: the setting's default; 0: no limit)")
    parser.add_argument("--ops", default=",".join(OPS), help="operations to measure (list,upload,verify)")
    parser.add_argument("--quick", action="store_true", help="5 s per measurement, 2,000 requests for memory")
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",")]
    args.ops = [o for o in args.ops.split(",") if o in OPS]
    if args.quick:
        args.seconds, args.rss_requests = 5.0, 2000
    gate = "" if args.concurrency is None else f" (worker concurrency {args.concurrency})"
    print(f"[load: ioffice serve --workers {args.workers}{gate}, {os.cpu_count()} CPUs, {args.seconds:g} s per point; "
          f"machine load average before: {os.getloadavg()[0]:.1f}]", flush=True)
    failed = []
    with tempfile.TemporaryDirectory(prefix="ioffice-load-") as tmp:
        for backend in args.backends.split(","):
            r = bench_backend(backend, Path(tmp), args)
            lo, hi = min(args.clients), max(args.clients)
            for op, rows in r["ops"].items():
                ratio = rows[hi]["rps"] / rows[lo]["rps"]
                ok = ratio >= 1.6
                print(f"  {backend:<10} {op:<6} throughput {hi} vs {lo} clients: {ratio:4.2f}× "
                      f"{'OK' if ok else 'BELOW TARGET 1.6×'}", flush=True)
                if not ok:
                    failed.append(f"{backend} {op} ratio")
            if backend == "postgresql" and "list" in r["ops"]:
                p = r["ops"]["list"][hi]["p99_ms"]
                print(f"  postgresql list p99 at {hi} clients: {p:.0f} ms {'OK' if p < 250 else 'ABOVE 250 ms'}",
                      flush=True)
                if p >= 250:
                    failed.append("postgresql list p99")
            if r["errors"]:
                print(f"  {backend}: {len(r['errors'])} errors, first: {r['errors'][0]}", flush=True)
                failed.append(f"{backend} errors")
    print(f"machine load average after: {os.getloadavg()[0]:.1f} (figures above ~{os.cpu_count()} mean other "
          "programs shared the cores: ratios then say little)", flush=True)
    print("targets met" if not failed else "targets missed: " + ", ".join(failed), flush=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
