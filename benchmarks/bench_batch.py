"""Batch signing throughput per channel, side by side in one run: documents per second for
``POST /api/v1/signing-batches`` until every document is signed.

- server key: the leader's key held by the server (development PKI), one click;
- token: the USB token (SoftHSM2) through the VGCA stand-in plugin on loopback (the plugin is a
  test stand-in, not the real VGCA Sign Service), one plugin session for the batch;
- CSC: certomancer-csc-dummy on loopback, one authorisation (SAD for N hashes) and one signHash.

Each channel is measured at B-B (the channel's own overhead) and at B-LT (the agency's level:
signature timestamp + revocation data; server/token use the development TSA/CRL in-process,
CSC certomancer's TSA/OCSP over loopback HTTP). The app runs in-process (FastAPI TestClient,
SQLite); drafts are created and approved before the clock starts.

    python benchmarks/bench_batch.py [--docs N] [--repeat R]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PASSWORD = "bench-password-123"


def login(client, user: str) -> dict:
    r = client.post("/api/v1/auth/token", data={"username": user, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def make_drafts(client, n: int) -> list[str]:
    from tests.conftest import make_pdf
    from tests.signing_api.conftest import approved_draft_factory

    cache: dict = {}
    make = approved_draft_factory(client, lambda u: cache.setdefault(u, login(client, u)))
    return [make(make_pdf(f"Bench {i}"), summary=f"Văn bản đo {i}")["id"] for i in range(n)]


def set_method(client, body: dict, cert_pem: str | None = None) -> None:
    admin = login(client, "admin")
    uid = next(u["id"] for u in client.get("/api/v1/users", headers=admin).json() if u["username"] == "chutich")
    client.put(f"/api/v1/users/{uid}/signing-method", headers=admin, json=body).raise_for_status()
    if cert_pem:
        client.put(f"/api/v1/users/{uid}/certificate", headers=admin,
                   json={"certificate_pem": cert_pem}).raise_for_status()


def wait_done(client, headers, bid: str) -> dict:
    while True:
        b = client.get(f"/api/v1/signing-batches/{bid}", headers=headers).json()
        if b["status"] == "done":
            return b
        time.sleep(0.02)


async def vgca_sign(port: int, hashes: list[str]) -> list[str]:
    import aiohttp

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = []
    async with aiohttp.ClientSession() as http:
        for h in hashes:  # VGCA: one message per socket
            async with http.ws_connect(f"wss://127.0.0.1:{port}/SignMsg", ssl=ctx) as ws:
                await ws.send_str(json.dumps({"HashAlg": "SHA256", "HashValue": h, "Encode": "RSA"}))
                resp = json.loads((await ws.receive()).data)
                assert resp["Status"] == 0, resp
                out.append(resp["Signature"])
    return out


def run_channel(client, channel: str, n: int, level: str, token=None) -> float:
    ids = make_drafts(client, n)
    leader = login(client, "chutich")
    t0 = time.perf_counter()
    r = client.post("/api/v1/signing-batches", headers=leader,
                    json={"document_ids": ids, "kind": "personal", "level": level})
    r.raise_for_status()
    batch = r.json()
    if channel == "token":
        pending = [x for x in batch["results"] if x["status"] == "pending"]
        sigs = asyncio.run(vgca_sign(token.plugins["vgca"], [x["hash_to_sign"] for x in pending]))
        r = client.post(f"/api/v1/signing-batches/{batch['id']}/signatures", headers=leader,
                        json={"signatures": [{"session_id": x["session_id"], "signature": s}
                                             for x, s in zip(pending, sigs, strict=True)]})
        r.raise_for_status()
        batch = r.json()
    elif batch["status"] != "done":
        batch = wait_done(client, leader, batch["id"])
    elapsed = time.perf_counter() - t0
    signed = sum(1 for x in batch["results"] if x["status"] == "signed")
    assert signed == n, batch
    return n / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.bootstrap import init
    from api.settings import Settings
    from certs.devpki import ensure_dev_pki
    from tests.channels.conftest import start_csc_service, start_usb_token

    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    data = work / "data"
    base = Settings(data_dir=data, database_url=f"sqlite:///{data / 'ioffice.db'}", demo_password=PASSWORD)
    init(base, demo=True)
    pki = ensure_dev_pki(base.pki_dir, passphrase=base.pki_passphrase, agency_name="x", signers=[])
    (work / "usb").mkdir()
    token, procs = start_usb_token(pki, work / "usb")
    (work / "csc").mkdir()
    csc, stop_csc = start_csc_service(work / "csc")
    data2 = work / "data-remote"  # its own database: two apps never share one SQLite file
    remote = Settings(data_dir=data2, database_url=f"sqlite:///{data2 / 'ioffice.db'}", demo_password=PASSWORD)
    init(remote, demo=True)
    remote = remote.model_copy(update={
        "tsa_url": csc.tsa_url, "trust_roots": str(csc.root_pem), "remote_poll_interval_seconds": 0.02,
        "csc_providers": {"direct": {"url": csc.csc_url, "token": None}}})
    rows = []
    try:
        with TestClient(create_app(base)) as local, TestClient(create_app(remote)) as rclient:
            for level in ("B-B", "B-LT"):
                figures = {}
                for channel in ("server", "token", "csc"):
                    runs = []
                    for i in range(args.repeat + 1):  # the first round warms up (imports, fonts, key checks)
                        if channel == "server":
                            set_method(local, {"method": "server"})
                            runs.append(run_channel(local, "server", args.docs if i else 2, level))
                        elif channel == "token":
                            set_method(local, {"method": "token"}, token.cert_pem)
                            runs.append(run_channel(local, "token", args.docs if i else 2, level, token))
                        else:
                            set_method(rclient, {"method": "remote", "csc_provider": "direct",
                                                 "csc_credential_id": "ioffice/signer"})
                            runs.append(run_channel(rclient, "csc", args.docs if i else 2, level))
                    figures[channel] = statistics.median(runs[1:])
                for channel, dps in figures.items():
                    rows.append((level, channel, dps, dps / figures["server"]))
    finally:
        for p in procs:
            p.terminate()
        stop_csc()
    print(f"\nBatch signing, {args.docs} documents per batch, median of {args.repeat} after a warm-up "
          f"(documents/second; load average {__import__('os').getloadavg()[0]:.1f})\n")
    print("| level | channel | docs/s | vs server key |")
    print("|---|---|---|---|")
    for level, channel, dps, ratio in rows:
        print(f"| {level} | {channel} | {dps:.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
