"""Registration and issue: arrival and outgoing numbers, the Decree 30 registers."""
from .models import IncomingEntry, OutgoingEntry  # noqa: F401
from .counter import RegisterCounter  # noqa: F401
from .services import duplicate_key, date_vn, date_line, Registration, find_duplicate, register_incoming, return_incoming, incoming_entry, IssueInfo, SealFn, IssueResult, issue_outgoing, preview_issue  # noqa: F401
from .numbering import REGISTER_KINDS, SHARED_SERIES, SECRET_SERIES, allocate_number, last_number, is_secret, outgoing_series, incoming_series, format_number, build_symbol  # noqa: F401
from .books import Register, INCOMING_COLUMNS, OUTGOING_COLUMNS, COPIES_COLUMNS, FOLLOW_UP_COLUMNS, REGISTER_PROVIDERS, incoming_register, outgoing_register, copies_register  # noqa: F401
