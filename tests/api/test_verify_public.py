"""Public verification without an account: JSON report, the citizen's page, rate limiting."""
from datetime import UTC

from fastapi.testclient import TestClient

from tests.conftest import make_pdf


def test_verify_reports_no_signature_and_unreadable(client):
    r = client.post("/api/v1/verify", files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "no_signature" and r.json()["signatures"] == []
    r = client.post("/api/v1/verify", files={"file": ("a.pdf", b"hello, not a pdf", "application/pdf")})
    assert r.status_code == 200 and r.json()["verdict"] == "unreadable"


def test_citizen_page_renders_the_verdict_in_vietnamese(client):
    page = client.get("/verify")
    assert page.status_code == 200 and "Chọn tệp PDF" in page.text
    r = client.post("/verify", files={"file": ("a.pdf", make_pdf(), "application/pdf")})
    assert r.status_code == 200
    assert "chữ ký số" in r.text.lower()
    r = client.post("/verify", files={"file": ("x.pdf", b"garbage", "application/pdf")})
    assert r.status_code == 200 and 'class="verdict bad"' in r.text


def test_public_verification_is_rate_limited(env):
    """A sliding one-minute window: the fourth request in a minute is refused, Retry-After says
    when the next one will pass, and it does pass then (the clock is frozen and moved by hand)."""
    from datetime import datetime

    import time_machine

    from api.app import create_app

    start = datetime(2026, 3, 2, 9, 15, 5, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock, \
            TestClient(create_app(env.settings(public_rate_limit_per_minute=3))) as c:
        codes = [c.post("/api/v1/verify", files={"file": ("a.pdf", b"x", "application/pdf")}).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        clock.shift(30)  # still the same minute
        r = c.post("/api/v1/verify", files={"file": ("a.pdf", b"x", "application/pdf")})
        assert r.status_code == 429
        assert r.headers["content-type"].startswith("application/problem+json")
        wait = int(r.headers["retry-after"])
        assert 25 < wait <= 90  # past the end of this minute, within the next
        clock.shift(wait - 3)  # a little too early: still refused
        r = c.post("/api/v1/verify", files={"file": ("a.pdf", b"x", "application/pdf")})
        assert r.status_code == 429
        clock.shift(3 + int(r.headers["retry-after"]))
        r = c.post("/api/v1/verify", files={"file": ("a.pdf", b"x", "application/pdf")})
        assert r.status_code == 200 and r.json()["verdict"] == "unreadable"


def test_unknown_verification_code_is_a_plain_404_page(client):
    r = client.get("/verify/ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert r.status_code == 404 and "Không tìm thấy" in r.text and "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" in r.text
    r = client.get("/verify/ABC-123")  # not a code at all (32 base32 characters)
    assert r.status_code == 422 and "không đúng định dạng" in r.text
