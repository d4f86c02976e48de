"""Two people acting on the same step at once: one wins, the other gets 409."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from ioffice import review as routing
from ioffice.accounts.models import User
from ioffice.audit.models import AuditEvent
from ioffice.kernel.caller import Caller
from ioffice.kernel.errors import Conflict
from tests.support.workflow import Demo, db_session


def _any_stage(d: Demo) -> list[dict]:
    return [{"name": "Lãnh đạo hoặc trưởng phòng cho ý kiến", "mode": "any",
             "reviewer_ids": [d.user["truongphong"], d.user["chutich"]]}]


def test_concurrent_approvals_over_http_one_wins(client, as_user, env):
    d = Demo(client, as_user)
    doc_id = d.draft()["id"]
    d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": _any_stage(d)})
    heads = {u: as_user(u) for u in ("truongphong", "chutich")}
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def act(username: str) -> None:
        barrier.wait()
        results[username] = client.post(f"/api/v1/documents/{doc_id}/review", headers=heads[username],
                                        json={"decision": "approve"})

    threads = [threading.Thread(target=act, args=(u,)) for u in heads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in results.values())
    assert codes == [200, 409], [r.text for r in results.values()]
    loser = next(r for r in results.values() if r.status_code == 409)
    assert loser.headers["content-type"].startswith("application/problem+json")
    wf = d.workflow(doc_id)
    assert wf["status"] == "approved"
    assert sorted(s["status"] for s in wf["rounds"][0]["steps"]) == ["approved", "skipped"]
    with db_session(env) as s:
        approvals = s.scalars(select(AuditEvent).where(AuditEvent.object_id == doc_id,
                                                       AuditEvent.action == "workflow.review.approve")).all()
        assert len(approvals) == 1


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_interleaved_approvals_loser_hits_the_version_check(client, as_user, env):
    """Reviewer B has read the pending step and decided; reviewer A's approval commits before B's
    write reaches the database: B's write is refused by the version columns (StaleDataError, which
    the API answers with 409) and B's retry is an invalid transition (409). PostgreSQL only: SQLite
    serialises whole write transactions (BEGIN IMMEDIATE), so this interleaving cannot occur there."""
    from sqlalchemy import event

    from ioffice.kernel.db import make_engine, make_session_factory

    d = Demo(client, as_user)
    doc_id = d.draft()["id"]
    d.post("chuyenvien", f"/api/v1/documents/{doc_id}/submit", {"stages": _any_stage(d)})
    engine = make_engine(env.database_url)
    factory = make_session_factory(engine)

    def approve_as(session, username: str):
        user = session.scalar(select(User).where(User.username == username))
        return routing.decide(session, caller=Caller.of(user),
                              document_id=doc_id, decision="approve")

    def reviewer_a() -> None:
        with factory() as a, a.begin():
            approve_as(a, "truongphong")

    try:
        b = factory()
        fired = []

        @event.listens_for(b, "before_flush")
        def _let_a_win(session, ctx, instances):
            if not fired:
                fired.append(True)
                t = threading.Thread(target=reviewer_a)
                t.start()
                t.join()

        with pytest.raises(StaleDataError):
            approve_as(b, "chutich")
        assert fired
        b.rollback()
        with pytest.raises(Conflict) as exc:
            approve_as(b, "chutich")
        assert exc.value.status == 409
        b.rollback()
        b.close()
    finally:
        engine.dispose()
    wf = d.workflow(doc_id)
    assert wf["status"] == "approved"
    assert {s["reviewer_id"]: s["status"] for s in wf["rounds"][0]["steps"]} == {
        d.user["truongphong"]: "approved", d.user["chutich"]: "skipped"}
