"""Validation engine behind ``ioffice verify`` and ``POST /api/v1/verify``.

``validate_pdf`` never raises: whatever it is given, it returns a :class:`ValidationReport` whose
``to_dict()`` is the JSON report of the outward contract (``verdict``, ``trusted``,
``signatures[...]``, ``copy``) plus a few helpful extra keys (``summary``, ``problems``,
``changes`` — Vietnamese text for people).

How a verdict is reached (conservative: whatever cannot be shown harmless is not ``valid``):

1. The bytes must start like a PDF and be readable by pyHanko's reader (``unreadable`` otherwise).
2. Every filled signature field is checked by our own byte-range rules (starts at 0, the gap is
   exactly the ``/Contents`` hex string inside the signature dictionary, nothing points outside
   the file) and by pyHanko (digest, CMS signature, certificate path with the configured roots,
   timestamp tokens) — any failure is ``invalid``.
3. Every revision after a signature is compared with the signed revision by walking both object
   graphs (pages, their content and resources, annotations and their appearances, form fields,
   the catalog and trailer). Each difference is classified: validation data (DSS), new signatures
   and document timestamps are harmless; filled form fields and added comment annotations are
   ``permitted`` when the DocMDP permissions in force allow them; anything else — new page
   content, a changed appearance, a new overlay annotation, a changed ``/OpenAction`` or
   ``/Names``, removed signatures, bytes after the last ``%%EOF`` — is ``disallowed`` and makes
   the verdict ``modified``, whatever pyHanko's own modification level says. Comments are small
   text/markup annotations or drawing markup (Square, Circle, Line, Ink, Polygon) that only
   stroke thin lines; housekeeping (metadata, /Info, structure tree, outline without actions,
   form defaults /DA, /NeedAppearances over empty fields) is listed but keeps ``valid``. pyHanko's
   difference analysis is also consulted: a change it cannot explain is ``disallowed`` unless our
   analysis attributes it to a comment or housekeeping (which pyHanko does not model). A
   signature that fails, added after a verified one whose later changes are refused, is
   signature spoofing: ``modified``. Padding after the last ``%%EOF`` is reported
   (``valid_with_changes``); anything else there is ``modified``.

Legacy cryptography (``adbe.pkcs7.sha1``, SHA-1 digests, CMS with several SignerInfos) is judged
on integrity like any signature; the weakness makes it untrusted, never ``invalid``. Encrypted
documents that open with the empty user password are validated.

For people, each signature carries ``role``/``role_label`` (personal, seal, number/date stamp,
copy, document timestamp), ``signing_time_vn``/``timestamp_vn`` (Asia/Ho_Chi_Minh) and
``trust_anchor`` (the configured root its chain reaches); the report has ``integrity`` and
``trust`` lines and ``change_regions`` (page, rectangle).

Trust (``trusted``, ``revocation``): the signer's chain must reach one of ``trust_roots``
(never the operating system's list) with a key usage allowing signatures, judged at ``now``; when
a trusted signature timestamp proves an earlier signing time, a certificate revoked or expired
since then is judged at that time instead ("not revoked at signing time"). Revocation data comes
from the DSS, from Adobe-style revocation attributes in the CMS and, only with
``allow_fetching``, from the network. ``revocation`` is ``good`` only when such data covers the
signer's certificate.

PAdES level (``level``) is only given for ``ETSI.CAdES.detached`` signatures (PAdES baseline,
ETSI EN 319 142-1): ``B-B``; ``B-T`` with a valid signature timestamp (or a later document
timestamp); ``B-LT`` when the DSS also holds revocation data for the signer's chain; ``B-LTA``
when a document timestamp was added after that DSS. ``adbe.pkcs7.detached`` and the legacy SHA-1
sub-filters get ``null``. Document timestamps appear in ``signatures`` too, with ``kind``
``document_timestamp``, the TSA's common name as ``signer`` and ``level`` null.

Hostile input: the analysis runs in a child process (forkserver) with a wall-clock limit
(``timeout``) and a memory cap; a crash, a hang or an exhausted budget gives ``unreadable`` (for
files we could not read) — never a traceback.

Modules (after pyHanko's split): :mod:`.report` (the report), :mod:`.entry` (``validate_pdf``),
:mod:`.isolation` (child process, limits), :mod:`.analysis` (the driver), :mod:`.byte_range`,
:mod:`.trust`, :mod:`.levels`, :mod:`.diff` (change rules), :mod:`.verdict`, :mod:`.legacy`
(SHA-1, several SignerInfos), :mod:`.people` (capacity, Vietnam time, trust anchor labels).
"""
from __future__ import annotations

from .entry import validate_pdf
from .limits import MAX_PDF_BYTES
from .report import SUMMARIES, VERDICT_LABELS, VERDICTS, SignatureReport, ValidationReport
from .trust import load_certificates

__all__ = [
    "ValidationReport",
    "SignatureReport",
    "validate_pdf",
    "load_certificates",
    "MAX_PDF_BYTES",
    "VERDICTS",
    "SUMMARIES",
    "VERDICT_LABELS",
]
