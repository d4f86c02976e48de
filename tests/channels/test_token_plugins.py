"""The leader signs with their USB token through the signing plugin on their PC: the page served
by the app (/sign/{id}) runs in headless Chromium, talks to a stand-in plugin (separate process,
SoftHSM2 token) on loopback, and the server completes the signature to B-LT."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from .conftest import pdfsig_valid

ENDPOINT = {"vgca": "wss://127.0.0.1:{}", "vnpt": "wss://127.0.0.1:{}", "viettel": "http://127.0.0.1:{}"}


def setup_token_official(client, as_user, usb_token) -> str:
    users = client.get("/api/v1/users", headers=as_user("admin")).json()
    uid = next(u["id"] for u in users if u["username"] == "chutich")
    r = client.put(f"/api/v1/users/{uid}/signing-method", headers=as_user("admin"), json={"method": "token"})
    assert r.status_code == 200, r.text
    r = client.put(f"/api/v1/users/{uid}/certificate", headers=as_user("admin"),
                   json={"certificate_pem": usb_token.cert_pem})
    assert r.status_code == 200, r.text
    return uid


def verify(client, pdf: bytes) -> dict:
    r = client.post("/api/v1/verify", files={"file": ("d.pdf", pdf, "application/pdf")})
    assert r.status_code == 200, r.text
    return r.json()


def open_sign_page(browser, live_server, bearer: str, path: str):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.add_init_script(f"window.sessionStorage.setItem('ioffice.token', {json.dumps(bearer)});")
    page.goto(f"{live_server}{path}")
    page.wait_for_selector("#sign[data-state=ready]")
    return page, errors


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["vgca", "vnpt", "viettel"])
def test_leader_signs_through_the_browser_plugin_to_b_lt(kind, live_server, browser, usb_token, client, as_user,
                                                        approved_draft, tmp_path):
    setup_token_official(client, as_user, usb_token)
    doc = approved_draft()
    before = usb_token.signed_count(kind)
    bearer = as_user("chutich")["Authorization"].split(" ", 1)[1]
    endpoint = ENDPOINT[kind].format(usb_token.plugins[kind])
    page, errors = open_sign_page(browser, live_server, bearer,
                                  f"/sign/{doc['id']}?plugin={kind}&endpoint={quote(endpoint, safe='')}")
    page.click("#sign-button")
    page.wait_for_selector("#sign[data-state=done], #sign[data-state=error]", timeout=120_000)
    status = page.text_content("#status")
    assert page.get_attribute("#sign", "data-state") == "done", (status, errors)
    assert status == "Đã ký số văn bản."
    page.close()
    assert usb_token.signed_count(kind) == before + 1  # the plugin signed exactly one hash

    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert got["status"] == "signed" and got["versions"][-1]["kind"] == "signed"
    pdf = client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("chutich")).content
    report = verify(client, pdf)
    assert report["verdict"] == "valid" and report["trusted"], report
    sig = report["signatures"][0]
    assert sig["signer"] == "Phạm Văn Đức"
    assert sig["level"] == "B-LT", sig  # revocation data embedded after completion
    pdfsig_valid(pdf, tmp_path)


def test_sign_page_has_no_inline_script_and_a_strict_csp(client):
    r = client.get("/sign/abc")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in r.text and 'src="/static/signing/sign-page.js"' in r.text
    js = client.get("/static/signing/vgca.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/signing/..%2Fapp.py").status_code == 404


def test_a_plugin_on_another_host_is_refused_by_the_page(live_server, browser, client, as_user, approved_draft):
    doc = approved_draft()
    bearer = as_user("chutich")["Authorization"].split(" ", 1)[1]
    page, _ = open_sign_page(browser, live_server, bearer,
                             f"/sign/{doc['id']}?plugin=vgca&endpoint={quote('wss://evil.example:8987', safe='')}")
    page.click("#sign-button")
    page.wait_for_selector("#sign[data-state=error]")
    assert "127.0.0.1" in page.text_content("#status")
    page.close()
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()
    assert got["status"] == "approved"
