"""Running async APIs (pyHanko's) from synchronous code (request threads, the CLI); shared by the
adapter packages, which do not import each other."""
from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(make_coro: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the coroutine ``make_coro()`` to completion and return its result (exceptions
    propagate). Works also when the calling thread already runs an event loop: then the
    coroutine runs on a fresh loop in a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coro())

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, make_coro()).result()
