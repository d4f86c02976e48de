"""Delivery of issued documents to other agencies of this installation."""
from .models import RECEIVED, REJECTED, ACCEPTED, ASSIGNED, PROCESSING, COMPLETED, STATUS_LABELS, DeliveryReceipt  # noqa: F401
from .services import resolve_recipients, deliver, receipt_for, report_status, effective_status, list_deliveries  # noqa: F401
