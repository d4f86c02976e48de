"""Running pyHanko's async APIs from synchronous code (request threads, the CLI).

(``certs.aio`` has the same helper: the adapter packages do not import each other.)"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable, TypeVar

T = TypeVar("T")


def run_sync(make_coro: Callable[[], Awaitable[T]]) -> T:
    """Run the coroutine ``make_coro()`` to completion and return its result (exceptions
    propagate). Works also when the calling thread already runs an event loop: then the
    coroutine runs on a fresh loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coro())

    async def runner() -> Any:
        return await make_coro()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, runner()).result()
