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
   the verdict ``modified``, whatever pyHanko's own modification level says. pyHanko's difference
   analysis is also consulted: a change it cannot explain is ``disallowed`` unless our analysis
   attributes it to a permitted comment annotation (which pyHanko does not model).

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
"""
from __future__ import annotations

import asyncio
import io
import logging
import multiprocessing
import re
import sys
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Sequence

logger = logging.getLogger(__name__)

__all__ = [
    "ValidationReport",
    "SignatureReport",
    "validate_pdf",
    "load_certificates",
    "MAX_PDF_BYTES",
    "VERDICTS",
]

MAX_PDF_BYTES = 100 * 1024 * 1024
"""Default cap on the size of a document we agree to analyse."""

VERDICTS = ("valid", "valid_with_changes", "modified", "invalid", "no_signature", "unreadable")

_CHILD_MEMORY_LIMIT = 2 * 1024 * 1024 * 1024  # address space of the analysis process
_MAX_GRAPH_NODES = 3_000_000  # object-graph nodes we agree to compare per revision pair
_MAX_DEPTH = 400  # nesting depth of PDF objects we agree to follow
_MAX_PAGES = 20_000
_MAX_REVISIONS = 1_000
_MAX_SIGNATURES = 200

SUMMARIES = {
    "valid": "Tài liệu có chữ ký số hợp lệ, không bị thay đổi sau khi ký.",
    "valid_with_changes": (
        "Tài liệu có chữ ký số hợp lệ; sau khi ký chỉ có những thay đổi được người ký cho phép "
        "(điền biểu mẫu hoặc thêm ghi chú)."
    ),
    "modified": (
        "Tài liệu đã bị sửa đổi sau khi ký: nội dung hiển thị hiện nay có thể khác với nội dung "
        "đã được ký. Không nên tin cậy tài liệu này."
    ),
    "invalid": (
        "Chữ ký số trên tài liệu không hợp lệ: tài liệu đã bị thay đổi hoặc chữ ký bị làm giả, "
        "hỏng. Không nên tin cậy tài liệu này."
    ),
    "no_signature": "Tài liệu PDF này không có chữ ký số.",
    "unreadable": "Không đọc được tệp: tệp không phải là tài liệu PDF hoặc đã bị hỏng.",
}

VERDICT_LABELS = {
    "valid": "Hợp lệ",
    "valid_with_changes": "Hợp lệ, có thay đổi được phép sau khi ký",
    "modified": "Đã bị sửa đổi sau khi ký",
    "invalid": "Chữ ký không hợp lệ",
    "no_signature": "Không có chữ ký số",
    "unreadable": "Không đọc được tệp",
}


# --------------------------------------------------------------------------------------------
# Report model
# --------------------------------------------------------------------------------------------


@dataclass
class SignatureReport:
    """One signature (or document timestamp) of the document, as the contract describes it."""

    field: str
    signer: str | None = None
    signing_time: str | None = None
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    revocation: str = "unknown"  # good | revoked | unknown
    coverage: str = "partial"  # entire_file | entire_revision | partial
    changes_after: str = "none"  # none | permitted | disallowed
    level: str | None = None  # B-B | B-T | B-LT | B-LTA | None
    timestamp: str | None = None
    # extras (not in the contract's minimum, stable nonetheless)
    kind: str = "signature"  # signature | document_timestamp
    subfilter: str | None = None
    certified: bool = False
    docmdp: int | None = None
    revision: int | None = None
    issuer: str | None = None
    problems: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ValidationReport:
    """The whole report; ``to_dict()`` gives the contract's JSON object (``copy`` left None)."""

    verdict: str
    trusted: bool = False
    signatures: list[SignatureReport] = field(default_factory=list)
    copy: dict[str, Any] | None = None
    summary: str = ""
    problems: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    revisions: int | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not self.summary:
            self.summary = SUMMARIES.get(self.verdict, "")

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS.get(self.verdict, self.verdict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "trusted": self.trusted,
            "signatures": [s.to_dict() for s in self.signatures],
            "copy": self.copy,
            "summary": self.summary,
            "verdict_label": self.verdict_label,
            "problems": list(self.problems),
            "changes": list(self.changes),
            "revisions": self.revisions,
            "sha256": self.sha256,
        }


def _unreadable(problem: str, **kw: Any) -> ValidationReport:
    return ValidationReport(verdict="unreadable", trusted=False, problems=[problem], **kw)


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def load_certificates(source: Any) -> list[bytes]:
    """DER bytes of every certificate in ``source``.

    ``source`` may be a cryptography or asn1crypto certificate, DER/PEM bytes, a path to a PEM/DER
    file or to a folder of them (non-certificate files are skipped), or an iterable of these.
    Raises ``ValueError`` for a path that does not exist.
    """
    out: list[bytes] = []
    if source is None:
        return out
    if isinstance(source, (str, Path)):
        p = Path(source)
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if child.is_file():
                    try:
                        out.extend(_certs_from_bytes(child.read_bytes()))
                    except (OSError, ValueError):
                        continue
            return out
        if not p.exists():
            raise ValueError(f"không tìm thấy tệp chứng thư: {p}")
        return _certs_from_bytes(p.read_bytes())
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _certs_from_bytes(bytes(source))
    # cryptography certificate
    pb = getattr(source, "public_bytes", None)
    if callable(pb):
        from cryptography.hazmat.primitives.serialization import Encoding

        return [pb(Encoding.DER)]
    dump = getattr(source, "dump", None)
    if callable(dump):  # asn1crypto
        return [dump()]
    if isinstance(source, Iterable):
        for item in source:
            out.extend(load_certificates(item))
        return out
    raise ValueError("không nhận dạng được chứng thư số")


def _certs_from_bytes(data: bytes) -> list[bytes]:
    from asn1crypto import pem, x509

    if pem.detect(data):
        ders = [der for _t, _h, der in pem.unarmor(data, multiple=True) if _t == "CERTIFICATE"]
    else:
        ders = [data]
    out = []
    for der in ders:
        try:
            x509.Certificate.load(der).native  # force a full parse
        except Exception as exc:  # noqa: BLE001 - any parse error means "not a certificate"
            raise ValueError("tệp không chứa chứng thư số hợp lệ") from exc
        out.append(der)
    return out


def _read_source(source: bytes | BinaryIO | Path | str, max_bytes: int) -> bytes:
    """The document's bytes, at most ``max_bytes`` + 1 of them. Raises OSError for a bad path."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[: max_bytes + 1])
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            return fh.read(max_bytes + 1)
    data = source.read(max_bytes + 1)
    return bytes(data or b"")


def validate_pdf(
    source: bytes | BinaryIO | Path,
    *,
    trust_roots: Sequence[Any] = (),
    other_certs: Sequence[Any] = (),
    allow_fetching: bool = False,
    now: datetime | None = None,
    timeout: float = 10,
    max_bytes: int = MAX_PDF_BYTES,
    isolate: bool = True,
) -> ValidationReport:
    """Validate every signature of a PDF and judge what happened after each was applied.

    ``trust_roots``/``other_certs`` accept cryptography or asn1crypto certificates, DER/PEM bytes
    or paths. With ``allow_fetching=False`` nothing touches the network: revocation data comes
    from the document (DSS, CMS) only. ``now`` is the validation time (default: now).
    ``timeout`` bounds the whole analysis (wall clock); ``isolate`` runs it in a child process so
    that a hostile document can neither hang nor crash the caller.

    Never raises: a source that cannot be read gives an ``unreadable`` report too (callers that
    must tell "missing file" apart check the path themselves, as the CLI does).
    """
    try:
        data = _read_source(source, max_bytes)
    except Exception:  # noqa: BLE001
        return _unreadable("Không đọc được tệp.")
    if len(data) > max_bytes:
        return _unreadable(f"Tệp lớn hơn giới hạn cho phép ({max_bytes // (1024 * 1024)} MB).")
    roots: list[bytes] = []
    others: list[bytes] = []
    for target, given in ((roots, trust_roots), (others, other_certs)):
        items = [given] if isinstance(given, (str, Path, bytes, bytearray)) else list(given or ())
        for item in items:
            try:
                target.extend(load_certificates(item))
            except Exception:  # noqa: BLE001 - a bad root is skipped (never trusted), not fatal
                logger.warning("ignoring an unreadable trust root / certificate")
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    job = _Job(data=data, roots=roots, others=others, allow_fetching=allow_fetching, now=now,
               fetch_timeout=min(float(timeout), 10.0))
    if isolate:
        result = _run_isolated(job, timeout)
        if result is not None:
            return result
    return _run_in_thread(job, timeout)


@dataclass
class _Job:
    data: bytes
    roots: list[bytes]
    others: list[bytes]
    allow_fetching: bool
    now: datetime | None
    fetch_timeout: float


def _timeout_report(data: bytes) -> ValidationReport:
    rep = _unreadable("Phân tích tài liệu vượt quá thời gian cho phép; tệp có thể đã bị làm hỏng "
                      "có chủ ý.")
    rep.sha256 = _sha256(data)
    return rep


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# imported once in the fork server, so that each analysis process starts warm
_PRELOAD = [
    "signing.validation", "asn1crypto.cms", "asn1crypto.ocsp", "asn1crypto.crl",
    "asn1crypto.tsp", "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.asymmetric.ec", "pyhanko_certvalidator",
    "pyhanko.pdf_utils.reader", "pyhanko.sign.fields", "pyhanko.sign.validation",
    "pyhanko.sign.validation.pdf_embedded", "pyhanko.sign.validation.dss",
    "pyhanko.sign.diff_analysis", "pyhanko.sign.validation.settings",
]

_mp_lock = threading.Lock()
_mp_context: Any = None


def _get_context() -> Any:
    global _mp_context
    with _mp_lock:
        if _mp_context is None:
            ctx = multiprocessing.get_context("forkserver")
            try:
                ctx.set_forkserver_preload(["__main__", *_PRELOAD])
            except Exception:  # noqa: BLE001
                pass
            _mp_context = ctx
        return _mp_context


def _child_main(conn: Any, job: _Job) -> None:
    """Entry point of the analysis process: cap memory, analyse, send the report back."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _CHILD_MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(
            hard, _CHILD_MEMORY_LIMIT)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except Exception:  # noqa: BLE001
        pass
    logging.disable(logging.CRITICAL)
    try:
        rep = _analyse_safely(job)
        conn.send(rep)
    except BaseException:  # noqa: BLE001 - the child must always answer or die quietly
        try:
            conn.send(None)
        except Exception:  # noqa: BLE001
            pass
    finally:
        conn.close()


