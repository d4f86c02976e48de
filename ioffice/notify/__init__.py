"""Notifications: in-app rows, and e-mails queued until the transaction commits."""
from .models import Notification  # noqa: F401
from .services import (  # noqa: F401
    OUTBOX_KEY,
    Notifier,
    OutgoingMail,
    discard_outbox,
    list_notifications,
    mark_all_read,
    mark_read,
    notify,
    take_outbox,
)
