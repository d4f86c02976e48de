"""SQLite under a burst: every concurrent request gets a connection (the write lock queues the
writers); a capped pool made the 16th concurrent upload wait 30 s and fail with a 500."""
from __future__ import annotations

import threading

from sqlalchemy import text


def test_forty_concurrent_sessions_on_sqlite_all_get_a_connection(tmp_path):
    from ioffice.kernel.db import READ_ONLY_OPTION, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'burst.db'}")
    reader = engine.execution_options(**{READ_ONLY_OPTION: True})  # readers: no write lock held
    engine.pool._timeout = 2  # a capped pool fails here in 2 s instead of 30
    held, errors, ready = [], [], threading.Barrier(40)

    def worker() -> None:
        try:
            conn = reader.connect()
            conn.execute(text("SELECT 1"))
            held.append(conn)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(type(exc).__name__)
        finally:
            ready.wait()

    threads = [threading.Thread(target=worker) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(held) == 40
    for conn in held:
        conn.close()
    engine.dispose()