def _run_isolated(job: _Job, timeout: float) -> ValidationReport | None:
    """Analyse in a child process; None when no child process can be started."""
    try:
        ctx = _get_context()
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child_main, args=(child, job), daemon=True)
        proc.start()
        child.close()
    except Exception:  # noqa: BLE001 - e.g. inside a daemonic worker
        logger.debug("cannot start an isolated validation process", exc_info=True)
        return None
    try:
        if parent.poll(max(float(timeout), 0.1)):
            try:
                rep = parent.recv()
            except Exception:  # noqa: BLE001 - child died mid-send (memory cap, crash)
                rep = None
            proc.join(5)
            if isinstance(rep, ValidationReport):
                return rep
            out = _unreadable("Tệp quá phức tạp hoặc bị hỏng, không phân tích được.")
            out.sha256 = _sha256(job.data)
            return out
        return _timeout_report(job.data)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join(5)
        parent.close()


def _run_in_thread(job: _Job, timeout: float) -> ValidationReport:
    """Fallback without a child process: a daemon thread we stop waiting for at ``timeout``."""
    box: list[ValidationReport] = []

    def target() -> None:
        box.append(_analyse_safely(job))

    t = threading.Thread(target=target, daemon=True, name=_THREAD_NAME)
    t.start()
    t.join(max(float(timeout), 0.1))
    if box:
        return box[0]
    return _timeout_report(job.data)


class _QuietAnalysisThread(logging.Filter):
    """Drops library log records (with their tracebacks) emitted by the analysis thread: every
    finding ends up in the report; an untrusted certificate is not an operational error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != _THREAD_NAME


_THREAD_NAME = "pdf-validation"
_quiet = _QuietAnalysisThread()


def _quiet_library_loggers() -> None:
    """Attach the filter to every pyHanko logger (filters do not apply to child loggers)."""
    for name, lg in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith("pyhanko") and isinstance(lg, logging.Logger) \
                and _quiet not in lg.filters:
            lg.addFilter(_quiet)


def _analyse_safely(job: _Job) -> ValidationReport:
    try:
        return _Analysis(job).run()
    except RecursionError:
        rep = _unreadable("Cấu trúc tài liệu lồng nhau quá sâu, không phân tích được.")
    except MemoryError:
        rep = _unreadable("Tài liệu vượt quá giới hạn bộ nhớ khi phân tích.")
    except Exception:  # noqa: BLE001
        logger.debug("validation failed", exc_info=True)
        rep = _unreadable("Tệp bị hỏng, không phân tích được.")
    rep.sha256 = _sha256(job.data)
    return rep


# --------------------------------------------------------------------------------------------
# Object graph comparison
# --------------------------------------------------------------------------------------------


class _TooComplex(Exception):
    """The document exceeds what we agree to compare."""


class _Graph:
    """Structural digests of objects as they are in one revision (cycle- and bomb-safe)."""

    def __init__(self, resolver: Any) -> None:
        self.resolver = resolver
        self.memo: dict[tuple[int, int], str] = {}
        self.in_progress: set[tuple[int, int]] = set()
        self.nodes = 0

    def digest(self, obj: Any, exclude: frozenset[str] = frozenset(), depth: int = 0) -> str:
        import hashlib

        from pyhanko.pdf_utils import generic

        self.nodes += 1
        if self.nodes > _MAX_GRAPH_NODES or depth > _MAX_DEPTH:
            raise _TooComplex()
        if isinstance(obj, generic.IndirectObject):
            ref = obj.reference
            key = (ref.idnum, ref.generation)
            if key in self.in_progress:
                return f"cycle:{key[0]}:{key[1]}"
            if not exclude and key in self.memo:
                return self.memo[key]
            self.in_progress.add(key)
            try:
                d = self.digest(obj.get_object(), exclude, depth + 1)
            finally:
                self.in_progress.discard(key)
            if not exclude:
                self.memo[key] = d
            return d
        h = hashlib.sha256()
        if isinstance(obj, generic.StreamObject):
            h.update(b"S")
            h.update(self._dict_digest(obj, exclude, depth).encode())
            h.update(hashlib.sha256(obj.encoded_data or b"").digest())
        elif isinstance(obj, generic.DictionaryObject):
            if "/ByteRange" in obj and "/Contents" in obj:
                # a signature dictionary: its identity is its signed bytes. Its /Reference
                # entries point back at the catalog (/Data), which later revisions change
                # legitimately; overriding the dictionary itself breaks its own coverage.
                h.update(b"SIG")
                for key in ("/ByteRange", "/Contents"):
                    h.update(self.digest(obj.raw_get(key), frozenset(), depth + 1).encode())
                return h.hexdigest()
            h.update(b"D")
            h.update(self._dict_digest(obj, exclude, depth).encode())
        elif isinstance(obj, generic.ArrayObject):
            h.update(b"A")
            for item in obj:
                h.update(self.digest(item, frozenset(), depth + 1).encode())
                h.update(b",")
        elif isinstance(obj, (generic.TextStringObject, generic.ByteStringObject)):
            h.update(b"s")
            h.update(bytes(obj.original_bytes))
        elif isinstance(obj, generic.NameObject):
            h.update(b"n" + str(obj).encode("utf-8", "surrogateescape"))
        elif isinstance(obj, generic.BooleanObject):
            h.update(b"b1" if obj else b"b0")
        elif isinstance(obj, generic.NullObject) or obj is None:
            h.update(b"null")
        else:
            h.update(b"v" + repr(obj).encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    def _dict_digest(self, d: Any, exclude: frozenset[str], depth: int) -> str:
        from pyhanko.pdf_utils import generic

        parts = []
        for key in sorted(d.keys()):
            if key in exclude or key == "/Parent":
                continue
            raw = d.raw_get(key)
            # back-links to the page from annotations would make every digest depend on the
            # whole page tree; pages are compared separately
            if key == "/P" and isinstance(raw, generic.IndirectObject):
                continue
            parts.append(f"{key}={self.digest(raw, frozenset(), depth + 1)}")
        return "|".join(parts)


def _pget(d: Any, key: str, default: Any = None) -> Any:
    """``d[key]`` dereferenced (pyHanko's ``dict.get`` returns raw indirect objects)."""
    try:
        if key in d:
            return d[key]
    except Exception:  # noqa: BLE001
        return default
    return default


def _deref(obj: Any) -> Any:
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.IndirectObject):
        return obj.get_object()
    return obj


