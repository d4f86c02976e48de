"""Sliding-window rate limiting kept in the database (works across processes and replicas).

Each key keeps one counter per fixed window; a request is judged on the current window's count
plus the previous window's count weighted by how much of it still lies inside the last
``window_seconds``. Unlike a plain fixed window this never lets a client send twice the limit
across a window boundary.
"""
from __future__ import annotations

import math
import time

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ioffice.accounts.models import RateLimitBucket
from ioffice.kernel.errors import TooManyRequests


def hit(sessions: sessionmaker[Session], *, key: str, limit: int, window_seconds: int = 60,
        now: float | None = None) -> int:
    """Count one request for ``key`` in the current window; raise TooManyRequests past ``limit``.

    Runs in its own short transaction so a rejected request is still counted.
    """
    now = now or time.time()
    window = int(now // window_seconds)
    for _ in range(3):
        with sessions() as s:
            try:
                with s.begin():
                    row = s.execute(select(RateLimitBucket).where(
                        RateLimitBucket.key == key[:128], RateLimitBucket.window_start == window).with_for_update()
                    ).scalar_one_or_none()
                    if row is None:
                        row = RateLimitBucket(key=key[:128], window_start=window, count=0)
                        s.add(row)
                        if window % 10 == 0:
                            s.execute(delete(RateLimitBucket).where(RateLimitBucket.window_start < window - 10))
                    row.count += 1
                    previous = s.execute(select(RateLimitBucket.count).where(
                        RateLimitBucket.key == key[:128], RateLimitBucket.window_start == window - 1)
                    ).scalar_one_or_none() or 0
                    current = row.count
                break
            except IntegrityError:
                continue
    else:  # pragma: no cover - extreme contention
        current, previous = limit + 1, 0
    elapsed = now % window_seconds
    count = current + math.ceil(previous * (1.0 - elapsed / window_seconds))
    if count > limit:
        retry = _retry_after(current, previous, elapsed, limit, window_seconds)
        raise TooManyRequests("Bạn đã gửi quá nhiều yêu cầu. Vui lòng thử lại sau ít phút.", retry_after=retry)
    return count


def _retry_after(current: int, previous: int, elapsed: float, limit: int, window: int) -> int:
    """Seconds until one more request would be let through, if the client sends nothing else."""
    if current + 1 <= limit and previous:
        # Still room in this window once enough of the previous one has slid out.
        wait = window * (1.0 - (limit - current - 1) / previous) - elapsed
    else:
        # Only in the next window, once enough of this one has slid out.
        wait = (window - elapsed) + window * max(0.0, 1.0 - (limit - 1) / current)
    return max(1, math.ceil(wait)) + 1
