"""Reads and uploads while documents are being signed, on the embedded default (SQLite).

Runs ``ioffice serve`` in its own process on a fresh SQLite data dir with the demo agency, makes a
set of approved drafts, then measures, side by side in the same run:

- **idle**: the latency of ``GET /api/v1/documents?limit=50`` and of a small upload
  (``POST /api/v1/documents``) on a service doing nothing else;
- **busy**: the same requests while ``--signers`` client threads keep the leader signing approved
  drafts (``POST /api/v1/documents/{id}/sign``, the agency's PAdES level with the development TSA
  and OCSP).

Prints the median and p90 of each and the ratio busy/idle of the medians (target ≤ 2).

It also counts the SQL statements of one ``GET /api/v1/documents`` page in-process (SQLAlchemy
``before_cursor_execute``) for pages of 10 and of 50 rows: the count must not grow with the rows.

    python benchmarks/bench_concurrency.py [--samples 20] [--signers 1] [--drafts 40]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import urllib3
from urllib3.filepost import encode_multipart_formdata

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_upload import ApiServer  # noqa: E402

DEMO_PASSWORD = "bench-password-2026"
ROUTE = [
    {"name": "Trưởng phòng xem xét", "roles": ["unit_head"], "same_unit": True},
    {"name": "Chủ tịch phê duyệt", "roles": ["leader"]},
]


def small_pdf(text: str) -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


class Client:
    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=10, read=300), maxsize=4, retries=False)
        r = self.http.request("POST", base + "/api/v1/auth/token", encode_multipart=False,
                              fields={"username": username, "password": DEMO_PASSWORD})
        if r.status != 200:
            raise RuntimeError(f"login {username} failed: {r.status}")
        self.headers = {"Authorization": "Bearer " + json.loads(r.data)["access_token"]}

    def call(self, method: str, path: str, *, expect: int, json_body=None, body=None, content_type=None):
        headers = dict(self.headers)
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            content_type = "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        r = self.http.request(method, self.base + path, body=body, headers=headers)
        if r.status != expect:
            raise RuntimeError(f"{method} {path}: {r.status} {r.data[:300]!r}")
        return json.loads(r.data) if r.data else None

    def upload(self, direction: str, summary: str) -> dict:
        meta = {"direction": direction, "doc_type": "Công văn" if direction == "incoming" else "Quyết định",
                "summary": summary}
        body, ctype = encode_multipart_formdata({
            "file": ("bench.pdf", small_pdf(summary.encode("ascii", "replace").decode()), "application/pdf"),
            "metadata": json.dumps(meta, ensure_ascii=False)})
        return self.call("POST", "/api/v1/documents", expect=201, body=body, content_type=ctype)


def approved_drafts(base: str, n: int) -> list[str]:
    spec, head, leader = Client(base, "chuyenvien"), Client(base, "truongphong"), Client(base, "chutich")
    ids = []
    for i in range(n):
        doc = spec.upload("outgoing", f"Du thao so {i}")
        spec.call("POST", f"/api/v1/documents/{doc['id']}/submit", expect=201, json_body={"stages": ROUTE})
        for who in (head, leader):
            who.call("POST", f"/api/v1/documents/{doc['id']}/review", expect=200,
                     json_body={"decision": "approve", "comment": "Đồng ý"})
        ids.append(doc["id"])
    return ids


def sample(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def summarise(label: str, idle: list[float], busy: list[float]) -> float:
    def p90(xs):
        return sorted(xs)[max(0, int(len(xs) * 0.9) - 1)]

    ratio = statistics.median(busy) / statistics.median(idle)
    print(f"  {label:<34} idle median {statistics.median(idle) * 1000:7.1f} ms  p90 {p90(idle) * 1000:7.1f} ms"
          f" | signing median {statistics.median(busy) * 1000:7.1f} ms  p90 {p90(busy) * 1000:7.1f} ms"
          f" | ratio {ratio:5.2f} {'OK' if ratio <= 2 else 'ABOVE TARGET 2'}", flush=True)
    return ratio


def latency_under_signing(work: Path, samples: int, signers: int, drafts: int) -> list[float]:
    from api.bootstrap import init
    from api.settings import Settings

    env = {"data_dir": work / "latency", "demo_password": DEMO_PASSWORD}
    init(Settings(**env), demo=True)
    settings_env = {f"IOFFICE_{k.upper()}": str(v) for k, v in env.items()}
    with ApiServer(settings_env) as base:
        print("  preparing approved drafts…", flush=True)
        todo = approved_drafts(base, drafts)
        clerk = Client(base, "vanthu")
        for i in range(55):  # a full page to list
            clerk.upload("incoming", f"Cong van den {i}")

        def list_page():
            clerk.call("GET", "/api/v1/documents?limit=50", expect=200)

        def upload():
            clerk.upload("incoming", "Cong van do tre")

        list_page(), upload()  # warm-up
        idle_list, idle_upload = sample(list_page, samples), sample(upload, samples)

        stop = threading.Event()
        signed: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def sign_loop():
            leader = Client(base, "chutich")
            while not stop.is_set():
                with lock:
                    if not todo:
                        return
                    doc_id = todo.pop()
                t = time.perf_counter()
                try:
                    leader.call("POST", f"/api/v1/documents/{doc_id}/sign", expect=201, json_body={})
                    signed.append(time.perf_counter() - t)
                except RuntimeError as exc:  # pragma: no cover - reported below
                    errors.append(str(exc))

        threads = [threading.Thread(target=sign_loop, daemon=True) for _ in range(signers)]
        for t in threads:
            t.start()
        time.sleep(0.5)  # let the first signature start
        busy_list, busy_upload = sample(list_page, samples), sample(upload, samples)
        stop.set()
        for t in threads:
            t.join()
        if errors:
            raise RuntimeError(f"signing failed: {errors[0]}")
        if len(todo) == 0:
            print("  warning: ran out of drafts before the busy samples ended; raise --drafts", flush=True)
        print(f"  {len(signed)} signatures during the busy phase, median {statistics.median(signed):.2f} s each",
              flush=True)
        return [summarise("GET /api/v1/documents?limit=50", idle_list, busy_list),
                summarise("POST /api/v1/documents (small PDF)", idle_upload, busy_upload)]


def query_counts(work: Path) -> dict[int, int]:
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from api.app import create_app
    from api.bootstrap import init
    from api.settings import Settings

    settings = Settings(data_dir=work / "queries", demo_password=DEMO_PASSWORD)
    init(settings, demo=True)
    app = create_app(settings)
    counts: dict[int, int] = {}
    with TestClient(app) as client:
        r = client.post("/api/v1/auth/token", data={"username": "vanthu", "password": DEMO_PASSWORD})
        headers = {"Authorization": "Bearer " + r.json()["access_token"]}
        for i in range(55):
            meta = {"direction": "incoming", "doc_type": "Công văn", "summary": f"Văn bản {i}"}
            r = client.post("/api/v1/documents", headers=headers,
                            files={"file": ("a.pdf", small_pdf(f"doc {i}"), "application/pdf")},
                            data={"metadata": json.dumps(meta, ensure_ascii=False)})
            assert r.status_code == 201, r.text
        engine = app.state.container.engine
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        for rows in (10, 50):
            statements.clear()
            r = client.get(f"/api/v1/documents?limit={rows}", headers=headers)
            assert r.status_code == 200 and len(r.json()["items"]) == rows, r.text
            counts[rows] = len(statements)
        event.remove(engine, "before_cursor_execute", count)
    for rows, n in counts.items():
        print(f"  GET /api/v1/documents?limit={rows}: {n} SQL statements", flush=True)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--signers", type=int, default=1, help="client threads signing at once")
    parser.add_argument("--drafts", type=int, default=40)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ioffice-bench-") as tmp:
        print("[query count of one document page]", flush=True)
        counts = query_counts(Path(tmp))
        print("[latency while signing, SQLite]", flush=True)
        ratios = latency_under_signing(Path(tmp), args.samples, args.signers, args.drafts)
    constant = counts[50] == counts[10]
    print(f"\nquery count constant in rows: {'yes' if constant else 'NO'}; "
          f"worst latency ratio busy/idle: {max(ratios):.2f} (target ≤ 2)")
    return 0 if constant and max(ratios) <= 2 else 1


if __name__ == "__main__":
    sys.exit(main())
