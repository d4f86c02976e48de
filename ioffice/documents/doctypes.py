"""Decree 30 document types, their abbreviations and the Vietnamese marks for urgency/secrecy."""
from __future__ import annotations

import unicodedata

from ioffice.kernel.errors import InvalidInput
from ioffice.kernel.vocab import AUTHORITY_PREFIXES, SECRECY_LABELS, URGENCY_LABELS

# name -> abbreviation ("" for công văn, which has none)
DOC_TYPES: dict[str, str] = {
    "Nghị quyết": "NQ",
    "Quyết định": "QĐ",
    "Chỉ thị": "CT",
    "Quy chế": "QC",
    "Quy định": "QyĐ",
    "Thông cáo": "TC",
    "Thông báo": "TB",
    "Hướng dẫn": "HD",
    "Chương trình": "CTr",
    "Kế hoạch": "KH",
    "Phương án": "PA",
    "Đề án": "ĐA",
    "Dự án": "DA",
    "Báo cáo": "BC",
    "Biên bản": "BB",
    "Tờ trình": "TTr",
    "Hợp đồng": "HĐ",
    "Công điện": "CĐ",
    "Bản ghi nhớ": "BGN",
    "Bản thỏa thuận": "BTT",
    "Giấy ủy quyền": "GUQ",
    "Giấy mời": "GM",
    "Giấy giới thiệu": "GGT",
    "Giấy nghỉ phép": "GNP",
    "Phiếu gửi": "PG",
    "Phiếu chuyển": "PC",
    "Phiếu báo": "PB",
    "Sao y": "SY",
    "Trích sao": "TrS",
    "Sao lục": "SL",
    "Công văn": "",
}
ABBREVIATIONS = {abbr: name for name, abbr in DOC_TYPES.items()}
CONG_VAN = "Công văn"

URGENCY = URGENCY_LABELS
SECRECY = SECRECY_LABELS
COMPETENCE = AUTHORITY_PREFIXES


def _norm(s: str) -> str:
    return unicodedata.normalize("NFC", s).strip().casefold()


_BY_NAME = {_norm(k): k for k in DOC_TYPES}
_BY_ABBR = {_norm(v): ABBREVIATIONS[v] for v in ABBREVIATIONS if v}
_BY_ABBR_ASCII = {_norm(v).replace("đ", "d"): ABBREVIATIONS[v] for v in ABBREVIATIONS if v}
_BY_NAME.update({"cong van": CONG_VAN, "cv": CONG_VAN})


def resolve_doc_type(value: str) -> tuple[str, str]:
    """Map a Vietnamese type name or abbreviation (``Quyết định``, ``QĐ``, ``QD``) to (name, abbr).

    Raises InvalidInput naming the accepted values.
    """
    key = _norm(value or "")
    name = _BY_NAME.get(key) or _BY_ABBR.get(key) or _BY_ABBR_ASCII.get(key)
    if name is None:
        raise InvalidInput(
            f"Loại văn bản không hợp lệ: «{value}». Dùng tên (ví dụ «Quyết định», «Công văn») "
            "hoặc chữ viết tắt theo Nghị định 30 (ví dụ «QĐ», «TB»)."
        )
    return name, DOC_TYPES[name]
