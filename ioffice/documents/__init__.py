"""Documents and their versions: upload, lifecycle, listing, attachments."""
from .models import Document, DocumentVersion  # noqa: F401
from .attachment_models import Attachment  # noqa: F401
from .doctypes import DOC_TYPES, ABBREVIATIONS, CONG_VAN, URGENCY, SECRECY, COMPETENCE, resolve_doc_type  # noqa: F401
from .pdfcheck import TAIL, inspect_pdf  # noqa: F401
from .lifecycle import STATUS_LABELS, TRANSITIONS, LIFECYCLE, allowed_actions, can, transition  # noqa: F401
from .steps import STEP_LABELS, STEP_TRANSITIONS, STEPS, step_allowed_actions, step_transition  # noqa: F401
from .rules import touch, check_expected, version_ref, doc_title  # noqa: F401
from .services import DEFAULT_MAX_UPLOAD, DocumentMetadata, sanitize_filename, search_key, store_pdf, create_document, add_version, get_document, current_version, current_versions, get_version, open_content, DocumentFilter, list_documents, refresh_search  # noqa: F401
from .attachments import EDITABLE, add_attachment, list_attachments, get_attachment, sign_attachments  # noqa: F401
