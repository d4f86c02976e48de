"""Imports every module that defines tables or blob references, so metadata is complete.

Alembic's env.py and the sweeper import this. Add new model modules here.
"""
from __future__ import annotations

from . import models  # noqa: F401
from .models import DocumentVersion, User
from .sweeper import register_blob_reference

register_blob_reference(DocumentVersion.sha256)
register_blob_reference(User.signature_image_sha256)

# Domain modules that add tables register themselves below (keep one import per line).
from . import registers  # noqa: F401,E402  (registers, numbering, delivery)
from . import notify, delegation, workflow, routing  # noqa: F401,E402  (workflow, routing, notifications)
from . import signatures  # noqa: F401,E402  (signing requests, external signing sessions)
from . import attachments  # noqa: E402  (attachments sent as separate files)

register_blob_reference(attachments.Attachment.sha256)
register_blob_reference(attachments.Attachment.original_sha256)
from . import signing_methods, batches  # noqa: F401,E402  (signing methods per official, batch signing)