def _ref_key(obj: Any) -> tuple[int, int] | None:
    from pyhanko.pdf_utils import generic

    if isinstance(obj, generic.IndirectObject):
        return (obj.reference.idnum, obj.reference.generation)
    return None


_INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


def _collect_pages(root: Any) -> list[tuple[Any, Any, dict[str, Any]]]:
    """Pages of a revision in order: (raw ref-or-dict, page dict, inherited attributes)."""
    from pyhanko.pdf_utils import generic

    pages: list[tuple[Any, Any, dict[str, Any]]] = []
    seen: set[tuple[int, int]] = set()

    def walk(node_raw: Any, inherited: dict[str, Any], depth: int) -> None:
        if depth > 64 or len(pages) > _MAX_PAGES:
            raise _TooComplex()
        key = _ref_key(node_raw)
        if key is not None:
            if key in seen:
                raise _TooComplex()
            seen.add(key)
        node = _deref(node_raw)
        if not isinstance(node, generic.DictionaryObject):
            return
        inh = dict(inherited)
        for k in _INHERITABLE:
            if k in node:
                inh[k] = node.raw_get(k)
        if _pget(node, "/Type") == "/Pages" or "/Kids" in node:
            kids = _deref(node.raw_get("/Kids")) if "/Kids" in node else []
            if not isinstance(kids, generic.ArrayObject):
                return
            for kid in kids:
                walk(kid, inh, depth + 1)
        else:
            pages.append((node_raw, node, inh))

    walk(root.raw_get("/Pages"), {}, 0)
    return pages


@dataclass
class _FieldInfo:
    name: str
    ftype: str | None
    raw: Any
    obj: Any
    widgets: list[Any]


def _collect_fields(root: Any) -> dict[str, _FieldInfo]:
    """Terminal and non-terminal form fields by fully qualified name."""
    from pyhanko.pdf_utils import generic

    out: dict[str, _FieldInfo] = {}
    try:
        acro = root["/AcroForm"]
        top = acro["/Fields"]
    except (KeyError, TypeError):
        return out
    seen: set[tuple[int, int]] = set()
    counter = [0]

    def walk(arr: Any, parent_name: str, parent_ft: str | None, depth: int) -> list[Any]:
        widgets_here: list[Any] = []
        arr = _deref(arr)
        if not isinstance(arr, generic.ArrayObject) or depth > 64:
            return widgets_here
        for raw in arr:
            counter[0] += 1
            if counter[0] > 200_000:
                raise _TooComplex()
            key = _ref_key(raw)
            if key is not None:
                if key in seen:
                    raise _TooComplex()
                seen.add(key)
            node = _deref(raw)
            if not isinstance(node, generic.DictionaryObject):
                continue
            ft = _pget(node, "/FT", parent_ft)
            ft = str(ft) if ft is not None else None
            if "/T" not in node:
                # a bare widget of the parent field
                widgets_here.append(raw)
                continue
            try:
                name = str(node["/T"])
            except Exception:  # noqa: BLE001
                name = "?"
            fq = f"{parent_name}.{name}" if parent_name else name
            info = _FieldInfo(name=fq, ftype=ft, raw=raw, obj=node, widgets=[])
            if _pget(node, "/Subtype") == "/Widget":
                info.widgets.append(raw)
            if "/Kids" in node:
                info.widgets.extend(walk(node.raw_get("/Kids"), fq, ft, depth + 1))
            if fq in out:
                fq = f"{fq}#{counter[0]}"
                info.name = fq
            out[fq] = info
        return widgets_here

    walk(top, "", None, 0)
    return out


_COMMENT_SUBTYPES = {"/Text", "/Popup", "/Highlight", "/Underline", "/Squiggly", "/StrikeOut",
                     "/Caret"}
_MAX_COMMENT_AREA_RATIO = 0.05


def _rect_area(obj: Any) -> float:
    try:
        x1, y1, x2, y2 = (float(v) for v in obj["/Rect"])
        return abs(x2 - x1) * abs(y2 - y1)
    except Exception:  # noqa: BLE001
        return -1.0


def _page_area(inh: dict[str, Any], page: Any) -> float:
    try:
        box = _deref(page.raw_get("/MediaBox")) if "/MediaBox" in page else _deref(
            inh.get("/MediaBox"))
        x1, y1, x2, y2 = (float(v) for v in box)
        return abs(x2 - x1) * abs(y2 - y1)
    except Exception:  # noqa: BLE001
        return 612.0 * 792.0


def _has_visible_appearance(annot: Any) -> bool:
    """Whether an annotation can paint anything (non-empty normal appearance, non-zero rect)."""
    from pyhanko.pdf_utils import generic

    if _rect_area(annot) == 0:
        return False
    try:
        flags = int(_pget(annot, "/F", 0))
    except Exception:  # noqa: BLE001
        flags = 0
    if flags & 2:  # Hidden
        return False
    ap = _pget(annot, "/AP")
    if not isinstance(ap, generic.DictionaryObject):
        return False
    n = _pget(ap, "/N")
    streams = []
    if isinstance(n, generic.StreamObject):
        streams = [n]
    elif isinstance(n, generic.DictionaryObject):
        streams = [v for v in (_pget(n, k) for k in n.keys())
                   if isinstance(v, generic.StreamObject)]
    for s in streams:
        if (s.encoded_data or b"").strip():
            return True
    return False


@dataclass
class _Change:
    kind: str  # signature | timestamp | dss | info | empty_sig_field | form_fill | annotation | disallowed
    text: str
    field_name: str | None = None


# --------------------------------------------------------------------------------------------
# The analysis
# --------------------------------------------------------------------------------------------

_HEX_RE = re.compile(rb"[0-9A-Fa-f\s]*")


