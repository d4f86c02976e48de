"""The state the parts of one analysis share, declared once with its types.

``_Analysis`` (analysis.py) combines the rule mixins (byte range, trust, levels, change rules,
form and annotation rules, verdict); each of them reads attributes the driver sets and calls
methods another mixin defines. They all inherit this class, so the type checker knows both.
Nothing here runs: the attributes are annotations only (no class-level values, so an attribute
the driver has not set yet is still missing at run time, as ``_hash_revisions`` expects), and the
cross-mixin methods are declared for the type checker alone."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    from .diff.graph import _Change, _Graph
    from .isolation import _Job
    from .report import ValidationReport


class _AnalysisState:
    """Part of _Analysis: see signing.validation.analysis."""

    # set by _Analysis.__init__
    job: _Job
    data: bytes
    report: ValidationReport
    now: datetime
    # set once the document was read (_Analysis._run)
    reader: PdfFileReader
    total: int
    # one dict per signature field, in revision order (_Analysis._validate_one builds them)
    items: list[dict[str, Any]]
    # the document's certification (DocMDP) level, None when not certified
    _certification_p: int | None
    # blank bytes after the last %%EOF, when more than the verdict tolerates
    _padding: int
    _dss_cache: DocumentSecurityStore | None

    if TYPE_CHECKING:
        # methods one mixin calls on another (defined in the module named)

        def _dss(self) -> DocumentSecurityStore | None: ...  # trust

        def _has_revinfo_in_dss(self, cert: Any) -> bool: ...  # trust

        @staticmethod
        def _differs(og: _Graph, ng: _Graph, od: Any, nd: Any, key: str) -> bool: ...  # diff.rules

        def _diff_acroform(self, og: _Graph, ng: _Graph, old_root: Any, new_root: Any,
                           docmdp: int | None, fieldmdp: Any, validated: dict[str, Any],
                           changes: list[_Change], widget_changes_ok: set[tuple[int, int]],
                           new_widget_kinds: dict[tuple[int, int], str]) -> None: ...  # diff.forms

        def _diff_annots(self, og: _Graph, ng: _Graph, op: Any, np_: Any, idx: int,
                         inh: dict[str, Any], docmdp: int | None, changes: list[_Change],
                         widget_changes_ok: set[tuple[int, int]],
                         new_widget_kinds: dict[tuple[int, int], str]) -> None: ...  # diff.forms
