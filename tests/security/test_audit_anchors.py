"""The audit chain survives its database: heads anchored by RFC 3161 timestamps in object storage.

Whoever can write the database can rewrite the hash chain consistently (the chain check alone
passes); ``ioffice audit verify`` must still fail, naming the anchor that the rewrite broke.
"""
from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import delete, select, update

from api.cli import main
from ioffice.audit.models import AuditEvent, AuditHead
from ioffice.audit.services import event_hash, verify_chains
from ioffice.kernel.db import make_engine, make_session_factory

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def cli(env, monkeypatch, capsys):
    monkeypatch.setenv("IOFFICE_DATA_DIR", str(env.data_dir))
    monkeypatch.setenv("IOFFICE_DATABASE_URL", env.database_url)

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["audit", *args])
        out = capsys.readouterr()
        return code, out.out + out.err

    return run


def _busiest_chain(env) -> tuple[str, int]:
    engine = make_engine(env.database_url)
    with make_session_factory(engine)() as s:
        chain, seq = s.execute(select(AuditHead.chain, AuditHead.seq).order_by(AuditHead.seq.desc())).first()
    engine.dispose()
    return chain, seq


def _activity(client, as_user, upload, n: int = 2) -> None:
    for _ in range(n):
        doc = upload()
        client.get(f"/api/v1/documents/{doc['id']}/content", headers=as_user("vanthu"))


def _chain_still_consistent(env) -> None:
    """The rewrite is consistent: the in-database check alone does not see it."""
    engine = make_engine(env.database_url)
    with make_session_factory(engine)() as s:
        _, problems = verify_chains(s)
    engine.dispose()
    assert problems == []


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_untouched_chain_passes_against_its_anchors(client, as_user, upload, env, cli):
    _activity(client, as_user, upload)
    code, out = cli("anchor")
    assert code == 0 and "timestamped" in out, out
    chain, seq = _busiest_chain(env)
    record = env.data_dir / "blobs" / "records" / "audit-anchors" / chain / f"{seq:015d}.json"
    assert record.is_file()
    assert not record.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # read-only
    # nothing moved: anchoring again writes nothing
    code, out = cli("anchor")
    assert code == 0 and "0 chain head" in out
    _activity(client, as_user, upload, 1)  # events after the anchor are fine
    code, out = cli("verify")
    assert code == 0, out
    assert "OK" in out and "anchors" in out


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_truncated_tail_with_rewound_head_fails_verify(client, as_user, upload, env, cli):
    _activity(client, as_user, upload)
    assert cli("anchor")[0] == 0
    chain, seq = _busiest_chain(env)
    keep = seq - 3
    engine = make_engine(env.database_url)
    with engine.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.chain == chain, AuditEvent.seq > keep))
        last = conn.scalar(select(AuditEvent.hash).where(AuditEvent.chain == chain, AuditEvent.seq == keep))
        conn.execute(update(AuditHead).where(AuditHead.chain == chain).values(seq=keep, hash=last))
    engine.dispose()
    _chain_still_consistent(env)

    code, out = cli("verify")
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("BROKEN")]
    assert lines == [f"BROKEN chain={chain} anchor=audit-anchors/{chain}/{seq:015d}.json: chain ends at seq "
                     f"{keep} but was anchored at seq {seq} (tail removed, head rewound)"], out


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
def test_edited_event_with_recomputed_chain_fails_verify(client, as_user, upload, env, cli):
    _activity(client, as_user, upload)
    assert cli("anchor")[0] == 0
    chain, seq = _busiest_chain(env)
    engine = make_engine(env.database_url)
    with make_session_factory(engine)() as s:  # rewrite event 2 and every hash after it, then the head
        events = s.execute(select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)).scalars().all()
        events[1].actor_name = "someone-else"
        prev = events[0].hash
        for ev in events[1:]:
            ev.prev_hash = prev
            ev.hash = event_hash(ev)
            prev = ev.hash
        head = s.get(AuditHead, chain)
        head.hash = prev
        s.commit()
    engine.dispose()
    _chain_still_consistent(env)

    code, out = cli("verify")
    assert code == 1
    assert (f"BROKEN chain={chain} anchor=audit-anchors/{chain}/{seq:015d}.json: event seq {seq} no longer has "
            f"the anchored hash (chain rewritten after anchoring)") in out.splitlines(), out


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_anchor_cannot_be_overwritten_and_a_forged_one_is_refused(client, as_user, upload, env, cli):
    from ioffice.kernel.errors import BlobLocked
    from storage import FilesystemBlobStore

    _activity(client, as_user, upload, 1)
    assert cli("anchor")[0] == 0
    chain, seq = _busiest_chain(env)
    store = FilesystemBlobStore(env.data_dir / "blobs")
    name = f"audit-anchors/{chain}/{seq:015d}.json"
    original = store.read_record(name)
    with pytest.raises(BlobLocked):
        store.put_record(name, original.replace(b'"hash"', b'"hash" ', 1))
    assert store.read_record(name) == original

    # an anchor made up from a genuine token of another head (the imprint does not match) is reported
    body = json.loads(original)
    body["seq"] = seq - 1
    forged = f"audit-anchors/{chain}/{seq - 1:015d}.json"
    store.put_record(forged, json.dumps(body).encode())
    code, out = cli("verify")
    assert code == 1
    assert (f"BROKEN chain={chain} anchor={forged}: timestamp token does not verify: token covers another chain "
            f"head (imprint mismatch)") in out.splitlines(), out
