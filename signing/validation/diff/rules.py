"""Change rules: every revision after a signature compared with the signed one, each difference
classified (harmless, permitted by DocMDP, disallowed)."""
from __future__ import annotations

import logging
from typing import Any

from ..report import SignatureReport
from ..state import _AnalysisState
from .graph import _INHERITABLE, _Change, _collect_pages, _Graph, _pget, _ref_key, _TooComplex

logger = logging.getLogger("signing.validation")


_HOUSEKEEPING = {
    "/StructTreeRoot": "Cây cấu trúc (thẻ hỗ trợ tiếp cận) của tài liệu được cập nhật.",
    "/MarkInfo": "Khai báo tài liệu có gắn thẻ (/MarkInfo) được cập nhật.",
    "/Lang": "Ngôn ngữ của tài liệu (/Lang) được cập nhật.",
    "/PageMode": "Chế độ hiển thị khi mở (/PageMode) được cập nhật.",
    "/PageLayout": "Bố cục trang khi mở (/PageLayout) được cập nhật.",
    "/ViewerPreferences": "Tùy chọn trình xem (/ViewerPreferences) được cập nhật.",
    "/PieceInfo": "Dữ liệu riêng của ứng dụng (/PieceInfo) được cập nhật.",
}
"""Catalog entries that change nothing a reader sees on the pages nor what a form does."""


def _outline_actions(root: Any) -> str | None:
    """The first action of an outline item other than going to a page of this document."""
    from pyhanko.pdf_utils import generic

    outlines = _pget(root, "/Outlines")
    if not isinstance(outlines, generic.DictionaryObject):
        return None
    todo = [_pget(outlines, "/First")]
    seen = 0
    while todo:
        item = todo.pop()
        seen += 1
        if seen > 100_000:
            raise _TooComplex()
        if not isinstance(item, generic.DictionaryObject):
            continue
        act = _pget(item, "/A")
        if isinstance(act, generic.DictionaryObject):
            kind = str(_pget(act, "/S", "?"))
            if kind != "/GoTo" or "/Next" in act:
                return kind[1:]
        for k in ("/First", "/Next"):
            if k in item:
                todo.append(_pget(item, k))
    return None


class _ChangeRules(_AnalysisState):
    """Part of _Analysis: see signing.validation.analysis."""

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
        # pyHanko does not model comments nor housekeeping (structure tree, outline, form
        # defaults): those revisions are judged by our rules alone
        if lib_other and not kinds & {"disallowed", "annotation", "housekeeping"}:
            changes.append(_Change("disallowed", "Có thay đổi sau khi ký không giải thích được "
                                                 "(phân tích của thư viện pyHanko)."))
            kinds.add("disallowed")

        for c in changes:
            if c.kind in ("form_fill", "annotation", "disallowed", "empty_sig_field", "info",
                          "housekeeping"):
                rep.changes.append(c.text)
            if c.page is not None and c.kind in ("disallowed", "annotation", "form_fill"):
                region = {"page": c.page, "rect": c.rect, "change": c.text,
                          "permitted": c.kind != "disallowed"}
                if region not in self.report.change_regions:
                    self.report.change_regions.append(region)
        if "disallowed" in kinds:
            rep.changes_after = "disallowed"
        elif kinds & {"form_fill", "annotation"}:
            rep.changes_after = "permitted"
        else:
            rep.changes_after = "none"
        it["changes"] = changes

    def _graph(self, rev: int) -> _Graph:
        """The digests of one revision, shared by every signature's comparison (each signature
        is compared with the same final revision: its digests are computed once, not once per
        signature). The node budget applies per comparison."""
        graphs: dict[int, _Graph] = self.__dict__.setdefault("_graphs", {})
        g = graphs.get(rev)
        if g is None:
            g = graphs[rev] = _Graph(self.reader.get_historical_resolver(rev))
        g.nodes = 0
        return g

    def _diff(self, old_rev: int, new_rev: int, docmdp: int | None, emb: Any) -> list[_Change]:
        """Classify every difference between the signed revision and the final one."""
        changes: list[_Change] = []
        if new_rev <= old_rev:
            return changes
        og, ng = self._graph(old_rev), self._graph(new_rev)
        old_r, new_r = og.resolver, ng.resolver
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
            elif key in _HOUSEKEEPING:
                changes.append(_Change("housekeeping", _HOUSEKEEPING[key]))
            elif key == "/Outlines":
                bad = _outline_actions(new_root)
                if bad:
                    dis(f"Mục lục (bookmark) được thêm hành động {bad}.")
                else:
                    changes.append(_Change("housekeeping", "Mục lục (bookmark) được cập nhật."))
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
        for idx, ((_or, op, oinh), (_nr, np_, ninh)) in enumerate(zip(old_pages, new_pages, strict=False),
                                                                  start=1):
            od = self._page_digest(og, op, oinh)
            nd = self._page_digest(ng, np_, ninh)
            if od != nd:
                changes.append(_Change("disallowed", f"Nội dung hoặc tài nguyên của trang {idx} "
                                                     "bị thay đổi.", page=idx))
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
