"""Documents and their versions: upload, lifecycle, listing, attachments."""
from .attachment_models import Attachment  # noqa: F401
from .attachments import EDITABLE, add_attachment, get_attachment, list_attachments, sign_attachments  # noqa: F401
from .doctypes import ABBREVIATIONS, COMPETENCE, CONG_VAN, DOC_TYPES, SECRECY, URGENCY, resolve_doc_type  # noqa: F401
from .lifecycle import LIFECYCLE, STATUS_LABELS, TRANSITIONS, allowed_actions, can, transition  # noqa: F401
from .models import Document, DocumentVersion  # noqa: F401
from .pdfcheck import TAIL, inspect_pdf  # noqa: F401
from .rules import check_expected, doc_title, touch, version_ref  # noqa: F401
from .services import (  # noqa: F401
    DEFAULT_MAX_UPLOAD,
    DocumentFilter,
    DocumentMetadata,
    add_version,
    create_document,
    current_version,
    get_document,
    get_version,
    list_documents,
    list_page,
    open_content,
    refresh_search,
    sanitize_filename,
    search_key,
    store_pdf,
)
from .steps import STEP_LABELS, STEP_TRANSITIONS, STEPS, step_allowed_actions, step_transition  # noqa: F401
