"""A worker runs a few requests at once and queues the rest in arrival order (api.middleware.AdmissionGate);
a long request stops counting after its lease; the health check never waits."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from api.middleware import AdmissionGate


class Probe:
    """An ASGI app that records the order requests start in and how many run at once.
    ``/hold/<name>`` runs until its event is set; any other path yields to the loop a few times."""

    def __init__(self) -> None:
        self.running = 0
        self.peak = 0
        self.started: list[str] = []
        self.finished: list[str] = []
        self.holds: dict[str, asyncio.Event] = {}

    async def __call__(self, scope, receive, send) -> None:
        name = scope["path"].rsplit("/", 1)[-1]
        self.running += 1
        self.peak = max(self.peak, self.running)
        self.started.append(name)
        try:
            if scope["path"].startswith("/hold/"):
                await self.holds.setdefault(name, asyncio.Event()).wait()
            else:
                for _ in range(5):  # give any other admitted request the chance to run alongside
                    await asyncio.sleep(0)
        finally:
            self.running -= 1
            self.finished.append(name)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": name.encode()})

    async def hold(self, c: httpx.AsyncClient, name: str) -> asyncio.Task:
        """Send ``/hold/<name>`` and return once it is running (it runs until its event is set)."""
        task = asyncio.create_task(c.get(f"/hold/{name}"))
        await until(lambda: name in self.started)
        return task


class Arrivals:
    """Outer middleware: the order requests reach the gate."""

    def __init__(self, app) -> None:
        self.app, self.order = app, []

    async def __call__(self, scope, receive, send) -> None:
        self.order.append(scope["path"].rsplit("/", 1)[-1])
        await self.app(scope, receive, send)


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def until(predicate, turns: int = 10_000) -> None:
    """Let the event loop run until ``predicate()`` holds (no wall-clock waiting)."""
    for _ in range(turns):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


async def idle(turns: int = 200) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)


@pytest.mark.parametrize("limit", [1, 2])
def test_requests_run_at_most_limit_at_once_in_arrival_order(limit):
    probe = Probe()
    arrivals = Arrivals(AdmissionGate(probe, limit=limit, lease=60))

    async def main():
        async with client(arrivals) as c:
            rs = await asyncio.gather(*(c.get(f"/quick/r{i}") for i in range(12)))
        assert [r.status_code for r in rs] == [200] * 12

    asyncio.run(main())
    assert probe.peak == limit
    assert probe.started == arrivals.order  # first come, first served


def test_without_a_limit_every_request_runs_at_once():
    """The control for the test above: the probe does see requests overlap when nothing gates them."""
    probe = Probe()

    async def main():
        async with client(AdmissionGate(probe, limit=0, lease=60)) as c:
            await asyncio.gather(*(c.get(f"/quick/r{i}") for i in range(12)))

    asyncio.run(main())
    assert probe.peak > 2


def test_a_long_request_holds_its_place_only_for_its_lease():
    probe = Probe()

    async def main():
        async with client(AdmissionGate(probe, limit=1, lease=0.05)) as c:
            long = await probe.hold(c, "long")
            short = await asyncio.wait_for(c.get("/quick/short"), timeout=30)
            assert short.text == "short" and not long.done()  # served while the long one still runs
            probe.holds["long"].set()
            assert (await long).text == "long"

    asyncio.run(main())
    assert probe.finished == ["short", "long"]


def test_within_its_lease_a_request_keeps_the_others_waiting():
    probe = Probe()

    async def main():
        async with client(AdmissionGate(probe, limit=1, lease=60)) as c:
            long = await probe.hold(c, "long")
            short = asyncio.create_task(c.get("/quick/short"))
            await idle()
            assert probe.started == ["long"]  # the short one waits its turn
            probe.holds["long"].set()
            await asyncio.gather(long, short)

    asyncio.run(main())
    assert probe.started == ["long", "short"] and probe.peak == 1


def test_the_health_check_never_waits():
    probe = Probe()

    async def main():
        async with client(AdmissionGate(probe, limit=1, lease=60, exempt=("/healthz",))) as c:
            long = await probe.hold(c, "long")
            health = await asyncio.wait_for(c.get("/healthz"), timeout=30)
            assert health.status_code == 200 and not long.done()
            probe.holds["long"].set()
            await long

    asyncio.run(main())


def test_a_request_given_up_while_waiting_leaves_no_slot_taken():
    probe = Probe()

    async def main():
        async with client(AdmissionGate(probe, limit=1, lease=60)) as c:
            long = await probe.hold(c, "long")
            gone = asyncio.create_task(c.get("/quick/gone"))
            await idle()
            gone.cancel()
            probe.holds["long"].set()
            await long
            after = await asyncio.wait_for(c.get("/quick/after"), timeout=30)
            assert after.text == "after"
            # a second one still gets in: the cancelled waiter did not keep the slot
            assert (await asyncio.wait_for(c.get("/quick/again"), timeout=30)).text == "again"

    asyncio.run(main())
    assert "gone" not in probe.started and probe.peak == 1


def test_a_serving_worker_freezes_its_startup_objects():
    """``ioffice serve``'s workers import what the first verify would and freeze what is alive, so a
    full garbage collection no longer walks the modules and caches (api.app._settle)."""
    code = ("import gc, sys; from api.app import _settle, _WARM_MODULES; _settle(); "
            "print(gc.get_freeze_count(), all(m in sys.modules for m in _WARM_MODULES))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    frozen, warm = out.stdout.split()
    assert int(frozen) > 50_000 and warm == "True"
