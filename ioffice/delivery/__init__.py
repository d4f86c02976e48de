"""Delivery of issued documents to other agencies of this installation."""
from .models import ACCEPTED, ASSIGNED, COMPLETED, PROCESSING, RECEIVED, REJECTED, STATUS_LABELS, DeliveryReceipt  # noqa: F401
from .services import deliver, effective_status, list_deliveries, receipt_for, report_status, resolve_recipients  # noqa: F401
