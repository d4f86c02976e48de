"""Our own byte-range rules for each signature (before pyHanko's checks)."""
from __future__ import annotations

import re
from typing import Any

from .diff.graph import _deref, _pget
from .state import _AnalysisState

_HEX_RE = re.compile(rb"[0-9A-Fa-f\s]*")


class _ByteRangeChecks(_AnalysisState):
    """Part of _Analysis: see signing.validation.analysis."""

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
            # never decrypted: a signature's /Contents is stored in clear in encrypted files
            contents = sig_obj.raw_get("/Contents", decrypt=generic.EncryptedObjAccess.RAW)
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
