"""Number allocation under concurrency: unique and consecutive, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading

from ioffice.kernel.db import make_engine, make_session_factory
from ioffice.kernel.workcalendar import vn_today
from ioffice.registers import numbering
from tests.support.agencies import db_session, demo_org

WORKERS = 60


def test_concurrent_allocations_are_unique_and_consecutive(env):
    with db_session(env) as s:
        org_id = demo_org(s).id
    engine = make_engine(env.database_url)
    sessions = make_session_factory(engine)
    start = threading.Barrier(WORKERS)
    numbers: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(i: int) -> None:
        try:
            start.wait(timeout=60)
            with sessions() as session:
                with session.begin():
                    n = numbering.allocate_number(session, org_id=org_id, register="outgoing", year=2026)
                    if i % 10 == 7:  # some transactions fail after allocating: their number is given back
                        raise RuntimeError("rolled back on purpose")
                with lock:
                    numbers.append(n)
        except RuntimeError:
            pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert not errors, errors
    committed = WORKERS - len([i for i in range(WORKERS) if i % 10 == 7])
    assert sorted(numbers) == list(range(1, committed + 1))
    with db_session(env) as s:
        assert numbering.last_number(s, org_id=org_id, register="outgoing", year=2026) == committed
        # Other years and series are untouched and start at 1.
        assert numbering.allocate_number(s, org_id=org_id, register="outgoing", year=2027) == 1
        assert numbering.allocate_number(s, org_id=org_id, register="outgoing", year=2026, series="mat") == 1


def test_two_clerks_issuing_the_same_document_at_once(env, upload):
    """One issue wins; the other fails with a conflict and its number is given back (no gap)."""
    from sqlalchemy.orm.exc import StaleDataError

    from ioffice import registers
    from ioffice.accounts.models import User
    from ioffice.kernel.caller import Caller
    from ioffice.kernel.errors import Conflict
    from storage import open_blob_store
    from tests.support.agencies import approve

    doc_id = upload("chuyenvien", direction="outgoing", doc_type="Quyết định", summary="Về việc khen thưởng")["id"]
    approve(env, doc_id)
    with db_session(env) as s:
        clerk = s.query(User).filter_by(username="vanthu").one()
        caller = Caller(user_id=clerk.id, username=clerk.username, org_id=clerk.org_id)
        org_id = clerk.org_id
    store = open_blob_store(env.settings().blob_url)
    engine = make_engine(env.database_url)
    sessions = make_session_factory(engine)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def worker() -> None:
        with sessions() as session:
            try:
                start.wait(timeout=30)
                with session.begin():
                    registers.issue_outgoing(session, store, caller=caller, document_id=doc_id)
                outcomes.append("issued")
            except (Conflict, StaleDataError):
                outcomes.append("conflict")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert sorted(outcomes) == ["conflict", "issued"]
    with db_session(env) as s:
        assert numbering.last_number(s, org_id=org_id, register="outgoing", year=vn_today().year) == 1
        assert len(registers.outgoing_register(s, org_id=org_id, year=vn_today().year).rows) == 1
