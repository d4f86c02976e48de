"""My tasks and in-app notifications."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from ioffice import notify, tasks

from ..deps import CurrentUser, SessionDep, problem_responses

router = APIRouter(prefix="/api/v1", tags=["tasks"])


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    kind: str
    label: str
    document_id: str
    direction: str
    summary: str
    number_symbol: str | None
    status: str
    due_date: date | None
    overdue: bool
    since: datetime
    step_id: str | None
    assignment_id: str | None
    on_behalf_of: str | None
    details: dict[str, Any]


class TaskList(BaseModel):
    items: list[TaskOut]
    total: int
    overdue: int


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    title: str
    body: str
    document_id: str | None
    created_at: datetime
    read_at: datetime | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    total: int
    unread: int


class ReadAllOut(BaseModel):
    marked: int


@router.get("/tasks", response_model=TaskList, responses=problem_responses(401))
def my_tasks(db: SessionDep, user: CurrentUser) -> TaskList:
    """What waits for the caller: reviews, assignments to handle or pass on, documents to assign
    (leaders), to issue (clerks), returned drafts (drafters). Overdue first, then by due date."""
    items = tasks.my_tasks(db, user=user)
    return TaskList(items=[TaskOut.model_validate(t) for t in items], total=len(items),
                    overdue=sum(1 for t in items if t.overdue))


@router.get("/notifications", response_model=NotificationPage, responses=problem_responses(401, 422))
def list_notifications(
    db: SessionDep,
    user: CurrentUser,
    unread: bool = False,
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
) -> NotificationPage:
    """The caller's notifications, newest first."""
    rows, total, unread_count = notify.list_notifications(db, user=user, unread_only=unread, limit=limit,
                                                          offset=offset)
    return NotificationPage(items=[NotificationOut.model_validate(n) for n in rows], total=total, unread=unread_count)


@router.post("/notifications/{notification_id}/read", response_model=NotificationOut,
             responses=problem_responses(401, 404))
def mark_read(notification_id: str, db: SessionDep, user: CurrentUser) -> NotificationOut:
    """Mark one notification read."""
    return NotificationOut.model_validate(notify.mark_read(db, user=user, notification_id=notification_id))


@router.post("/notifications/read-all", response_model=ReadAllOut, responses=problem_responses(401))
def mark_all_read(db: SessionDep, user: CurrentUser) -> ReadAllOut:
    """Mark every notification of the caller read."""
    return ReadAllOut(marked=notify.mark_all_read(db, user=user))
