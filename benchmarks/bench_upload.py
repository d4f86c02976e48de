"""Upload throughput: the HTTP API vs writing the same bytes straight to the blob store.

For each backend (filesystem, S3 on a loopback moto server) and each size (default 1 MB and
100 MB), uploads generated valid PDFs as the demo clerk ``vanthu`` through
``POST /api/v1/documents`` (urllib3 against ``ioffice serve`` in its own process on 127.0.0.1) and
writes the same kind of bytes directly (``FilesystemBlobStore.put_stream`` / the raw minio SDK
``put_object``). Prints MB/s (1 MB = 10^6 bytes) for each and the ratio API/direct (target ≥ 0.5).

Every upload uses fresh random bytes, so content de-duplication never short-cuts a write.

    python benchmarks/bench_upload.py [--sizes 1 100] [--repeat 3] [--backends filesystem s3]
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import urllib3
from urllib3.filepost import encode_multipart_formdata

MB = 1_000_000
DEMO_PASSWORD = "bench-password-2026"


# -- a valid PDF of a given size ---------------------------------------------------------------
def make_pdf(size: int) -> bytes:
    """A one-page PDF of exactly ``size`` bytes; the bulk is a random (incompressible) stream."""
    page_text = b"BT /F1 18 Tf 72 720 Td (ioffice upload benchmark) Tj ET"

    def build(pad: int) -> bytes:
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(page_text) + page_text + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n" % pad + os.urandom(pad) + b"\nendstream",
        ]
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(len(out))
            out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        for off in offsets:
            out += b"%010d 00000 n \n" % off
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
            len(objects) + 1,
            xref,
        )
        return bytes(out)

    overhead = len(build(0))
    pad = max(0, size - overhead)
    for _ in range(3):  # the /Length and offsets grow by a few digits with the pad
        data = build(pad)
        if len(data) == size:
            return data
        pad += size - len(data)
    return data


# -- servers ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ApiServer:
    """``ioffice serve`` in its own process (as in production), so the benchmark's client and the
    server do not share one interpreter lock."""

    def __init__(self, settings_env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("IOFFICE_")}, **settings_env,
                    "IOFFICE_BASE_URL": f"http://127.0.0.1:{self.port}"}
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> str:
        self.proc = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{self.port}"
        http = urllib3.PoolManager(retries=False)  # polling: no retry noise while it starts
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ioffice serve exited")
            try:
                if http.request("GET", base + "/healthz", timeout=2).status == 200:
                    return base
            except urllib3.exceptions.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("ioffice serve did not become healthy")

    def __exit__(self, *exc) -> None:
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_moto() -> str:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"{host}:{port}"


# -- measurements ----------------------------------------------------------------------------
def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def api_uploader(base_url: str):
    """Log in as the demo clerk; returns (prepare(data) → request body, send(body)).

    The client is urllib3 with the multipart body encoded before the clock starts: the benchmark
    measures the service, not the client's encoder (httpx alone caps near 100 MB/s here).
    """
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=10, read=600))
    resp = http.request("POST", base_url + "/api/v1/auth/token", encode_multipart=False,
                        fields={"username": "vanthu", "password": DEMO_PASSWORD})
    if resp.status != 200:
        raise RuntimeError(f"login failed: {resp.status}")
    token = json.loads(resp.data)["access_token"]
    metadata = json.dumps({"direction": "incoming", "doc_type": "Công văn", "summary": "Đo tốc độ tải lên văn bản"},
                          ensure_ascii=False)

    def prepare(data: bytes):
        return encode_multipart_formdata({"file": ("bench.pdf", data, "application/pdf"), "metadata": metadata})

    def send(payload) -> None:
        body, content_type = payload
        r = http.request("POST", base_url + "/api/v1/documents", body=body,
                         headers={"Content-Type": content_type, "Authorization": f"Bearer {token}"})
        if r.status != 201:
            raise RuntimeError(f"upload failed: {r.status} {r.data[:300]!r}")

    return prepare, send


def measure(label: str, prepare: Callable[[bytes], object], send: Callable[[object], None], size: int,
            repeat: int) -> float:
    """Median MB/s over ``repeat`` uploads of fresh PDFs of ``size`` bytes (one warm-up first)."""
    send(prepare(make_pdf(size)))  # warm-up (imports, first file, connection)
    rates = []
    for _ in range(repeat):
        payload = prepare(make_pdf(size))
        rates.append(size / MB / timed(lambda: send(payload)))
    rate = statistics.median(rates)
    print(f"  {label:<38} {size / MB:>6.0f} MB  {rate:8.1f} MB/s  "
          f"(runs: {', '.join(f'{r:.1f}' for r in rates)})", flush=True)
    return rate


def bench_backend(backend: str, sizes: list[int], repeat: int, work: Path) -> list[tuple]:
    from api.bootstrap import init
    from api.settings import Settings
    from storage import FilesystemBlobStore
    from storage.s3 import make_minio_client

    data_dir = work / backend
    env: dict = {"data_dir": data_dir, "demo_password": DEMO_PASSWORD,
                 "max_upload_mb": max(sizes) // MB + 10}
    if backend == "filesystem":
        direct_store = FilesystemBlobStore(work / "direct-blobs")

        def direct(data: bytes) -> None:
            direct_store.put_stream(io.BytesIO(data))

        direct_label = "direct FilesystemBlobStore.put_stream"
    else:
        endpoint = start_moto()
        env.update(storage_url="s3://bench-api", s3_endpoint=endpoint, s3_access_key="bench",
                   s3_secret_key="bench-secret", s3_secure=False)
        raw = make_minio_client(endpoint, "bench", "bench-secret", secure=False)
        raw.make_bucket("bench-direct")
        counter = iter(range(10**9))

        def direct(data: bytes) -> None:
            raw.put_object("bench-direct", f"obj-{next(counter)}", io.BytesIO(data), len(data))

        direct_label = "direct minio put_object (moto)"

    settings = Settings(**env)
    init(settings, demo=True)
    settings_env = {f"IOFFICE_{k.upper()}": str(v) for k, v in env.items()}
    results = []
    print(f"\n[{backend}]", flush=True)
    with ApiServer(settings_env) as base_url:
        prepare, send = api_uploader(base_url)
        for size in sizes:
            api_rate = measure("HTTP API POST /api/v1/documents", prepare, send, size, repeat)
            direct_rate = measure(direct_label, lambda d: d, direct, size, repeat)
            ratio = api_rate / direct_rate
            print(f"  ratio API/direct at {size / MB:.0f} MB: {ratio:.2f}"
                  f"  {'OK' if ratio >= 0.5 else 'BELOW TARGET 0.5'}", flush=True)
            results.append((backend, size, api_rate, direct_rate, ratio))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 100], help="MB (10^6 bytes)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["filesystem", "s3"],
                        choices=["filesystem", "s3"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sizes = [int(s * MB) for s in args.sizes]
    results = []
    with tempfile.TemporaryDirectory(prefix="ioffice-bench-") as tmp:
        for backend in args.backends:
            results += bench_backend(backend, sizes, args.repeat, Path(tmp))
    print("\nbackend      size   API MB/s   direct MB/s   ratio")
    for backend, size, api_rate, direct_rate, ratio in results:
        print(f"{backend:<11} {size / MB:>4.0f}MB {api_rate:>10.1f} {direct_rate:>13.1f} {ratio:>7.2f}")
    return 0 if all(r[4] >= 0.5 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
