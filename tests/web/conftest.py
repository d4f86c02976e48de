"""Web page fixtures: a live server on loopback (uvicorn in a thread, on the ``env`` fixture's
settings), Debian's Chromium driven by Playwright (never a downloaded browser), screenshots saved
under ``test-artifacts/web`` (or $IOFFICE_TEST_ARTIFACTS)."""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import DEMO_PASSWORD

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("IOFFICE_TEST_ARTIFACTS", REPO / "test-artifacts")) / "web"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(env):
    """The app served over real HTTP on 127.0.0.1 (its base URL is the server's own)."""
    import uvicorn

    from api.app import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(env.settings(base_url=base))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")  # not session: Playwright's sync API keeps an event loop running in
def chromium():                   # this thread while alive, which would break later tests' asyncio.run()
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required for the browser tests (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Browser:
    """One person's browser context: every request is recorded, so a test can assert that no page
    asked another host; console errors (e.g. a CSP violation) are recorded too."""

    def __init__(self, chromium, base: str, name: str, viewport=None):
        self.base = base
        self.name = name
        self.context = chromium.new_context(base_url=base, viewport=viewport or {"width": 1280, "height": 900},
                                            locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
        # a generous bound: it only catches a hang (a loaded 2-core machine validates a signature in
        # tens of seconds), it is not a timing assertion
        self.context.set_default_timeout(120000)
        self.context.set_default_navigation_timeout(120000)
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("response", lambda r: self.console_errors.append(f"{r.status} {r.url}")
                     if r.status >= 400 else None)

    def login(self, username: str, password: str = DEMO_PASSWORD):
        page = self.page
        page.goto("/login")
        page.get_by_label("Tên đăng nhập").fill(username)
        page.get_by_label("Mật khẩu").fill(password)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url(re.compile(r"/$|/\?"))
        return page

    def shot(self, label: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{label}.png"
        self.page.wait_for_load_state("networkidle")  # htmx fragments and page previews are in
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def foreign_requests(self) -> list[str]:
        host = urlparse(self.base).netloc
        return [u for u in self.requests if not u.startswith(("data:", "blob:")) and urlparse(u).netloc != host]


@pytest.fixture
def browser_for(chromium, live_server, request):
    made: list[Browser] = []
    test = re.sub(r"[^\w-]+", "_", request.node.name)

    def make(who: str, viewport=None) -> Browser:
        b = Browser(chromium, live_server, f"{test}-{who}", viewport)
        made.append(b)
        return b

    yield make
    for b in made:
        assert b.foreign_requests() == [], f"{b.name} requested another host: {b.foreign_requests()}"
        b.context.close()


@pytest.fixture
def api(live_server):
    """The JSON API of the live server with bearer tokens: ``api.client`` and ``api.as_user(name)``."""
    import httpx

    from tests.conftest import login

    with httpx.Client(base_url=live_server, timeout=120) as client:
        cache: dict = {}

        class Api:
            pass

        a = Api()
        a.client = client
        a.as_user = lambda who: cache.setdefault(who, login(client, who))
        yield a
