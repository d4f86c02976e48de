"""Registration and issue: arrival and outgoing numbers, the Decree 30 registers."""
from .books import (  # noqa: F401
    COPIES_COLUMNS,
    FOLLOW_UP_COLUMNS,
    INCOMING_COLUMNS,
    OUTGOING_COLUMNS,
    REGISTER_PROVIDERS,
    Register,
    copies_register,
    incoming_register,
    outgoing_register,
)
from .counter import RegisterCounter  # noqa: F401
from .models import IncomingEntry, OutgoingEntry  # noqa: F401
from .numbering import (  # noqa: F401
    REGISTER_KINDS,
    SECRET_SERIES,
    SHARED_SERIES,
    allocate_number,
    build_symbol,
    format_number,
    incoming_series,
    is_secret,
    last_number,
    outgoing_series,
)
from .services import (  # noqa: F401
    IssueInfo,
    IssueResult,
    Registration,
    SealFn,
    date_line,
    date_vn,
    duplicate_key,
    find_duplicate,
    incoming_entry,
    issue_outgoing,
    preview_issue,
    register_incoming,
    return_incoming,
)
