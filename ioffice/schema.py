"""Imports every module that defines tables or blob references, so metadata is complete.

Alembic's env.py and the sweeper import this. Add new model modules here (one shared ``Base``).
"""
from __future__ import annotations

from ioffice.accounts import models as _accounts  # noqa: F401
from ioffice.audit import models as _audit  # noqa: F401
from ioffice.delegation import models as _delegation  # noqa: F401
from ioffice.delivery import models as _delivery  # noqa: F401
from ioffice.documents import attachment_models as _attachments
from ioffice.documents import models as _documents
from ioffice.handling import models as _handling  # noqa: F401
from ioffice.kernel.blobrefs import register_blob_reference, register_json_blob_reference
from ioffice.notify import models as _notify  # noqa: F401
from ioffice.registers import counter as _counter  # noqa: F401
from ioffice.registers import models as _registers  # noqa: F401
from ioffice.review import models as _review  # noqa: F401
from ioffice.signatures import models as _signatures  # noqa: F401

register_blob_reference(_documents.DocumentVersion.sha256)
register_blob_reference(_accounts.User.signature_image_sha256)
register_json_blob_reference(_accounts.Organisation.settings)  # seal_image_sha256
register_blob_reference(_attachments.Attachment.sha256)
register_blob_reference(_attachments.Attachment.original_sha256)
from ioffice import copies as _copies  # noqa: E402  (certified and agency electronic copies)

register_blob_reference(_copies.CopyRecord.sha256)
register_blob_reference(_copies.CopyRecord.source_sha256)
from ioffice import batches as _batches  # noqa: E402,F401  (batch signing)
from ioffice import signing_methods as _signing_methods  # noqa: E402,F401  (signing method per official)
