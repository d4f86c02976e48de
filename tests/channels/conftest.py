"""Fixtures for the signing channels: a SoftHSM2 USB token of the leader (certificate from the
installation's development CA), the stand-in plugins on loopback (separate processes, FOR TESTS
ONLY), headless Chromium, and a real CSC service (certomancer-csc-dummy) with certomancer's
TSA/OCSP/CRL, behind a stand-in of the provider's "confirm on your phone" step."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.conftest import DEMO_PASSWORD
from tests.support.pki import issue_from_dev_pki as issue_for

HERE = Path(__file__).parent
REPO = HERE.parents[1]
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
LEADER = "Phạm Văn Đức"  # the demo leader `chutich`
PIN = "5678"


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------- the USB token
@dataclass
class UsbToken:
    env: dict
    cert: x509.Certificate
    dir: Path
    plugins: dict = field(default_factory=dict)  # kind -> port

    @property
    def cert_pem(self) -> str:
        return pem(self.cert)

    def signed_count(self, kind: str) -> int:
        log = self.dir / f"signed-{kind}.log"
        return len(log.read_text().splitlines()) if log.exists() else 0


def _tls(dir_: Path) -> None:
    key = rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    (dir_ / "tls.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (dir_ / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))


@pytest.fixture(scope="session")
def usb_token(demo_templates, tmp_path_factory):
    """The leader's SoftHSM2 token (key 'signer', certificate naming Phạm Văn Đức from the
    installation's development CA) and the three stand-in plugins serving it on loopback."""
    from api.settings import Settings
    from certs.devpki import ensure_dev_pki

    data, url = demo_templates("sqlite")
    settings = Settings(data_dir=data, database_url=url, demo_password=DEMO_PASSWORD)
    pki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="x", signers=[])
    token, procs = start_usb_token(pki, tmp_path_factory.mktemp("usb"))
    yield token
    for p in procs:
        p.terminate()
        p.wait(10)


