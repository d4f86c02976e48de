"""The public rate limit is a sliding window: a client never gets more than the limit in any
60 seconds, whether or not its requests straddle a minute boundary."""
from __future__ import annotations

import pytest

from ioffice.kernel.errors import TooManyRequests


def _sessions(env):
    from ioffice.kernel.db import make_engine, make_session_factory

    return make_session_factory(make_engine(env.database_url))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_requests_straddling_a_window_boundary_still_meet_the_limit(env):
    from ioffice.accounts.ratelimit import hit

    sessions = _sessions(env)
    base = 60 * 1_000_000
    assert hit(sessions, key="k", limit=2, now=base - 0.5) == 1  # end of one minute
    assert hit(sessions, key="k", limit=2, now=base + 0.1) == 2  # start of the next
    with pytest.raises(TooManyRequests) as caught:
        hit(sessions, key="k", limit=2, now=base + 0.2)
    assert caught.value.extra["retry_after"] > 0
    # Ten seconds into the next minute the earlier one still weighs 5/6; two minutes later nothing counts.
    with pytest.raises(TooManyRequests):
        hit(sessions, key="k", limit=2, now=base + 60 + 10)
    assert hit(sessions, key="k", limit=2, now=base + 180 + 0.5) == 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_keys_are_counted_apart(env):
    from ioffice.accounts.ratelimit import hit

    sessions = _sessions(env)
    assert hit(sessions, key="verify:198.51.100.1", limit=1, now=1000.0) == 1
    assert hit(sessions, key="verify:198.51.100.2", limit=1, now=1000.0) == 1
    with pytest.raises(TooManyRequests):
        hit(sessions, key="verify:198.51.100.1", limit=1, now=1000.5)
