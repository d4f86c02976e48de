"""The verdict of the whole document from its signatures and the changes after them."""
from __future__ import annotations

import re
from typing import Any

from .report import SUMMARIES
from .state import _AnalysisState


class _Verdict(_AnalysisState):
    """Part of _Analysis: see signing.validation.analysis."""

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
        # a signature that fails, added in a revision after a signature that verifies and
        # whose later changes are refused, is part of that modification (signature spoofing)
        spoofed = [_fatal(it) or not (s.intact and s.valid) for s, it in zip(sigs, self.items, strict=False)]
        good_revs = [it["revision"] for s, it in zip(sigs, self.items, strict=False)
                     if it["checked_ok"] and s.changes_after == "disallowed"
                     and it["revision"] is not None]
        invalid = False
        for bad, it in zip(spoofed, self.items, strict=False):
            if not bad:
                continue
            rev = it["revision"]
            if good_revs and (rev is None or rev > min(good_revs)):
                continue
            invalid = True
        padding = getattr(self, "_padding", 0)
        for s in sigs:
            if trailing or removed:
                s.changes_after = "disallowed"
            elif padding and s.changes_after == "none":
                s.changes_after = "permitted"
        if padding and not trailing:
            text = (f"Có {padding:_} byte trống (khoảng trắng/byte 0) nối sau điểm kết thúc "
                    "%%EOF cuối cùng, không thuộc phạm vi của chữ ký nào; chúng không hiển thị "
                    "gì.").replace("_", ".")
            rep.problems.append(text)
            rep.changes.append(text)
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
        rep.integrity = _INTEGRITY[rep.verdict]
        rep.trust = self._trust_line()
        if rep.verdict == "valid" and rep.changes:
            rep.summary += (" Sau khi ký chỉ có cập nhật kỹ thuật (siêu dữ liệu, mục lục, cấu "
                            "trúc…) không làm thay đổi nội dung hiển thị.")
        if rep.verdict in ("valid", "valid_with_changes") and not rep.trusted:
            rep.summary += (" Tuy nhiên, chứng thư số của người ký chưa được xác nhận là tin "
                            "cậy.")

    def _trust_line(self) -> str:
        """Trust, on its own line: never mentions changes after signing."""
        sigs = self.report.signatures
        if not sigs:
            return ""
        if self.report.trusted:
            anchors = sorted({s.trust_anchor for s in sigs if s.trust_anchor})
            return ("Tin cậy: mọi chữ ký đều chuỗi tới chứng thư gốc được cấu hình"
                    + (f" ({'; '.join(anchors)})" if anchors else "") + ".")
        names = [s.signer or s.field for s in sigs if not s.trusted]
        return ("Chưa tin cậy: chưa xác nhận được chứng thư số của " + ", ".join(names)
                + " (xem lý do ở từng chữ ký).")

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
        line_end = re.match(rb"\r?\n?", tail)  # matches always (possibly empty)
        extra = len(tail) - (line_end.end() if line_end else 0)
        if extra > _PADDING_TOLERANCE:
            self._padding = extra
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


_INTEGRITY = {
    "valid": "Toàn vẹn: mọi chữ ký đúng; nội dung đã ký không bị thay đổi.",
    "valid_with_changes": "Toàn vẹn: mọi chữ ký đúng; sau khi ký chỉ có thay đổi được phép.",
    "modified": "Toàn vẹn: KHÔNG — nội dung đã bị thay đổi sau khi ký.",
    "invalid": "Toàn vẹn: KHÔNG — chữ ký sai hoặc dữ liệu đã ký bị sửa.",
    "no_signature": "",
    "unreadable": "",
}


_PADDING_TOLERANCE = 64
"""Line endings and a little padding after the last %%EOF are common; more is reported."""


def _fatal(it: dict[str, Any]) -> bool:
    return bool(it.get("fatal"))
