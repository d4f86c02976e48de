"""A token official signs from the document page: the web page (cookie session) opens the token
signing page, which reaches the stand-in plugin on loopback (SoftHSM2 token) and completes the
signature; the document page then shows it signed. Screenshots under test-artifacts/web."""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest

from tests.conftest import DEMO_PASSWORD

from .test_token_plugins import ENDPOINT, setup_token_official

ARTIFACTS = Path(os.environ.get("IOFFICE_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")) / "web"


@pytest.mark.slow
def test_token_official_signs_from_the_document_page_through_the_plugin(live_server, browser, usb_token, client,
                                                                        as_user, approved_draft):
    setup_token_official(client, as_user, usb_token)
    doc = approved_draft(summary="Quyết định ký bằng USB token từ trang văn bản")
    ctx = browser.new_context(base_url=live_server, locale="vi-VN", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(120_000)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill("chutich")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"/documents/{doc['id']}")
    assert page.get_by_role("button", name="Ký số văn bản").count() == 0  # no server-key button for a token official
    page.get_by_role("link", name="Ký bằng USB token").click()
    page.wait_for_selector("#sign[data-state=ready]")
    # the stand-in plugin listens on a port of its own, not on the real plugin's default one
    endpoint = ENDPOINT["vgca"].format(usb_token.plugins["vgca"])
    page.goto(page.url.split("?")[0] + f"?plugin=vgca&endpoint={quote(endpoint, safe='')}")
    page.wait_for_selector("#sign[data-state=ready]")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "token-page-01-ready.png"), full_page=True)
    before = usb_token.signed_count("vgca")
    page.get_by_role("button", name="Ký số bằng USB token").click()
    page.wait_for_selector("#sign[data-state=done], #sign[data-state=error]")
    assert page.get_attribute("#sign", "data-state") == "done", (page.text_content("#status"), errors)
    assert page.text_content("#status") == "Đã ký số văn bản."
    assert usb_token.signed_count("vgca") == before + 1
    page.screenshot(path=str(ARTIFACTS / "token-page-02-done.png"), full_page=True)
    page.get_by_role("link", name="Xem văn bản sau khi ký").click()
    assert "Đã ký" in page.locator(".doc-head").inner_text()
    page.locator("#signature-panel .verdict-line").wait_for()
    assert "Phạm Văn Đức" in page.locator("#signature-panel").inner_text()
    page.screenshot(path=str(ARTIFACTS / "token-page-03-document.png"), full_page=True)
    app_host = urlparse(live_server).netloc
    foreign = [u for u in requests if urlparse(u).netloc not in (app_host, "") and not u.startswith("data:")
               and not urlparse(u).hostname == "127.0.0.1"]
    assert foreign == []
    assert errors == []
    ctx.close()
    # the page is only for a document awaiting the official's signature
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=as_user("chutich")).json()["status"] == "signed"


@pytest.mark.slow
def test_remote_batch_from_the_page_shows_each_document_until_the_phone_confirms(remote_settings, csc_service,
                                                                                  browser):
    """A leader who signs remotely picks two documents on /sign-batch; the progress page polls
    (htmx) and shows them waiting for the phone, then signed once the official confirms."""
    import threading

    import httpx
    import uvicorn

    from api.app import create_app
    from tests.conftest import login
    from tests.signing_api.conftest import approved_draft_factory

    from .conftest import _free_port, wait_until
    from .test_remote import setup_remote

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(create_app(remote_settings), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="the live server")
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            cache: dict = {}

            def as_user(u):
                return cache.setdefault(u, login(client, u))

            setup_remote(client, as_user, "smartca")
            make = approved_draft_factory(client, as_user)
            docs = [make(summary=f"Quyết định ký từ xa đợt {n}") for n in (1, 2)]
            csc_service.phone.mode = "hold"  # the official has not confirmed on the phone yet
            ctx = browser.new_context(base_url=base, locale="vi-VN", viewport={"width": 390, "height": 844})
            ctx.set_default_timeout(120_000)
            page = ctx.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto("/login")
            page.get_by_label("Tên đăng nhập").fill("chutich")
            page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
            page.get_by_role("button", name="Đăng nhập").click()
            page.wait_for_url(re.compile(r"/$"))
            page.goto("/sign-batch")
            assert "một yêu cầu ký gửi đến điện thoại" in page.locator("main").inner_text()
            page.get_by_role("button", name="Ký các văn bản đã chọn").click()
            page.wait_for_url(re.compile(r"/sign-batch/\w+$"))
            wait_until(csc_service.phone.polled.is_set, what="the authorisation request on the phone")
            page.get_by_text("Đang chờ xác nhận trên điện thoại").first.wait_for()
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "remote-batch-01-waiting.png"), full_page=True)
            csc_service.phone.mode = "confirm"  # the official confirms on the phone
            page.get_by_text("Đã xong: ký được 2/2 văn bản.").wait_for()  # the htmx poll brought it in
            assert page.locator(".batch-results li").filter(has_text="Đã ký").count() == 2
            page.screenshot(path=str(ARTIFACTS / "remote-batch-02-done.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            for d in docs:
                assert client.get(f"/api/v1/documents/{d['id']}", headers=as_user("chutich")).json()["status"] == "signed"
            assert errors == []
            ctx.close()
    finally:
        csc_service.phone.mode = "confirm"
        server.should_exit = True
        thread.join(timeout=10)