def start_usb_token(pki, base: Path) -> tuple[UsbToken, list]:
    """A SoftHSM2 token in ``base`` with the leader's key and certificate, and the three stand-in
    plugin processes serving it (used by the tests and by benchmarks/bench_batch.py)."""
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = dict(os.environ, SOFTHSM2_CONF=str(conf))
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "usb", "--so-pin", "1234", "--pin", PIN],
                   env=env, check=True, capture_output=True)

    def setup(*a):
        return subprocess.run([sys.executable, "-m", "tests.external.token_setup", *a], env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=120, check=True).stdout

    keys = json.loads(setup("generate", "usb", PIN))
    cert = issue_for(pki, serialization.load_pem_public_key(keys["signer"].encode()), LEADER)
    (base / "certs.json").write_text(json.dumps([["signer", "01", pem(cert)]]))
    setup("store", "usb", PIN, str(base / "certs.json"))
    _tls(base)
    token = UsbToken(env=env, cert=cert, dir=base)
    procs = []
    for kind in ("vgca", "vnpt", "viettel"):
        proc = subprocess.Popen([sys.executable, "-m", "tests.channels.standin_plugin", kind, "0", str(base), "usb",
                                 PIN, "signer"], env=env, cwd=REPO, stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        assert line.startswith("READY"), line
        token.plugins[kind] = int(line.split()[1])
        procs.append(proc)
    return token, procs


# ---------------------------------------------------------------------------- live server
@pytest.fixture
def live_server(app):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")  # not session: Playwright's sync loop must not outlive the browser tests
def browser():
    """Headless Debian Chromium driven by Playwright (never downloads a browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                              args=["--no-sandbox", "--ignore-certificate-errors",
                                    "--disable-background-networking"])
        yield b
        b.close()


# ------------------------------------------------------------------------------- remote/CSC
class _LateApp:
    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class Phone:
    """The provider's confirmation step, standing in front of the real CSC service: while
    ``mode`` is "hold", credentials/authorize answers 202 {transactionID} (the official has not
    confirmed yet); "confirm" forwards to the CSC service; "refuse" answers 403 access_denied."""

    mode: str = "confirm"
    authorize_calls: int = 0
    pending_polls: int = 0
    sign_hash_calls: int = 0
    num_signatures: list = field(default_factory=list)
    polled: threading.Event = field(default_factory=threading.Event)


@dataclass
class CscService:
    arch: object
    csc_url: str  # the CSC dummy itself (confirms at once)
    phone_url: str  # behind the phone stand-in
    phone: Phone
    root_pem: Path
    tsa_url: str

    def cert(self, label: str):
        return self.arch.get_cert(label)


def _serve_aiohttp(apps: list) -> tuple[list[int], asyncio.AbstractEventLoop]:
    from aiohttp import web

    loop = asyncio.new_event_loop()
    ports: list[int] = []
    ready = threading.Event()

    async def start():
        for a in apps:
            runner = web.AppRunner(a)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            ports.append(site._server.sockets[0].getsockname()[1])
        ready.set()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    assert ready.wait(20)
    return ports, loop


@pytest.fixture(scope="session")
def csc_service(tmp_path_factory) -> CscService:
    service, shutdown = start_csc_service(tmp_path_factory.mktemp("csc-pki"))
    yield service
    shutdown()


def start_csc_service(work: Path) -> tuple[CscService, object]:
    """certomancer (TSA/OCSP/CRL) + certomancer-csc-dummy + the phone stand-in, on loopback."""
    import aiohttp
    from aiohttp import web
    from asn1crypto import pem as asn1_pem
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import CertomancerConfig
    from csc_dummy.csc_dummy_server import CSCWithCertomancer, DummyServiceParams
    from werkzeug.serving import make_server

    for label in ("root", "interm", "interm-ocsp", "tsa", "signer", "other"):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (work / f"{label}.key.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    late = _LateApp()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    cfg = CertomancerConfig.from_file(str(HERE / "csc-pki.yml"), key_search_dir=str(work), external_url_prefix=base)
    arch = cfg.get_pki_arch("ioffice")
    late.app = Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root_pem = work / "root.pem"
    root_pem.write_bytes(asn1_pem.armor("CERTIFICATE", arch.get_cert("root").dump()))

    csc = CSCWithCertomancer(cfg, service_params=DummyServiceParams(hash_pinning_required=True, multisign=50))
    csc.register_routes()
    phone = Phone()
    target: dict[str, str] = {}

    async def proxy(request: web.Request):
        body = await request.json()
        name = request.match_info["tail"]
        if name == "credentials/authorize":
            phone.authorize_calls += 1
            if "transactionID" not in body:
                phone.num_signatures.append(body.get("numSignatures"))
            if phone.mode == "hold":
                phone.pending_polls += 1
                phone.polled.set()
                return web.json_response({"transactionID": "tx-1"}, status=202)
            if phone.mode == "refuse":
                return web.json_response({"error": "access_denied"}, status=403)
            body.pop("transactionID", None)
        if name == "signatures/signHash":
            phone.sign_hash_calls += 1
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{target['csc']}/csc/v1/{name}", json=body) as r:
                return web.Response(status=r.status, body=await r.read(), content_type="application/json")

    phone_app = web.Application()
    phone_app.router.add_post("/csc/v1/{tail:.+}", proxy)
    (csc_port, phone_port), _ = _serve_aiohttp([csc.app, phone_app])
    target["csc"] = f"http://127.0.0.1:{csc_port}"
    return CscService(arch=arch, csc_url=target["csc"], phone_url=f"http://127.0.0.1:{phone_port}", phone=phone,
                      root_pem=root_pem, tsa_url=f"{base}/ioffice/tsa/tsa"), server.shutdown


@pytest.fixture
def remote_settings(env, csc_service):
    """Settings of an installation whose leader signs remotely (CSC), with certomancer's TSA and
    OCSP/CRL (fetched over HTTP on loopback) and its root trusted."""
    csc_service.phone.mode = "confirm"
    csc_service.phone.polled.clear()
    return env.settings(tsa_url=csc_service.tsa_url, trust_roots=str(csc_service.root_pem),
                        csc_providers={"smartca": {"url": csc_service.phone_url, "token": None},
                                       "direct": {"url": csc_service.csc_url, "token": None}},
                        remote_poll_interval_seconds=0.05, remote_confirm_timeout_seconds=20)


def wait_until(fn, *, timeout: float = 60.0, what: str = "condition"):
    """Poll ``fn`` until it returns a truthy value (event-driven code has no callback here)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def nss_trusting(root_pem_bytes: bytes, d: Path) -> Path:
    (d / "root.pem").write_bytes(root_pem_bytes)
    subprocess.run(["certutil", "-N", "-d", f"sql:{d}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-n", "root", "-t", "CT,C,C", "-i", str(d / "root.pem"), "-d", f"sql:{d}"],
                   check=True, capture_output=True)
    return d


def pdfsig_valid(pdf: bytes, tmp_path: Path, nss: Path | None = None) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    cmd = ["pdfsig"] + (["-nssdir", f"sql:{nss}"] if nss else []) + [str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert "Signature Validation: Signature is Valid." in out.stdout, out.stdout + out.stderr
    return out.stdout


from tests.signing_api.conftest import approved_draft_factory  # noqa: E402


@pytest.fixture
def approved_draft(client, as_user):
    return approved_draft_factory(client, as_user)


@pytest.fixture(params=["sqlite"])
def backend(request) -> str:
    """The channel tests run on SQLite (the PostgreSQL half of the batch rules is marked on the test)."""
    return request.param
