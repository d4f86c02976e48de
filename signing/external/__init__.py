"""External (interrupted) PAdES signing for keys the server never holds.

An official's key lives on a USB token on their own PC. The flow has two stateless steps so the
API layer can persist the session (a DB row for ``state`` + a blob for ``prepared_pdf``):

1. :func:`prepare_external_signature` adds the signature field and a zero-filled ``/Contents``
   placeholder in an incremental update, digests the ``/ByteRange`` and builds the CMS signed
   attributes. The DER of those attributes (``data_to_sign``) goes to the official's tool.
2. :func:`complete_external_signature` checks the session (not expired, same prepared bytes),
   verifies the returned signature value against the certificate's public key, wraps it in a CMS
   ``SignedData`` (signer certificate + chain, optional RFC 3161 signature timestamp) and writes
   it into the placeholder; optionally adds the validation data (DSS) in a further revision.

Built on pyHanko's interrupted signing (``PdfSigner.init_signing_session``,
``PdfTBSDocument.finish_signing``, ``PreparedByteRangeDigest``, ``ExternalSigner``).

Modules: :mod:`.session` (the session and its constants), :mod:`.errors`, :mod:`.certificates`
(the token's certificate and mechanism), :mod:`.prepare` (step 1), :mod:`.complete` (step 2).
"""
from __future__ import annotations

from signing.errors import SignerCertificateRejected

from .complete import async_complete_external_signature, complete_external_signature
from .errors import (
    DocumentNotSignable,
    ExternalSigningError,
    InvalidExternalSignature,
    InvalidSigningSession,
    PreparedDocumentChanged,
    SigningSessionExpired,
)
from .prepare import async_prepare_external_signature, prepare_external_signature
from .session import ExternalSession

__all__ = [
    "ExternalSession",
    "ExternalSigningError",
    "SigningSessionExpired",
    "PreparedDocumentChanged",
    "InvalidExternalSignature",
    "InvalidSigningSession",
    "SignerCertificateRejected",
    "DocumentNotSignable",
    "prepare_external_signature",
    "complete_external_signature",
    "async_prepare_external_signature",
    "async_complete_external_signature",
]
