"""Anchoring the audit chains outside the database.

Whoever can write the database can rewrite a hash chain consistently (edit an event and recompute
every later hash and the head, or cut the tail and rewind the head): the chain alone proves
nothing against them. An *anchor* fixes a chain head where the database cannot reach it: the head
(chain, seq, hash) is timestamped by the agency's RFC 3161 TSA and the token is written as a
write-once record in the object store (S3 object-lock retention; a read-only file on a
filesystem). ``verify_anchors`` then requires every anchored (seq, hash) to still be in its chain
unchanged, and no chain to be shorter than its latest anchor.

What anchoring cannot see: changes to events after the latest anchor (anchor often), and anchors
removed from a store without retention (a filesystem).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.audit.models import AuditEvent, AuditHead
from ioffice.kernel.errors import BlobLocked
from ioffice.kernel.ports import RecordStore, TimestampAuthority

log = logging.getLogger("ioffice.audit")

ANCHOR_PREFIX = "audit-anchors"
_VERSION = "ioffice-audit-anchor-v1"


@dataclass(frozen=True)
class Anchor:
    name: str  # the record's name in the object store
    chain: str
    seq: int
    hash: str
    token: bytes  # DER RFC 3161 TimeStampToken over ``imprint(chain, seq, hash)``


@dataclass(frozen=True)
class AnchorProblem:
    chain: str
    anchor: str
    reason: str


def imprint(chain: str, seq: int, head_hash: str) -> bytes:
    """The SHA-256 digest the TSA timestamps for a chain head."""
    return hashlib.sha256(f"{_VERSION}\n{chain}\n{seq}\n{head_hash}".encode()).digest()


def _chain_dir(chain: str) -> str:
    # chain names are organisation ids or "_system": safe record segments
    return f"{ANCHOR_PREFIX}/{chain}"


def record_name(chain: str, seq: int) -> str:
    return f"{_chain_dir(chain)}/{seq:015d}.json"


def _encode(anchor: Anchor, at: datetime) -> bytes:
    body = {"format": _VERSION, "chain": anchor.chain, "seq": anchor.seq, "hash": anchor.hash,
            "timestamped_at": at.isoformat(), "token": base64.b64encode(anchor.token).decode()}
    return json.dumps(body, sort_keys=True, indent=1).encode()


def _decode(name: str, data: bytes) -> Anchor:
    body = json.loads(data)
    if body.get("format") != _VERSION:
        raise ValueError("unknown anchor format")
    return Anchor(name=name, chain=str(body["chain"]), seq=int(body["seq"]), hash=str(body["hash"]),
                  token=base64.b64decode(body["token"], validate=True))


def anchor_chains(session: Session, records: RecordStore, tsa: TimestampAuthority) -> list[Anchor]:
    """Timestamp the head of every chain that moved since its latest anchor and store the anchors.

    Returns the anchors written (none when every head is already anchored). Raises
    ServiceUnavailable (TSA) or StorageUnavailable; anchors written before the failure stay.
    """
    written: list[Anchor] = []
    heads = session.execute(select(AuditHead.chain, AuditHead.seq, AuditHead.hash)
                            .where(AuditHead.seq > 0).order_by(AuditHead.chain)).all()
    for chain, seq, head_hash in heads:
        name = record_name(chain, seq)
        if name in records.list_records(_chain_dir(chain)):
            continue  # this head is anchored already
        token = tsa.stamp(imprint(chain, seq, head_hash))
        at = tsa.check(token, imprint(chain, seq, head_hash))
        anchor = Anchor(name=name, chain=chain, seq=int(seq), hash=head_hash, token=token)
        try:
            records.put_record(name, _encode(anchor, at))
        except BlobLocked:
            continue  # another process anchored the same head a moment ago
        log.info("audit chain %s anchored at seq %d (%s)", chain, seq, at.isoformat())
        written.append(anchor)
    return written


def load_anchors(records: RecordStore) -> tuple[list[Anchor], list[AnchorProblem]]:
    """Every anchor in the store (and a problem for each record that is not a readable anchor)."""
    anchors: list[Anchor] = []
    problems: list[AnchorProblem] = []
    for name in records.list_records(ANCHOR_PREFIX):
        try:
            anchor = _decode(name, records.read_record(name))
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(AnchorProblem(name.split("/")[1] if "/" in name else "?", name,
                                          f"anchor record is unreadable ({type(exc).__name__})"))
            continue
        if name != record_name(anchor.chain, anchor.seq):
            problems.append(AnchorProblem(anchor.chain, name, "anchor record is stored under a wrong name"))
            continue
        anchors.append(anchor)
    return anchors, problems


def verify_anchors(session: Session, records: RecordStore, tsa: TimestampAuthority) -> tuple[int, list[AnchorProblem]]:
    """Check every chain against its anchors. Returns (anchors checked, problems: for each chain the
    earliest anchor it no longer matches, and every unreadable or unverifiable anchor)."""
    anchors, problems = load_anchors(records)
    heads = dict(session.execute(select(AuditHead.chain, AuditHead.seq)).tuples().all())
    broken: set[str] = set()
    for a in sorted(anchors, key=lambda a: (a.chain, a.seq)):
        try:
            tsa.check(a.token, imprint(a.chain, a.seq, a.hash))
        except ValueError as exc:
            problems.append(AnchorProblem(a.chain, a.name, f"timestamp token does not verify: {exc}"))
            continue
        if a.chain in broken:
            continue
        head = heads.get(a.chain, 0)
        stored = session.execute(select(AuditEvent.hash).where(AuditEvent.chain == a.chain,
                                                               AuditEvent.seq == a.seq)).scalar_one_or_none()
        reason = None
        if head < a.seq:
            reason = f"chain ends at seq {head} but was anchored at seq {a.seq} (tail removed, head rewound)"
        elif stored is None:
            reason = f"anchored event seq {a.seq} is missing from the chain"
        elif stored != a.hash:
            reason = f"event seq {a.seq} no longer has the anchored hash (chain rewritten after anchoring)"
        if reason:
            broken.add(a.chain)
            problems.append(AnchorProblem(a.chain, a.name, reason))
    return len(anchors), problems
