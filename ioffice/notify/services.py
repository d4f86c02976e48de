"""Notifications: in-app rows written in the event's transaction, e-mail queued for after commit.

``notify`` adds one ``Notification`` row per recipient (so it commits or rolls back with the state
change) and queues an :class:`OutgoingMail` on the session for recipients that have an e-mail
address. The core never sends: an adapter implementing :class:`Notifier` (``api.mailer``) takes the
queue with :func:`take_outbox` after the commit and delivers it outside the transaction. A rollback
discards the queue (:func:`discard_outbox`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, cast, runtime_checkable

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from ioffice.accounts.models import User
from ioffice.kernel.db import utcnow
from ioffice.kernel.errors import NotFound
from ioffice.notify.models import Notification

OUTBOX_KEY = "ioffice.outbox"


@dataclass(frozen=True)
class OutgoingMail:
    """An e-mail to send after commit: one recipient, Vietnamese subject and plain-text body."""

    to: str
    to_name: str
    subject: str
    body: str


@runtime_checkable
class Notifier(Protocol):
    """Delivers e-mails outside any transaction. Implementations never raise to the caller."""

    def send(self, mails: list[OutgoingMail]) -> None:
        ...


def notify(
    session: Session, *, org_id: str, user_ids: Iterable[str], kind: str, title: str, body: str = "",
    document_id: str | None = None, exclude: Iterable[str] = (),
) -> list[Notification]:
    """Write a notification for each distinct user of ``org_id`` in ``user_ids`` (minus ``exclude``)
    and queue e-mail for those with an address. Unknown or foreign users are ignored."""
    skip = set(exclude)
    ids = [u for u in dict.fromkeys(user_ids) if u and u not in skip]
    if not ids:
        return []
    users = session.scalars(select(User).where(User.id.in_(ids), User.org_id == org_id, User.is_active.is_(True)))
    out: list[Notification] = []
    outbox: list[OutgoingMail] = session.info.setdefault(OUTBOX_KEY, [])
    for user in users:
        n = Notification(org_id=org_id, user_id=user.id, kind=kind, title=title, body=body, document_id=document_id)
        session.add(n)
        out.append(n)
        if user.email:
            text = f"Kính gửi {user.full_name},\n\n{body or title}\n\n— Hệ thống quản lý văn bản ioffice"
            outbox.append(OutgoingMail(to=user.email, to_name=user.full_name, subject=f"[ioffice] {title}", body=text))
    session.flush()
    return out


def take_outbox(session: Session) -> list[OutgoingMail]:
    """Remove and return the e-mails queued on ``session`` (call after a successful commit)."""
    return session.info.pop(OUTBOX_KEY, None) or []


def discard_outbox(session: Session) -> None:
    """Drop queued e-mails (call after a rollback: the events they announce did not happen)."""
    session.info.pop(OUTBOX_KEY, None)


def list_notifications(session: Session, *, user: User, unread_only: bool = False, limit: int = 50,
                       offset: int = 0) -> tuple[list[Notification], int, int]:
    """The user's notifications newest first, the total and the unread count."""
    q = select(Notification).where(Notification.user_id == user.id, Notification.org_id == user.org_id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    unread = session.scalar(select(func.count()).where(Notification.user_id == user.id,
                                                       Notification.read_at.is_(None))) or 0
    rows = session.scalars(q.order_by(Notification.created_at.desc(), Notification.id).limit(limit).offset(offset))
    return list(rows), int(total), int(unread)


def mark_read(session: Session, *, user: User, notification_id: str) -> Notification:
    """Mark one of the user's notifications read (idempotent). Raises NotFound for another's."""
    n = session.get(Notification, notification_id)
    if n is None or n.user_id != user.id:
        raise NotFound("Không tìm thấy thông báo.")
    if n.read_at is None:
        n.read_at = utcnow()
        session.flush()
    return n


def mark_all_read(session: Session, *, user: User) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    # an UPDATE's result is a CursorResult (it has rowcount); Session.execute is typed for any statement
    res = cast(CursorResult[Any], session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())))
    return int(res.rowcount or 0)
