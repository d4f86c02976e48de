"""Append-only audit events forming one SHA-256 hash chain per organisation.

``record`` is called inside the transaction of the state change it describes, so the event and the
change commit or roll back together. The events are linked into the chain as the transaction
commits (``before_commit``): the chain head row is locked (``FOR UPDATE`` on PostgreSQL, the
IMMEDIATE transaction on SQLite) so concurrent writers never fork the chain, and it stays locked
only for the append and the commit — not for the rest of the request's work.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent, AuditHead
from ioffice.kernel.caller import Caller
from ioffice.kernel.db import utcnow

GENESIS = "0" * 64
SYSTEM_CHAIN = "_system"


def _canonical(ev: AuditEvent) -> bytes:
    body = {
        "chain": ev.chain,
        "seq": ev.seq,
        "org_id": ev.org_id,
        "actor_id": ev.actor_id,
        "actor_name": ev.actor_name,
        "action": ev.action,
        "object_type": ev.object_type,
        "object_id": ev.object_id,
        "client_addr": ev.client_addr,
        "at": ev.at.isoformat(timespec="microseconds"),
        "details": ev.details or {},
        "prev_hash": ev.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def event_hash(ev: AuditEvent) -> str:
    return hashlib.sha256(_canonical(ev)).hexdigest()


_PENDING = "ioffice.audit.pending"  # Session.info key: events recorded in this transaction, not yet chained


def record(
    session: Session,
    *,
    caller: Caller,
    action: str,
    object_type: str | None = None,
    object_id: str | None = None,
    org_id: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Record an event for the chain of ``org_id`` (or the caller's organisation); it is appended
    to the chain (sequence number, hashes) when ``session`` commits, or dropped if it rolls back."""
    org = org_id if org_id is not None else caller.org_id
    ev = AuditEvent(
        chain=org or SYSTEM_CHAIN,
        org_id=org,
        actor_id=caller.user_id,
        actor_name=caller.username,
        action=action,
        object_type=object_type,
        object_id=object_id,
        client_addr=caller.client_addr,
        at=at,
        details=dict(details or {}),
    )
    session.info.setdefault(_PENDING, []).append(ev)
    return ev


def _append(session: Session, events: list[AuditEvent]) -> None:
    """Link ``events`` (in the order recorded) into their chains and flush; heads are locked in
    chain order so two transactions touching the same chains cannot deadlock."""
    by_chain: dict[str, list[AuditEvent]] = {}
    for ev in events:
        by_chain.setdefault(ev.chain, []).append(ev)
    for chain in sorted(by_chain):
        head = session.execute(
            select(AuditHead).where(AuditHead.chain == chain).with_for_update()).scalar_one_or_none()
        if head is None:
            head = AuditHead(chain=chain, seq=0, hash=GENESIS)
            session.add(head)
            session.flush()
        for ev in by_chain[chain]:
            if ev.at is None:
                ev.at = utcnow()
            ev.seq = head.seq + 1
            ev.prev_hash = head.hash
            ev.hash = event_hash(ev)
            head.seq, head.hash = ev.seq, ev.hash
            session.add(ev)
    session.flush()


@event.listens_for(Session, "before_commit")
def _chain_on_commit(session: Session) -> None:
    events = session.info.pop(_PENDING, None)
    if events:
        _append(session, events)


@event.listens_for(Session, "after_rollback")
def _drop_on_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int
    event_id: int
    reason: str


def verify_chains(session: Session) -> tuple[int, list[ChainProblem]]:
    """Recompute every chain. Returns (events checked, problems: the first bad event per chain)."""
    problems: list[ChainProblem] = []
    checked = 0
    chains: list[tuple[str, int, str]] = [
        (c, s, h) for c, s, h in session.execute(select(AuditHead.chain, AuditHead.seq, AuditHead.hash))]
    known = {c for c, _, _ in chains}
    for orphan in session.execute(select(AuditEvent.chain).distinct()).scalars():
        if orphan not in known:
            chains.append((orphan, -1, ""))
    for chain, head_seq, head_hash in chains:
        prev = GENESIS
        expected_seq = 1
        bad = None
        last_hash = GENESIS
        q = select(AuditEvent).where(AuditEvent.chain == chain).order_by(AuditEvent.seq)
        for ev in session.execute(q).scalars():
            checked += 1
            if ev.seq != expected_seq:
                bad = ChainProblem(chain, ev.seq, ev.id, f"missing event before seq {ev.seq} (expected {expected_seq})")
                break
            if ev.prev_hash != prev:
                bad = ChainProblem(chain, ev.seq, ev.id, "prev_hash does not match the previous event")
                break
            if event_hash(ev) != ev.hash:
                bad = ChainProblem(chain, ev.seq, ev.id, "event content does not match its hash (edited)")
                break
            prev = ev.hash
            last_hash = ev.hash
            expected_seq += 1
        if bad is None and head_seq >= 0 and (expected_seq - 1 != head_seq or last_hash != head_hash):
            bad = ChainProblem(chain, expected_seq, -1, "events missing at the end of the chain (head mismatch)")
        if bad:
            problems.append(bad)
    return checked, problems
