"""External signing end to end: the official's key is on a (SoftHSM2) USB token; the reference
client `ioffice token-sign` runs in a separate process against the real HTTP service."""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives import serialization

from tests.deploy.test_run import free_port
from tests.support.pki import issue_from_dev_pki

REPO = Path(__file__).resolve().parents[2]
MODULE = "/usr/lib/softhsm/libsofthsm2.so"
pytestmark = pytest.mark.skipif(not Path(MODULE).exists(), reason="SoftHSM2 is not installed")


@pytest.fixture
def token(tmp_path, settings):
    from certs.devpki import ensure_dev_pki

    pki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="x", signers=[])
    conf = tmp_path / "softhsm2.conf"
    (tmp_path / "tokens").mkdir()
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = dict(os.environ, SOFTHSM2_CONF=str(conf), TOKEN_PIN="5678")
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "usb", "--so-pin", "1234", "--pin", "5678"],
                   env=env, check=True, capture_output=True)
    run = lambda *a: subprocess.run([sys.executable, "-m", "tests.external.token_setup", *a], env=env, cwd=REPO,  # noqa: E731
                                    capture_output=True, text=True, timeout=120, check=True).stdout
    keys = json.loads(run("generate", "usb", "5678"))
    cert = issue_from_dev_pki(pki, serialization.load_pem_public_key(keys["signer"].encode()), "Phạm Văn Đức")
    entries = [["signer", "01", cert.public_bytes(serialization.Encoding.PEM).decode()],
               ["issuing-ca", "ca", pki.intermediate_cert.public_bytes(serialization.Encoding.PEM).decode()]]
    (tmp_path / "certs.json").write_text(json.dumps(entries))
    run("store", "usb", "5678", str(tmp_path / "certs.json"))
    return env


@pytest.fixture
def live_server(app):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.slow
def test_leader_signs_with_usb_token_through_the_reference_client(live_server, token, approved_draft, as_user,
                                                                  client):
    doc = approved_draft()
    bearer = as_user("chutich")["Authorization"].split(" ", 1)[1]
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "token-sign", "--server", live_server, "--document", doc["id"],
         "--module", MODULE, "--token-label", "usb", "--key-label", "signer", "--pin-env", "TOKEN_PIN"],
        env={**token, "IOFFICE_ACCESS_TOKEN": bearer}, cwd=REPO, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = httpx.get(f"{live_server}/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert got["status"] == "signed" and got["versions"][-1]["kind"] == "signed"
    pdf = httpx.get(f"{live_server}/api/v1/documents/{doc['id']}/content", headers=as_user("chutich")).content
    report = httpx.post(f"{live_server}/api/v1/verify", files={"file": ("d.pdf", pdf, "application/pdf")},
                        timeout=120).json()  # B-LT validation is slower than the 5 s default under load
    assert report["verdict"] == "valid" and report["trusted"], report
    assert report["signatures"][0]["signer"] == "Phạm Văn Đức"


def test_token_certificate_of_someone_else_is_refused(client, as_user, approved_draft, settings):
    from certs.devpki import ensure_dev_pki, issue_signer_certificate

    pki = ensure_dev_pki(settings.pki_dir, passphrase=settings.pki_passphrase, agency_name="x", signers=[])
    _, cert = issue_signer_certificate(pki, common_name="Người Khác", organization=None)
    doc = approved_draft()
    r = client.post(f"/api/v1/documents/{doc['id']}/sign", headers=as_user("chutich"),
                    json={"mode": "external", "certificate_pem": cert.public_bytes(serialization.Encoding.PEM).decode()})
    assert r.status_code == 403, r.text
    assert "USB token" in r.json()["detail"]