class _Analysis:
    def __init__(self, job: _Job) -> None:
        self.job = job
        self.data = job.data
        self.report = ValidationReport(verdict="unreadable", sha256=_sha256(job.data))
        self.now = job.now or datetime.now(timezone.utc)

    # -- driver ----------------------------------------------------------------------------
    def run(self) -> ValidationReport:
        rep = self.report
        head = self.data[:1024]
        if b"%PDF-" not in head:
            rep.problems.append("Tệp không phải là tài liệu PDF.")
            return rep
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import pdf_embedded  # noqa: F401 - loggers exist now

        _quiet_library_loggers()
        try:
            reader = PdfFileReader(io.BytesIO(self.data), strict=False)
            if reader.encrypted:
                try:
                    result = reader.decrypt(b"")
                    if getattr(getattr(result, "status", None), "name", "FAILED") == "FAILED":
                        raise PermissionError("password required")
                except Exception:  # noqa: BLE001
                    rep.problems.append("Tài liệu được mã hóa bằng mật khẩu, không kiểm tra được.")
                    return rep
            root = reader.root
            total = reader.total_revisions
            _ = _pget(root, "/Pages")
        except Exception:  # noqa: BLE001
            rep.problems.append("Tệp PDF bị hỏng, không đọc được.")
            return rep
        self.reader = reader
        self.total = total
        rep.revisions = total
        if total > _MAX_REVISIONS:
            rep.problems.append(f"Tệp có quá nhiều phiên bản ({total}), không phân tích được.")
            return rep

        try:
            sig_fields = self._signature_fields()
        except Exception:  # noqa: BLE001
            rep.problems.append("Không đọc được danh sách chữ ký trong tài liệu.")
            return rep
        if len(sig_fields) > _MAX_SIGNATURES:
            rep.problems.append(f"Tệp có quá nhiều chữ ký ({len(sig_fields)}), không phân tích "
                                "được.")
            return rep
        earlier_names = self._signature_names_in_history()
        current_names = {name for name, _v, _f in sig_fields}
        removed = sorted(earlier_names - current_names)

        if not sig_fields and not removed:
            rep.verdict = "no_signature"
            rep.summary = SUMMARIES["no_signature"]
            return rep

        asyncio.run(self._validate_all(sig_fields))
        self._decide(removed)
        return rep

    def _signature_fields(self) -> list[tuple[str, Any, Any]]:
        from pyhanko.sign.fields import enumerate_sig_fields

        return list(enumerate_sig_fields(self.reader, filled_status=True))

    def _signature_names_in_history(self) -> set[str]:
        from pyhanko.sign.fields import enumerate_sig_fields

        names: set[str] = set()
        for rev in range(max(self.total - 1, 0)):
            try:
                hist = self.reader.get_historical_resolver(rev)
                names.update(n for n, _v, _f in enumerate_sig_fields(hist, filled_status=True))
            except Exception:  # noqa: BLE001
                continue
        return names

    # -- per signature -----------------------------------------------------------------------
    async def _validate_all(self, sig_fields: list[tuple[str, Any, Any]]) -> None:
        self.items: list[dict[str, Any]] = []
        for name, _value, field_ref in sig_fields:
            item = await self._validate_one(name, field_ref)
            self.items.append(item)
        self.items.sort(key=lambda it: (it["revision"] if it["revision"] is not None else -1))
        self._certification_p = self._certification_level()
        for it in self.items:
            if it["checked_ok"] and it["report"].coverage == "entire_revision":
                self._judge_changes(it)
        self._assign_levels()
        self.report.signatures = [it["report"] for it in self.items]

    async def _validate_one(self, name: str, field_ref: Any) -> dict[str, Any]:
        from pyhanko.pdf_utils import generic

        rep = SignatureReport(field=name)
        item: dict[str, Any] = {"report": rep, "revision": None, "emb": None, "status": None,
                                "checked_ok": False, "vc": None, "fatal": False}
        try:
            fdict = _deref(field_ref)
            raw_v = fdict.raw_get("/V")
            sig_obj = _deref(raw_v)
        except Exception:  # noqa: BLE001
            rep.problems.append("Không đọc được từ điển chữ ký.")
            item["fatal"] = True
            return item
        if not isinstance(sig_obj, generic.DictionaryObject):
            rep.problems.append("Giá trị của trường chữ ký không phải là từ điển chữ ký.")
            item["fatal"] = True
            return item
        sig_type = str(_pget(sig_obj, "/Type", "/Sig"))
        subfilter = _pget(sig_obj, "/SubFilter")
        rep.subfilter = str(subfilter)[1:] if subfilter is not None else None
        if sig_type == "/DocTimeStamp":
            rep.kind = "document_timestamp"

        # 1. our own byte-range checks
        br_problems = self._check_byte_range(raw_v, sig_obj)
        if br_problems:
            rep.problems.extend(br_problems)
            item["fatal"] = True
        if isinstance(raw_v, generic.IndirectObject):
            try:
                item["revision"] = self.reader.xrefs.get_last_change(raw_v.reference)
                rep.revision = item["revision"]
            except Exception:  # noqa: BLE001
                pass

        supported = {"/adbe.pkcs7.detached", "/ETSI.CAdES.detached", "/PBAD.PAdES",
                     "/ETSI.RFC3161"}
        if subfilter not in supported:
            rep.problems.append(
                f"Định dạng chữ ký {rep.subfilter or '(không khai báo)'} đã lỗi thời hoặc không "
                "được hỗ trợ; không thể xác minh chữ ký này.")
            item["fatal"] = True
            self._fill_signer_from_cms(rep, sig_obj)
            return item
        if sig_type not in ("/Sig", "/DocTimeStamp"):
            rep.problems.append("Loại từ điển chữ ký không hợp lệ.")
            item["fatal"] = True
            return item

        # 2. pyHanko
        from pyhanko.sign.validation import EmbeddedPdfSignature
        from pyhanko.sign.validation.pdf_embedded import (
            async_validate_pdf_signature,
            async_validate_pdf_timestamp,
        )

        try:
            emb = EmbeddedPdfSignature(self.reader, fdict, name)
            _ = emb.signer_cert
        except Exception:  # noqa: BLE001
            rep.problems.append("Không phân tích được dữ liệu chữ ký (CMS) — chữ ký bị hỏng "
                                "hoặc giả mạo.")
            item["fatal"] = True
            return item
        item["emb"] = emb
        item["revision"] = emb.signed_revision
        rep.revision = emb.signed_revision
        if item["fatal"]:
            self._fill_signer(rep, emb.signer_cert)
            return item
        vc = self._validation_context(emb)
        item["vc"] = vc
        async def lib_validate(skip_diff: bool) -> Any:
            if rep.kind == "document_timestamp":
                return await async_validate_pdf_timestamp(emb, validation_context=vc,
                                                          skip_diff=skip_diff)
            return await async_validate_pdf_signature(
                emb, signer_validation_context=vc, ts_validation_context=vc,
                skip_diff=skip_diff, key_usage_settings=_signer_key_usage())

        try:
            try:
                status = await lib_validate(False)
            except Exception:  # noqa: BLE001 - the library's diff analysis choked on a revision
                logger.debug("pyHanko diff analysis failed", exc_info=True)
                item["lib_diff_failed"] = True
                emb = EmbeddedPdfSignature(self.reader, fdict, name)
                item["emb"] = emb
                status = await lib_validate(True)
        except Exception:  # noqa: BLE001
            logger.debug("pyHanko validation failed", exc_info=True)
            rep.problems.append("Không xác minh được chữ ký: dữ liệu chữ ký không hợp lệ.")
            item["fatal"] = True
            try:
                self._fill_signer(rep, emb.signer_cert)
            except Exception:  # noqa: BLE001
                pass
            return item
        item["status"] = status
        trust_status, trust_vc = status, vc
        poe = _proven_signing_time(status)
        if poe is not None and rep.kind == "signature" and (not status.trusted or status.revoked):
            # a trusted signature timestamp proves the signature existed at ``poe``: judge the
            # certificate (expiry, revocation) at that time, as PAdES long-term validation does
            try:
                emb2 = EmbeddedPdfSignature(self.reader, fdict, name)
                vc2 = self._validation_context(emb2, moment=poe)
                st2 = await async_validate_pdf_signature(
                    emb2, signer_validation_context=vc2, ts_validation_context=vc,
                    skip_diff=True, key_usage_settings=_signer_key_usage())
                if st2.intact and st2.valid:
                    trust_status, trust_vc = st2, vc2
                    if status.revoked and not st2.revoked:
                        rd = status.revocation_details.revocation_date
                        rep.problems.append(
                            "Chứng thư số của người ký đã bị thu hồi sau thời điểm ký "
                            f"({rd.isoformat() if rd else 'không rõ ngày'}); chữ ký vẫn có giá "
                            "trị vì dấu thời gian chứng minh đã ký trước đó.")
            except Exception:  # noqa: BLE001
                logger.debug("point-in-time revalidation failed", exc_info=True)
        self._fill_from_status(rep, status, emb, vc, trust_status, trust_vc)
        cov = status.coverage
        from pyhanko.sign.validation.status import SignatureCoverageLevel as C

        if cov == C.ENTIRE_FILE:
            rep.coverage = "entire_file"
        elif cov == C.ENTIRE_REVISION:
            rep.coverage = "entire_revision"
        else:
            rep.coverage = "partial"
        if cov == C.UNCLEAR or cov is None:
            rep.problems.append("Vùng dữ liệu được ký (ByteRange) bất thường.")
            item["fatal"] = True
        elif cov == C.CONTIGUOUS_BLOCK_FROM_START:
            rep.problems.append("Chữ ký không bao trùm trọn vẹn phiên bản tài liệu được ký; phần "
                                "còn lại của tệp không phải là bản cập nhật hợp lệ.")
            rep.changes_after = "disallowed"
        if not (rep.intact and rep.valid):
            item["fatal"] = True
        item["checked_ok"] = not item["fatal"]
        return item

    # -- byte range ------------------------------------------------------------------------------
    def _check_byte_range(self, raw_v: Any, sig_obj: Any) -> list[str]:
        from pyhanko.pdf_utils import generic

        problems: list[str] = []
        data = self.data
        size = len(data)
        bad = "Vùng dữ liệu được ký (ByteRange) bất thường: "
        try:
            br = _pget(sig_obj, "/ByteRange")
            br = _deref(br)
        except Exception:  # noqa: BLE001
            br = None
        if not isinstance(br, generic.ArrayObject) or len(br) != 4:
            return [bad + "thiếu hoặc sai định dạng."]
        try:
            vals = [_deref(v) for v in br]
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
                return [bad + "chứa giá trị không phải số nguyên."]
            a, b, c, d = (int(v) for v in vals)
        except Exception:  # noqa: BLE001
            return [bad + "không đọc được."]
        if a != 0:
            problems.append(bad + "không bắt đầu từ đầu tệp.")
        if b <= 0 or c <= 0 or d < 0:
            problems.append(bad + "độ dài không hợp lệ.")
        if c < b:
            problems.append(bad + "các đoạn chồng lấn nhau.")
        if c + d > size or b > size:
            problems.append(bad + "trỏ ra ngoài tệp.")
        if problems:
            return problems
        gap = data[b:c]
        if len(gap) < 2 or gap[:1] != b"<" or gap[-1:] != b">" or not _HEX_RE.fullmatch(gap[1:-1]):
            problems.append(bad + "khoảng trống không phải đúng chuỗi /Contents.")
            return problems
        try:
            contents = sig_obj.raw_get("/Contents")
            contents = _deref(contents)
        except Exception:  # noqa: BLE001
            contents = None
        if not isinstance(contents, (generic.TextStringObject, generic.ByteStringObject)):
            problems.append("Chữ ký không có dữ liệu /Contents.")
            return problems
        value = bytes(contents.original_bytes)
        if not value.strip(b"\x00"):
            problems.append("Dữ liệu chữ ký /Contents rỗng.")
            return problems
        try:
            gap_value = bytes.fromhex(re.sub(rb"\s", b"", gap[1:-1]).decode())
        except ValueError:
            gap_value = None
        if gap_value != value:
            problems.append(bad + "khoảng trống không chứa dữ liệu /Contents của chữ ký này.")
            return problems
        # the gap must lie inside the signature dictionary's own object
        if isinstance(raw_v, generic.IndirectObject):
            try:
                rev = self.reader.xrefs.get_last_change(raw_v.reference)
                loc = self.reader.xrefs.get_historical_ref(raw_v.reference, rev)
            except Exception:  # noqa: BLE001
                loc = None
            if not isinstance(loc, int):
                problems.append(bad + "không xác định được vị trí từ điển chữ ký.")
            elif not (loc < b and b"endobj" not in data[loc:b]):
                problems.append(bad + "khoảng trống nằm ngoài từ điển chữ ký.")
        else:
            problems.append("Từ điển chữ ký phải là đối tượng gián tiếp.")
        return problems

    # -- trust ------------------------------------------------------------------------------------
    def _dss(self) -> Any:
        if not hasattr(self, "_dss_cache"):
            from pyhanko.sign.validation.dss import DocumentSecurityStore

            try:
                self._dss_cache = DocumentSecurityStore.read_dss(self.reader)
            except Exception:  # noqa: BLE001
                self._dss_cache = None
        return self._dss_cache

    def _validation_context(self, emb: Any, moment: datetime | None = None) -> Any:
        from asn1crypto import x509
        from pyhanko_certvalidator import ValidationContext

        roots = [x509.Certificate.load(d) for d in self.job.roots]
        others = [x509.Certificate.load(d) for d in self.job.others]
        ocsps: list[Any] = []
        crls: list[Any] = []
        dss = self._dss()
        if dss is not None:
            try:
                others.extend(dss.load_certs())
            except Exception:  # noqa: BLE001
                pass
            for ref in list(getattr(dss, "ocsps", []) or []):
                try:
                    from asn1crypto import ocsp as a_ocsp

                    ocsps.append(a_ocsp.OCSPResponse.load(_deref(ref).data))
                except Exception:  # noqa: BLE001
                    continue
            for ref in list(getattr(dss, "crls", []) or []):
                try:
                    from asn1crypto import crl as a_crl

                    crls.append(a_crl.CertificateList.load(_deref(ref).data))
                except Exception:  # noqa: BLE001
                    continue
        # revocation data archived inside the CMS signed attributes (Adobe style)
        try:
            for attr in emb.signer_info["signed_attrs"]:
                if attr["type"].native == "adobe_revocation_info_archival":
                    for val in attr["values"]:
                        for c in val["crl"] or []:
                            crls.append(c)
                        for o in val["ocsp"] or []:
                            ocsps.append(o)
        except Exception:  # noqa: BLE001
            pass
        kwargs: dict[str, Any] = dict(
            trust_roots=roots, other_certs=others, allow_fetching=self.job.allow_fetching,
            revocation_mode="soft-fail", crls=crls, ocsps=ocsps, moment=moment or self.now,
            retroactive_revinfo=True,
        )
        if self.job.allow_fetching:
            try:
                from pyhanko_certvalidator.fetchers.requests_fetchers import (
                    RequestsFetcherBackend,
                )

                kwargs["fetcher_backend"] = RequestsFetcherBackend(
                    per_request_timeout=self.job.fetch_timeout)
            except Exception:  # noqa: BLE001
                pass
        return ValidationContext(**kwargs)

    def _fill_signer(self, rep: SignatureReport, cert: Any) -> None:
        try:
            subj = cert.subject
            cn = subj.native.get("common_name")
            if isinstance(cn, list):
                cn = cn[0]
            rep.signer = cn or subj.human_friendly
            icn = cert.issuer.native.get("common_name")
            rep.issuer = (icn[0] if isinstance(icn, list) else icn) or cert.issuer.human_friendly
        except Exception:  # noqa: BLE001
            pass

    def _fill_signer_from_cms(self, rep: SignatureReport, sig_obj: Any) -> None:
        try:
            from asn1crypto import cms

            raw = bytes(sig_obj.raw_get("/Contents").original_bytes)
            sd = cms.ContentInfo.load(raw)["content"]
            certs = [c.chosen for c in sd["certificates"]]
            sid = sd["signer_infos"][0]["sid"]
            for c in certs:
                if sid.name == "issuer_and_serial_number" and c.serial_number == sid.chosen[
                        "serial_number"].native:
                    self._fill_signer(rep, c)
                    return
            if certs:
                self._fill_signer(rep, certs[0])
        except Exception:  # noqa: BLE001
            pass

    def _fill_from_status(self, rep: SignatureReport, st: Any, emb: Any, vc: Any,
                          trust_st: Any = None, trust_vc: Any = None) -> None:
        trust_st = trust_st or st
        trust_vc = trust_vc or vc
        self._fill_signer(rep, st.signing_cert)
        rep.intact = bool(st.intact)
        rep.valid = bool(st.valid)
        if not rep.intact:
            rep.problems.append("Tài liệu đã bị thay đổi sau khi ký: giá trị băm không khớp.")
        elif not rep.valid:
            rep.problems.append("Chữ ký số không đúng về mặt mật mã.")
        trusted = bool(trust_st.trusted) and not trust_st.revoked
        if rep.kind == "document_timestamp":
            ts = getattr(st, "timestamp", None)
            rep.timestamp = ts.isoformat() if ts else None
            rep.signing_time = rep.timestamp
        else:
            sr = getattr(st, "signer_reported_dt", None)
            rep.signing_time = sr.isoformat() if sr else None
            tsv = getattr(st, "timestamp_validity", None)
            if tsv is not None:
                rep.timestamp = tsv.timestamp.isoformat() if tsv.timestamp else None
                if not (tsv.intact and tsv.valid):
                    rep.valid = False
                    rep.problems.append("Dấu thời gian của chữ ký không hợp lệ.")
                elif not tsv.trusted:
                    trusted = False
                    rep.problems.append("Dấu thời gian của chữ ký không do đơn vị cấp dấu thời "
                                        "gian tin cậy cấp.")
            if getattr(st, "seed_value_constraint_error", None) is not None:
                rep.problems.append("Chữ ký không tuân thủ ràng buộc của trường chữ ký.")
        rep.revocation = self._revocation(trust_st, trust_vc)
        if rep.revocation == "revoked":
            trusted = False
            rep.problems.append("Chứng thư số của người ký đã bị thu hồi.")
        elif not trusted and rep.intact and rep.valid and not trust_st.trusted:
            rep.problems.append("Chứng thư số của người ký không chuỗi được tới một tổ chức "
                                "chứng thực gốc được tin cậy (hoặc đã hết hạn, sai mục đích "
                                "sử dụng).")
        rep.trusted = trusted and rep.intact and rep.valid
        rep.docmdp = int(emb.docmdp_level.value) if emb.docmdp_level is not None else None

    def _revocation(self, st: Any, vc: Any) -> str:
        if st.revoked:
            return "revoked"
        moment = getattr(vc, "moment", None)
        cert = st.signing_cert
        try:
            serial = cert.serial_number
            issuer = cert.issuer
            found_good = False
            for resp in vc.ocsps:
                try:
                    basic = resp["response_bytes"]["response"].parsed
                    for single in basic["tbs_response_data"]["responses"]:
                        if single["cert_id"]["serial_number"].native != serial:
                            continue
                        status = single["cert_status"].name
                        if status == "revoked":
                            when = single["cert_status"].chosen["revocation_time"].native
                            if moment is None or when is None or when <= moment:
                                return "revoked"
                            found_good = True
                            continue
                        if status == "good":
                            found_good = True
                except Exception:  # noqa: BLE001
                    continue
            for crl in vc.crls:
                try:
                    if crl.issuer != issuer:
                        continue
                    revoked = crl["tbs_cert_list"]["revoked_certificates"]
                    for entry in revoked or []:
                        if entry["user_certificate"].native == serial:
                            when = entry["revocation_date"].native
                            if moment is None or when is None or when <= moment:
                                return "revoked"
                    found_good = True
                except Exception:  # noqa: BLE001
                    continue
            if found_good and st.validation_path is not None:
                return "good"
        except Exception:  # noqa: BLE001
            pass
        return "unknown"

    def _has_revinfo_in_dss(self, cert: Any) -> bool:
        dss = self._dss()
        if dss is None:
            return False
        from asn1crypto import crl as a_crl
        from asn1crypto import ocsp as a_ocsp

        for ref in list(getattr(dss, "ocsps", []) or []):
            try:
                resp = a_ocsp.OCSPResponse.load(_deref(ref).data)
                basic = resp["response_bytes"]["response"].parsed
                for single in basic["tbs_response_data"]["responses"]:
                    if single["cert_id"]["serial_number"].native == cert.serial_number:
                        return True
            except Exception:  # noqa: BLE001
                continue
        for ref in list(getattr(dss, "crls", []) or []):
            try:
                crl = a_crl.CertificateList.load(_deref(ref).data)
                if crl.issuer == cert.issuer:
                    return True
            except Exception:  # noqa: BLE001
                continue
        return False

    # -- levels ------------------------------------------------------------------------------------
    def _assign_levels(self) -> None:
        doc_ts = [it for it in self.items
                  if it["report"].kind == "document_timestamp" and it["checked_ok"]
                  and it["revision"] is not None]
        for it in self.items:
            rep = it["report"]
            if rep.kind != "signature" or rep.subfilter != "ETSI.CAdES.detached":
                rep.level = None
                continue
            if not it["checked_ok"]:
                rep.level = None
                continue
            st = it["status"]
            level = "B-B"
            rev = it["revision"] if it["revision"] is not None else -1
            later_ts = [t for t in doc_ts if t["revision"] > rev]
            tsv = getattr(st, "timestamp_validity", None)
            if (tsv is not None and tsv.intact and tsv.valid) or later_ts:
                level = "B-T"
                chain = [st.signing_cert]
                if st.validation_path is not None:
                    try:
                        chain = [c for c in st.validation_path.iter_certs(include_root=False)]
                    except Exception:  # noqa: BLE001
                        pass
                if self._dss() is not None and all(
                        self._has_revinfo_in_dss(c) for c in chain if _declares_revinfo(c)):
                    level = "B-LT"
                    for t in later_ts:
                        try:
                            hist = self.reader.get_historical_resolver(t["revision"])
                            if "/DSS" in hist.root:
                                level = "B-LTA"
                                break
                        except Exception:  # noqa: BLE001
                            continue
            rep.level = level

    # -- modifications -----------------------------------------------------------------------
    def _certification_level(self) -> int | None:
        for it in self.items:
            emb = it["emb"]
            if emb is None:
                continue
            try:
                perms = _pget(self.reader.root, "/Perms")
                if perms is not None and "/DocMDP" in perms:
                    ref = perms.raw_get("/DocMDP")
                    if _ref_key(ref) == _ref_key(emb.sig_field.raw_get("/V")):
                        it["report"].certified = True
                        if emb.docmdp_level is not None:
                            return int(emb.docmdp_level.value)
            except Exception:  # noqa: BLE001
                continue
        return None

    def _judge_changes(self, it: dict[str, Any]) -> None:
        rep: SignatureReport = it["report"]
        emb = it["emb"]
        signed_rev = it["revision"]
        levels = [p for p in (self._certification_p, rep.docmdp) if p is not None]
        docmdp = min(levels) if levels else None
        try:
            changes = self._diff(signed_rev, self.total - 1, docmdp, emb)
        except _TooComplex:
            changes = [_Change("disallowed", "Tài liệu quá phức tạp để chứng minh các thay đổi "
                                             "sau khi ký là vô hại.")]
        except RecursionError:
            changes = [_Change("disallowed", "Cấu trúc tài liệu lồng nhau quá sâu.")]
        except Exception:  # noqa: BLE001
            logger.debug("diff failed", exc_info=True)
            changes = [_Change("disallowed", "Không phân tích được các thay đổi sau khi ký.")]

        # pyHanko's own difference analysis as a second opinion
        st = it["status"]
        try:
            from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel

            dr = st.diff_result
            lib_other = bool(it.get("lib_diff_failed")) or (
                dr is not None and (not isinstance(dr, DiffResult)
                                    or dr.modification_level == ModificationLevel.OTHER))
        except Exception:  # noqa: BLE001
            lib_other = True
        kinds = {c.kind for c in changes}
        if lib_other and "disallowed" not in kinds and "annotation" not in kinds:
            changes.append(_Change("disallowed", "Có thay đổi sau khi ký không giải thích được "
                                                 "(phân tích của thư viện pyHanko)."))
            kinds.add("disallowed")

        for c in changes:
            if c.kind in ("form_fill", "annotation", "disallowed", "empty_sig_field"):
                rep.changes.append(c.text)
        if "disallowed" in kinds:
            rep.changes_after = "disallowed"
        elif kinds & {"form_fill", "annotation"}:
            rep.changes_after = "permitted"
        else:
            rep.changes_after = "none"
        it["changes"] = changes

    def _diff(self, old_rev: int, new_rev: int, docmdp: int | None, emb: Any) -> list[_Change]:
        """Classify every difference between the signed revision and the final one."""
        changes: list[_Change] = []
        if new_rev <= old_rev:
            return changes
        old_r = self.reader.get_historical_resolver(old_rev)
        new_r = self.reader.get_historical_resolver(new_rev)
        og, ng = _Graph(old_r), _Graph(new_r)
        old_root, new_root = old_r.root, new_r.root
        fieldmdp = None
        try:
            fieldmdp = emb.fieldmdp
        except Exception:  # noqa: BLE001
            pass
        validated = {it["report"].field: it for it in self.items}

        def dis(text: str) -> None:
            changes.append(_Change("disallowed", text))

        # trailer
        otr, ntr = old_r.trailer_view, new_r.trailer_view
        for key in set(otr.keys()) | set(ntr.keys()):
            if key in ("/Root", "/Size", "/Prev", "/ID", "/XRefStm", "/Type", "/Length",
                       "/Filter", "/DecodeParms", "/W", "/Index"):
                continue
            if key == "/Info":
                if self._differs(og, ng, otr, ntr, key):
                    changes.append(_Change("info", "Thông tin mô tả tài liệu (/Info) được cập "
                                                   "nhật."))
                continue
            if self._differs(og, ng, otr, ntr, key):
                dis(f"Phần trailer của tệp bị thay đổi ({key}).")

        # catalog
        for key in set(old_root.keys()) | set(new_root.keys()):
            if key in ("/Pages", "/AcroForm"):
                continue
            if not self._differs(og, ng, old_root, new_root, key):
                continue
            if key == "/DSS":
                changes.append(_Change("dss", "Bổ sung dữ liệu kiểm tra hiệu lực (DSS)."))
            elif key in ("/Extensions", "/Version"):
                changes.append(_Change("info", f"Khai báo phiên bản/mở rộng PDF ({key}) được "
                                               "cập nhật."))
            elif key == "/Metadata":
                changes.append(_Change("info", "Siêu dữ liệu XMP được cập nhật."))
            elif key in ("/OpenAction", "/AA"):
                dis("Tài liệu được gắn thêm hành động tự động khi mở (/OpenAction, /AA).")
            elif key == "/Names":
                dis("Danh mục tên của tài liệu (/Names: JavaScript, tệp đính kèm, đích đến…) bị "
                    "thay đổi.")
            elif key == "/OCProperties":
                dis("Cấu hình lớp nội dung (/OCProperties) bị thay đổi: có thể ẩn/hiện nội dung.")
            elif key == "/Perms":
                dis("Quyền hạn của tài liệu (/Perms) bị thay đổi.")
            else:
                dis(f"Danh mục gốc của tài liệu bị thay đổi ({key}).")

        # form fields
        widget_changes_ok: set[tuple[int, int]] = set()
        new_widget_kinds: dict[tuple[int, int], str] = {}
        self._diff_acroform(og, ng, old_root, new_root, docmdp, fieldmdp, validated, changes,
                            widget_changes_ok, new_widget_kinds)

        # pages
        old_pages = _collect_pages(old_root)
        new_pages = _collect_pages(new_root)
        if len(old_pages) != len(new_pages):
            dis(f"Số trang thay đổi từ {len(old_pages)} thành {len(new_pages)}.")
        for idx, ((_or, op, oinh), (_nr, np_, ninh)) in enumerate(zip(old_pages, new_pages),
                                                                  start=1):
            od = self._page_digest(og, op, oinh)
            nd = self._page_digest(ng, np_, ninh)
            if od != nd:
                dis(f"Nội dung hoặc tài nguyên của trang {idx} bị thay đổi.")
            self._diff_annots(og, ng, op, np_, idx, ninh, docmdp, changes, widget_changes_ok,
                              new_widget_kinds)
        return changes

    @staticmethod
    def _differs(og: _Graph, ng: _Graph, od: Any, nd: Any, key: str) -> bool:
        o = od.raw_get(key) if key in od else None
        n = nd.raw_get(key) if key in nd else None
        if o is None or n is None:
            return (o is None) != (n is None)
        return og.digest(o) != ng.digest(n)

    @staticmethod
    def _page_digest(g: _Graph, page: Any, inh: dict[str, Any]) -> str:
        # /Tabs (annotation tab order) is set by some signing tools when they add a widget
        base = g.digest(page, exclude=frozenset({"/Annots", "/Tabs", *_INHERITABLE}))
        parts = [base]
        for k in _INHERITABLE:
            v = page.raw_get(k) if k in page else inh.get(k)
            parts.append(f"{k}={g.digest(v) if v is not None else '-'}")
        return "|".join(parts)

    def _diff_acroform(self, og: _Graph, ng: _Graph, old_root: Any, new_root: Any,
                       docmdp: int | None, fieldmdp: Any, validated: dict[str, Any],
                       changes: list[_Change], widget_changes_ok: set[tuple[int, int]],
                       new_widget_kinds: dict[tuple[int, int], str]) -> None:
        from pyhanko.pdf_utils import generic

        def dis(text: str) -> None:
            changes.append(_Change("disallowed", text))

        oa = _pget(old_root, "/AcroForm") if "/AcroForm" in old_root else None
        na = _pget(new_root, "/AcroForm") if "/AcroForm" in new_root else None
        if oa is not None and na is None:
            dis("Biểu mẫu (AcroForm) của tài liệu bị xóa.")
            return
        if na is None:
            return
        if not isinstance(na, generic.DictionaryObject):
            dis("Biểu mẫu (AcroForm) không hợp lệ.")
            return
        oa_d = oa if isinstance(oa, generic.DictionaryObject) else generic.DictionaryObject()
        for key in set(oa_d.keys()) | set(na.keys()):
            if key == "/Fields":
                continue
            if not self._differs(og, ng, oa_d, na, key):
                continue
            if key == "/SigFlags":
                continue
            if key == "/DR" and self._dr_only_added(og, ng, oa_d, na):
                continue
            if key == "/NeedAppearances":
                dis("Biểu mẫu bị đặt /NeedAppearances: trình xem sẽ vẽ lại hình thức các "
                    "trường.")
            elif key == "/XFA":
                dis("Biểu mẫu XFA bị thêm hoặc thay đổi.")
            else:
                dis(f"Thiết lập biểu mẫu bị thay đổi ({key}).")

        old_fields = _collect_fields(old_root)
        new_fields = _collect_fields(new_root)
        for name in old_fields:
            if name not in new_fields:
                dis(f"Trường biểu mẫu “{name}” bị xóa.")
        value_keys = frozenset({"/V", "/Kids", "/AP", "/AS", "/M"})
        for name, nf in new_fields.items():
            of = old_fields.get(name)
            is_sig = nf.ftype == "/Sig"
            if of is None:
                if not is_sig:
                    dis(f"Thêm trường biểu mẫu mới “{name}”.")
                    continue
                kind = self._new_sig_field_kind(nf, validated)
                for w in nf.widgets:
                    k = _ref_key(w)
                    if k is not None:
                        new_widget_kinds[k] = kind
                if kind == "signature_field_visible_unsigned":
                    dis(f"Thêm trường chữ ký trống “{name}” có hình thức hiển thị che lên "
                        "trang.")
                elif kind == "signature":
                    if docmdp == 1:
                        dis(f"Thêm chữ ký “{name}” trong khi người chứng nhận không cho phép "
                            "bất kỳ thay đổi nào.")
                    elif self._certification_p is not None:
                        dis(f"Thêm trường chữ ký mới “{name}” sau chữ ký chứng nhận (tài liệu "
                            "đã chứng nhận chỉ cho phép ký vào các trường chữ ký có sẵn).")
                    else:
                        changes.append(_Change("signature", f"Thêm chữ ký “{name}”.", name))
                elif kind == "timestamp":
                    changes.append(_Change("timestamp", f"Thêm dấu thời gian “{name}”.", name))
                elif kind == "empty_sig_field":
                    changes.append(_Change("empty_sig_field", f"Thêm trường chữ ký trống "
                                                              f"“{name}”.", name))
                else:
                    dis(f"Trường chữ ký mới “{name}” không hợp lệ.")
                continue
            # existing field
            if (of.ftype or None) != (nf.ftype or None):
                dis(f"Loại của trường “{name}” bị thay đổi.")
                continue
            if ng.digest(nf.obj, exclude=value_keys) != og.digest(of.obj, exclude=value_keys):
                dis(f"Thuộc tính của trường “{name}” bị thay đổi.")
                continue
            old_widgets = {_ref_key(w) for w in of.widgets}
            new_widgets = {_ref_key(w) for w in nf.widgets}
            if not new_widgets <= old_widgets:
                dis(f"Trường “{name}” bị thêm vùng hiển thị mới.")
            ov = of.obj.raw_get("/V") if "/V" in of.obj else None
            nv = nf.obj.raw_get("/V") if "/V" in nf.obj else None
            if ov is None and nv is None:
                continue
            if ov is not None and nv is not None and og.digest(ov) == ng.digest(nv):
                continue
            if is_sig:
                if ov is None:
                    kind = self._new_sig_field_kind(nf, validated)
                    if kind == "signature" and docmdp == 1:
                        dis(f"Ký vào trường “{name}” trong khi người chứng nhận không cho phép "
                            "bất kỳ thay đổi nào.")
                    elif kind in ("signature", "timestamp"):
                        changes.append(_Change(kind, f"Ký vào trường chữ ký “{name}”.", name))
                    else:
                        dis(f"Trường chữ ký “{name}” được điền giá trị không hợp lệ.")
                        continue
                    widget_changes_ok.update(k for k in new_widgets if k is not None)
                else:
                    dis(f"Chữ ký trong trường “{name}” bị thay thế hoặc xóa.")
                continue
            # a value of an ordinary field changed: form filling
            try:
                ff = int(_pget(nf.obj, "/Ff", 0))
            except Exception:  # noqa: BLE001
                ff = 0
            locked = False
            if fieldmdp is not None:
                try:
                    locked = fieldmdp.is_locked(name)
                except Exception:  # noqa: BLE001
                    locked = True
            if ff & 1:
                dis(f"Trường chỉ đọc “{name}” bị thay đổi giá trị.")
            elif locked:
                dis(f"Trường “{name}” đã bị khóa khi ký nhưng vẫn bị thay đổi giá trị.")
            elif docmdp is not None and docmdp < 2:
                dis(f"Trường “{name}” bị điền giá trị trong khi người ký không cho phép thay "
                    "đổi.")
            else:
                changes.append(_Change("form_fill", f"Điền giá trị cho trường biểu mẫu "
                                                    f"“{name}”.", name))
                widget_changes_ok.update(k for k in new_widgets if k is not None)

    @staticmethod
    def _dr_only_added(og: _Graph, ng: _Graph, oa: Any, na: Any) -> bool:
        """Whether the default resources only gained entries (e.g. a font for a new field)."""
        from pyhanko.pdf_utils import generic

        o = _pget(oa, "/DR") if "/DR" in oa else generic.DictionaryObject()
        n = _pget(na, "/DR") if "/DR" in na else None
        if not isinstance(n, generic.DictionaryObject) or not isinstance(
                o, generic.DictionaryObject):
            return False
        for cat in o.keys():
            if cat not in n:
                return False
            oc, nc = _pget(o, cat), _pget(n, cat)
            if isinstance(oc, generic.DictionaryObject) and isinstance(
                    nc, generic.DictionaryObject):
                for k in oc.keys():
                    if k not in nc or og.digest(oc.raw_get(k)) != ng.digest(nc.raw_get(k)):
                        return False
            elif og.digest(o.raw_get(cat)) != ng.digest(n.raw_get(cat)):
                return False
        return True

    def _new_sig_field_kind(self, nf: _FieldInfo, validated: dict[str, Any]) -> str:
        value = _pget(nf.obj, "/V") if "/V" in nf.obj else None
        if value is not None:
            it = validated.get(nf.name)
            if it is None:
                return "invalid"
            return "timestamp" if it["report"].kind == "document_timestamp" else "signature"
        for w in nf.widgets:
            if _has_visible_appearance(_deref(w)):
                return "signature_field_visible_unsigned"
        return "empty_sig_field"

    def _diff_annots(self, og: _Graph, ng: _Graph, op: Any, np_: Any, idx: int,
                     inh: dict[str, Any], docmdp: int | None, changes: list[_Change],
                     widget_changes_ok: set[tuple[int, int]],
                     new_widget_kinds: dict[tuple[int, int], str]) -> None:
        from pyhanko.pdf_utils import generic

        def dis(text: str) -> None:
            changes.append(_Change("disallowed", text))

        def entries(page: Any) -> list[Any]:
            if "/Annots" not in page:
                return []
            arr = _deref(page.raw_get("/Annots"))
            return list(arr) if isinstance(arr, generic.ArrayObject) else []

        old = entries(op)
        new = entries(np_)
        new_keys = {_ref_key(a) for a in new if _ref_key(a) is not None}
        old_keys = {_ref_key(a) for a in old if _ref_key(a) is not None}
        old_direct = [og.digest(a) for a in old if _ref_key(a) is None]
        new_direct = [ng.digest(a) for a in new if _ref_key(a) is None]
        if sorted(old_direct) != sorted(new_direct):
            dis(f"Chú thích trực tiếp trên trang {idx} bị thay đổi.")
        appearance_keys = frozenset({"/AP", "/AS", "/V", "/M"})
        for a in old:
            k = _ref_key(a)
            if k is None:
                continue
            if k not in new_keys:
                dis(f"Một chú thích/ô hiển thị trên trang {idx} bị xóa.")
                continue
            na = generic.IndirectObject(a.reference.idnum, a.reference.generation,
                                        ng.resolver)
            if k in widget_changes_ok:
                if og.digest(a, exclude=appearance_keys) != ng.digest(na, exclude=appearance_keys):
                    dis(f"Thuộc tính của một ô biểu mẫu trên trang {idx} bị thay đổi.")
            elif og.digest(a) != ng.digest(na):
                sub = str(_pget(_deref(na), "/Subtype", "?"))
                dis(f"Chú thích hoặc hình thức hiển thị có sẵn trên trang {idx} bị thay đổi "
                    f"({sub}).")
        page_area = _page_area(inh, np_)
        for a in new:
            k = _ref_key(a)
            if k is None or k in old_keys:
                continue
            annot = _deref(a)
            if not isinstance(annot, generic.DictionaryObject):
                continue
            subtype = str(_pget(annot, "/Subtype", ""))
            if subtype == "/Widget":
                kind = new_widget_kinds.get(k)
                if kind in ("signature", "timestamp", "empty_sig_field"):
                    continue
                if kind is None:
                    dis(f"Thêm ô hiển thị (widget) không thuộc trường chữ ký nào trên trang "
                        f"{idx}.")
                continue  # other kinds already reported by the form analysis
            has_action = "/A" in annot or "/AA" in annot
            area = _rect_area(annot)
            if subtype in _COMMENT_SUBTYPES and not has_action and (
                    area <= page_area * _MAX_COMMENT_AREA_RATIO
                    or not _has_visible_appearance(annot)):
                if docmdp is not None and docmdp < 3:
                    dis(f"Thêm chú thích ({subtype[1:]}) trên trang {idx} trong khi người ký "
                        "không cho phép.")
                else:
                    changes.append(_Change("annotation", f"Thêm ghi chú ({subtype[1:]}) trên "
                                                         f"trang {idx}."))
            else:
                dis(f"Thêm chú thích có thể che phủ hoặc thay đổi nội dung hiển thị "
                    f"({subtype[1:] or 'không rõ loại'}) trên trang {idx}.")

    # -- verdict ---------------------------------------------------------------------------------
    def _decide(self, removed: list[str]) -> None:
        rep = self.report
        sigs = rep.signatures
        for name in removed:
            rep.problems.append(f"Chữ ký “{name}” có trong phiên bản trước đã bị gỡ bỏ khỏi tài "
                                "liệu.")
        trailing = self._trailing_garbage()
        if trailing:
            rep.problems.append("Có dữ liệu lạ nằm ngoài các phiên bản hợp lệ của tệp (sau "
                                "điểm kết thúc %%EOF hoặc sau bảng tham chiếu cuối cùng), không "
                                "phải là một bản cập nhật hợp lệ.")
        invalid = any(not s.intact or not s.valid or _fatal(it)
                      for s, it in zip(sigs, self.items))
        for s in sigs:
            if trailing or removed:
                s.changes_after = "disallowed"
        modified = bool(removed) or trailing or any(s.changes_after == "disallowed"
                                                    for s in sigs)
        permitted = any(s.changes_after == "permitted" for s in sigs)
        if invalid:
            rep.verdict = "invalid"
        elif modified:
            rep.verdict = "modified"
        elif permitted:
            rep.verdict = "valid_with_changes"
        else:
            rep.verdict = "valid"
        rep.summary = SUMMARIES[rep.verdict]
        rep.trusted = bool(sigs) and all(s.trusted for s in sigs) and not removed
        seen: set[str] = set()
        for s in sigs:
            for c in s.changes:
                if c not in seen:
                    seen.add(c)
                    rep.changes.append(c)
        if rep.verdict in ("valid", "valid_with_changes") and not rep.trusted:
            rep.summary += (" Tuy nhiên, chứng thư số của người ký chưa được xác nhận là tin "
                            "cậy.")

    def _trailing_garbage(self) -> bool:
        """Whether the file goes on after the last revision the reader knows of: bytes after the
        last ``%%EOF``, or objects appended after the final cross-reference section (the
        incremental-saving-attack variants that rely on viewers repairing the file)."""
        idx = self.data.rfind(b"%%EOF")
        if idx < 0:
            return True
        tail = self.data[idx + 5:]
        if tail.strip(b"\r\n\t \x00\x0c"):
            return True
        try:
            xrefs = self.reader.xrefs
            last = self.total - 1
            meta = xrefs.get_xref_container_info(last)
            rest = self.data[meta.end_location:]
            # an xref stream's section ends with its stream data, before "endobj"
            rest = re.sub(rb"^\s*(endstream\s*)?endobj", b"", rest)
            if b"obj" in rest or rest.count(b"startxref") != 1 or rest.count(b"%%EOF") != 1:
                return True
            m = re.search(rb"startxref\s+(\d+)\s+%%EOF", rest)
            if m is None or int(m.group(1)) != xrefs.get_startxref_for_revision(last):
                return True
            for rev in range(self.total):
                if xrefs.get_xref_data(rev).hybrid is not None and rev > 0:
                    self.report.problems.append(
                        "Tệp dùng bảng tham chiếu lai (hybrid) trong bản cập nhật sau: các trình "
                        "xem PDF khác nhau có thể hiển thị nội dung khác nhau.")
                    return True
        except Exception:  # noqa: BLE001
            return True
        return False


def _signer_key_usage() -> Any:
    """Signing certificates must allow digital signature or non-repudiation (either suffices:
    agency seals often carry only ``digitalSignature``)."""
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    return KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                               match_all_key_usages=False)


def _proven_signing_time(st: Any) -> datetime | None:
    """Time proven by a valid, trusted signature timestamp token, if any."""
    tsv = getattr(st, "timestamp_validity", None)
    if tsv is not None and tsv.intact and tsv.valid and tsv.trusted and tsv.timestamp:
        return tsv.timestamp
    return None


def _declares_revinfo(cert: Any) -> bool:
    """Whether a certificate names a CRL distribution point or an OCSP responder."""
    try:
        return bool(cert.crl_distribution_points or cert.ocsp_urls)
    except Exception:  # noqa: BLE001
        return True


def _fatal(it: dict[str, Any]) -> bool:
    return bool(it.get("fatal"))


if __name__ == "__main__":  # pragma: no cover - manual use
    for arg in sys.argv[1:]:
        import json

        print(json.dumps(validate_pdf(Path(arg)).to_dict(), ensure_ascii=False, indent=2))
