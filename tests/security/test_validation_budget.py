"""Public validation has a bounded total memory: the bytes being validated at once are budgeted
(IOFFICE_PUBLIC_VALIDATION_BUDGET_MB); what does not fit gets 503 + Retry-After, never a hang."""
from __future__ import annotations

import threading

import pytest

from api.budget import ValidationBudget
from ioffice.kernel.errors import ServiceUnavailable
from tests.conftest import make_pdf


@pytest.fixture
def settings(env):
    return env.settings(public_validation_budget_mb=1)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_verify_beyond_the_budget_is_503_with_retry_after_then_served(client, app):
    budget = app.state.container.validation_budget
    assert budget.total == 1024 * 1024
    pdf = make_pdf()
    with budget.reserve(budget.total - len(pdf) // 2):  # others are validating: this file does not fit
        r = client.post("/api/v1/verify", files={"file": ("a.pdf", pdf, "application/pdf")})
        assert r.status_code == 503
        assert r.headers["content-type"].startswith("application/problem+json")
        assert int(r.headers["Retry-After"]) > 0
        assert "thử lại" in r.json()["detail"]
        page = client.post("/verify", files={"file": ("a.pdf", pdf, "application/pdf")})
        assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
        assert "Máy chủ đang kiểm tra nhiều tệp cùng lúc" in page.text
    assert budget.in_flight == 0
    r = client.post("/api/v1/verify", files={"file": ("a.pdf", pdf, "application/pdf")})
    assert r.status_code == 200 and r.json()["verdict"]
    assert budget.in_flight == 0  # released after the answer


def test_concurrent_reservations_beyond_the_budget_are_refused_not_queued():
    budget = ValidationBudget(total_bytes=300)
    admitted: list[int] = []
    refused: list[int] = []
    attempted = threading.Semaphore(0)
    release = threading.Event()
    lock = threading.Lock()

    def validation(i: int) -> None:
        try:
            with budget.reserve(100):
                with lock:
                    admitted.append(i)
                attempted.release()
                release.wait(timeout=60)
        except ServiceUnavailable:
            with lock:
                refused.append(i)
            attempted.release()

    threads = [threading.Thread(target=validation, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for _ in threads:
        assert attempted.acquire(timeout=60)  # every request got its answer while three still hold
    assert len(admitted) == 3 and len(refused) == 3
    assert budget.in_flight == 300
    release.set()
    for t in threads:
        t.join(timeout=60)
    assert budget.in_flight == 0
    with budget.reserve(1000):  # alone, a file larger than the whole budget is still validated
        assert budget.in_flight == 1000
