"""Object-graph helpers for comparing revisions: digests of objects, pages, form fields, annotations."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..limits import _MAX_DEPTH, _MAX_GRAPH_NODES, _MAX_PAGES


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
                for entry in ("/ByteRange", "/Contents"):
                    h.update(self.digest(obj.raw_get(entry, decrypt=generic.EncryptedObjAccess.RAW),
                                         frozenset(), depth + 1).encode())
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


_DRAWING_SUBTYPES = {"/Square", "/Circle", "/Line", "/Ink", "/Polygon", "/PolyLine"}
"""Markup drawn by a reader (shapes, free-hand ink): harmless when they only stroke thin lines."""


_MAX_STROKE_WIDTH = 6.0


# content operators that paint areas, text or images (what could cover signed content)
_PAINTING_OPS = {b"f", b"F", b"f*", b"B", b"B*", b"b", b"b*", b"sh", b"Do", b"BI", b"ID",
                 b"Tj", b"TJ", b"'", b'"', b"d0", b"d1"}


def _strokes_only(annot: Any) -> bool:
    """Whether a drawing annotation can only stroke thin lines: its appearance streams paint no
    area, text or image and use no wide pen; without an appearance, it has no interior colour
    and a thin border."""
    import re

    from pyhanko.pdf_utils import generic

    try:
        for holder, key in ((_pget(annot, "/BS"), "/W"),):
            if isinstance(holder, generic.DictionaryObject) and float(
                    _pget(holder, key, 1)) > _MAX_STROKE_WIDTH:
                return False
        border = _pget(annot, "/Border")
        if isinstance(border, generic.ArrayObject) and len(border) >= 3 and float(
                _deref(border[2])) > _MAX_STROKE_WIDTH:
            return False
        ap = _pget(annot, "/AP")
        if ap is None:
            ic = _pget(annot, "/IC")
            return not (isinstance(ic, generic.ArrayObject) and len(ic) > 0)
        if not isinstance(ap, generic.DictionaryObject):
            return False
        streams = []
        for k in ap.keys():
            v = _pget(ap, k)
            if isinstance(v, generic.StreamObject):
                streams.append(v)
            elif isinstance(v, generic.DictionaryObject):
                streams.extend(x for x in (_pget(v, kk) for kk in v.keys())
                               if isinstance(x, generic.StreamObject))
            else:
                return False
        for st in streams:
            res = _pget(st, "/Resources")
            if isinstance(res, generic.DictionaryObject) and any(
                    k in res for k in ("/XObject", "/Font", "/Shading", "/Pattern")):
                return False
            tokens = re.split(rb"[\s\[\]()<>{}/%]+", st.data)
            if _PAINTING_OPS.intersection(tokens):
                return False
            for m in re.finditer(rb"(-?[\d.]+)\s+w(?![\w*])", st.data):
                if abs(float(m.group(1))) > _MAX_STROKE_WIDTH:
                    return False
        return True
    except Exception:  # noqa: BLE001
        return False


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
    page: int | None = None  # 1-based page the change is on, when known
    rect: list[float] | None = None  # its region on that page (PDF points), None: whole page


def _rect_of(obj: Any) -> list[float] | None:
    try:
        x1, y1, x2, y2 = (float(v) for v in _deref(obj)["/Rect"])
        return [round(min(x1, x2), 1), round(min(y1, y2), 1), round(max(x1, x2), 1),
                round(max(y1, y2), 1)]
    except Exception:  # noqa: BLE001
        return None
