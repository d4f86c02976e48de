"""Throttling that holds: forwarded addresses believed only from configured proxies; login
throttling per (account, address), atomic, with no lock-out a stranger can impose."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import db_session
from tests.security.conftest import live_server


def _verify(base: str, xff: str | None) -> int:
    headers = {"X-Forwarded-For": xff} if xff else {}
    return httpx.post(base + "/api/v1/verify", headers=headers, timeout=60,
                      files={"file": ("a.pdf", b"x", "application/pdf")}).status_code


def _login_addresses(env) -> list[str]:
    from ioffice.audit.models import AuditEvent

    with db_session(env) as s:
        return [e.client_addr for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login"))]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_rotating_forwarded_for_from_an_untrusted_client_does_not_escape_the_limit(env):
    from api.app import create_app

    # A sliding one-minute window: three pass, whatever address each one claims, then none.
    with live_server(create_app(env.settings(public_rate_limit_per_minute=3))) as (host, port):
        base = f"http://{host}:{port}"
        codes = [_verify(base, f"198.51.100.{i}") for i in range(7)]
        assert codes == [200] * 3 + [429] * 4, codes
        r = httpx.post(base + "/api/v1/auth/token", headers={"X-Forwarded-For": "203.0.113.9"},
                       data={"username": "vanthu", "password": "demo-password-123"})
        assert r.status_code == 200
    assert _login_addresses(env) == ["127.0.0.1"]  # the invented address is not in the audit log


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_forwarded_for_is_honoured_from_a_trusted_proxy(env):
    from api.app import create_app

    with live_server(create_app(env.settings(public_rate_limit_per_minute=3,
                                             trusted_proxies="10.0.0.0/8, 127.0.0.1"))) as (host, port):
        base = f"http://{host}:{port}"
        # the proxy appends the real client; whatever the client put on the left is not believed
        codes = [_verify(base, f"6.6.6.{i}, 198.51.100.7") for i in range(7)]
        assert codes == [200] * 3 + [429] * 4, codes
        assert _verify(base, "198.51.100.8, 10.1.2.3") == 200  # another client, through two trusted proxies
        r = httpx.post(base + "/api/v1/auth/token", headers={"X-Forwarded-For": "203.0.113.9"},
                       data={"username": "vanthu", "password": "demo-password-123"})
        assert r.status_code == 200
    assert _login_addresses(env) == ["203.0.113.9"]


def test_trusted_proxy_parsing():
    from api.proxies import parse_networks, real_client

    nets = parse_networks("10.0.0.0/8,127.0.0.1")
    assert real_client("127.0.0.1", ["1.2.3.4"], nets) == "1.2.3.4"
    assert real_client("192.0.2.1", ["1.2.3.4"], nets) == "192.0.2.1"  # peer not a proxy
    assert real_client("127.0.0.1", ["1.2.3.4, 10.0.0.5"], nets) == "1.2.3.4"
    assert real_client("127.0.0.1", ["not-an-ip"], nets) == "127.0.0.1"
    assert real_client("127.0.0.1", ["1.2.3.4"], []) == "127.0.0.1"
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/8, banana")


def _login(base: str, username: str, password: str, addr: str) -> httpx.Response:
    return httpx.post(base + "/api/v1/auth/token", headers={"X-Forwarded-For": addr}, timeout=120,
                      data={"username": username, "password": password})


def test_a_stranger_cannot_lock_a_real_user_out(env):
    from api.app import create_app

    with live_server(create_app(env.settings(trusted_proxies="127.0.0.1"))) as (host, port):
        base = f"http://{host}:{port}"
        stranger = [_login(base, "chutich", f"guess-{i}-wrong", "198.51.100.66").status_code for i in range(8)]
        assert stranger[:5] == [401] * 5 and set(stranger[5:]) == {429}
        r = _login(base, "chutich", "guess-again", "198.51.100.66")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        # the leader, from the office's own address, still gets in
        assert _login(base, "chutich", "demo-password-123", "203.0.113.10").status_code == 200
        # success resets: four slips, a success, four more slips are all simply "wrong password"
        codes = [_login(base, "vanthu", "nope-nope-1", "203.0.113.11").status_code for _ in range(4)]
        assert _login(base, "vanthu", "demo-password-123", "203.0.113.11").status_code == 200
        codes += [_login(base, "vanthu", "nope-nope-2", "203.0.113.11").status_code for _ in range(4)]
        assert codes == [401] * 8


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_parallel_wrong_passwords_are_counted_atomically(env):
    from concurrent.futures import ThreadPoolExecutor

    from api.app import create_app

    with live_server(create_app(env.settings())) as (host, port):
        base = f"http://{host}:{port}"
        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(lambda i: _login(base, "chutich", f"wrong-{i}-password", "-").status_code,
                                  range(20)))
        assert codes.count(401) <= 5, codes  # no more than the limit were checked
        assert set(codes) <= {401, 429} and codes.count(429) >= 15
