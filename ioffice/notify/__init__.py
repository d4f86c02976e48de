"""Notifications: in-app rows, and e-mails queued until the transaction commits."""
from .models import Notification  # noqa: F401
from .services import OUTBOX_KEY, OutgoingMail, Notifier, notify, take_outbox, discard_outbox, list_notifications, mark_read, mark_all_read  # noqa: F401
