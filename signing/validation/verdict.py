"""The verdict of the whole document from its signatures and the changes after them."""
from __future__ import annotations

import re
from typing import Any

from .report import SUMMARIES


class _Verdict:
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
        if rep.verdict == "valid" and rep.changes:
            rep.summary += (" Sau khi ký chỉ có cập nhật kỹ thuật (siêu dữ liệu, mục lục, cấu "
                            "trúc…) không làm thay đổi nội dung hiển thị.")
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


def _fatal(it: dict[str, Any]) -> bool:
    return bool(it.get("fatal"))
