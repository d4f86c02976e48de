"""Validation errors for people: which field is wrong and why, in Vietnamese.

Pydantic reports an error as a type (``missing``, ``string_too_long``, ``literal_error`` …), a
location and a context; :func:`vietnamese_errors` turns each into a sentence naming the field by
its Vietnamese label (and its API name), e.g. ``Trích yếu (summary): không được để trống.``
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ioffice.kernel.vocab import SECRECY_LABELS, URGENCY_LABELS

_SOURCES = ("body", "query", "path", "header", "cookie", "form")

# API field name → what people call it
FIELD_LABELS: dict[str, str] = {
    "direction": "Chiều văn bản (đến/đi)",
    "doc_type": "Loại văn bản",
    "summary": "Trích yếu",
    "number_symbol": "Số, ký hiệu",
    "issuing_body": "Cơ quan ban hành",
    "issuing_body_code": "Mã cơ quan ban hành",
    "parent_body": "Cơ quan chủ quản",
    "place": "Địa danh",
    "issued_date": "Ngày ban hành",
    "signer_competence": "Thẩm quyền ký",
    "signer_position": "Chức vụ người ký",
    "signer_name": "Người ký",
    "recipients": "Nơi nhận",
    "urgency": "Độ khẩn",
    "secrecy": "Độ mật",
    "due_date": "Hạn xử lý",
    "deadline": "Hạn xử lý",
    "drafting_unit_id": "Đơn vị soạn thảo",
    "replaces_id": "Văn bản được thay thế",
    "metadata": "Thông tin văn bản (metadata)",
    "file": "Tệp",
    "username": "Tên đăng nhập",
    "password": "Mật khẩu",
    "full_name": "Họ và tên",
    "position": "Chức vụ",
    "unit_id": "Đơn vị",
    "roles": "Vai trò",
    "email": "Thư điện tử",
    "reason": "Lý do",
    "comment": "Ý kiến",
    "note": "Ghi chú",
    "decision": "Quyết định xem xét",
    "stages": "Các bước trình duyệt",
    "name": "Tên",
    "reviewer_ids": "Người xem xét",
    "template_id": "Quy trình mẫu",
    "recipient": "Người nhận",
    "notes": "Ghi chú",
    "level": "Mức chữ ký PAdES",
    "kind": "Loại chữ ký",
    "mode": "Cách ký",
    "certificate_pem": "Chứng thư số",
    "passphrase": "Mật khẩu tệp khóa",
    "document_ids": "Danh sách văn bản",
    "limit": "Số dòng mỗi trang",
    "offset": "Vị trí bắt đầu",
    "year": "Năm",
    "q": "Từ khóa tìm kiếm",
    "copies": "Số bản",
    "requester_name": "Người yêu cầu",
    "requester_id_number": "Số giấy tờ tùy thân",
    "title": "Tên giấy tờ",
}

# field → the accepted values as people say them (for literal errors)
FIELD_CHOICES: dict[str, str] = {
    "urgency": ", ".join(URGENCY_LABELS.values()) + " (hoặc mã " + ", ".join(URGENCY_LABELS) + ")",
    "secrecy": ", ".join(SECRECY_LABELS.values()) + " (hoặc mã " + ", ".join(SECRECY_LABELS) + ")",
    "direction": "incoming (văn bản đến) hoặc outgoing (văn bản đi)",
}


def _n(ctx: dict[str, Any], key: str) -> Any:
    return ctx.get(key, "?")


def _sentence(kind: str, ctx: dict[str, Any], field: str, msg: str) -> str:
    if kind == "missing":
        return "là bắt buộc nhưng chưa được gửi"
    if kind == "string_too_short":
        n = ctx.get("min_length", 1)
        return "không được để trống" if n == 1 else f"phải có ít nhất {n} ký tự"
    if kind == "string_too_long":
        return f"không được dài quá {_n(ctx, 'max_length')} ký tự"
    if kind == "too_short":
        n = ctx.get("min_length", 1)
        return "cần ít nhất một mục" if n == 1 else f"cần ít nhất {n} mục"
    if kind == "too_long":
        return f"không được quá {_n(ctx, 'max_length')} mục"
    if kind in ("string_type", "string_sub_type", "string_unicode"):
        return "phải là chuỗi ký tự"
    if kind in ("int_type", "int_parsing", "int_from_float", "int_parsing_size"):
        return "phải là số nguyên"
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing", "finite_number"):
        return "phải là số"
    if kind in ("bool_type", "bool_parsing"):
        return "phải là true hoặc false"
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact"):
        return "phải là ngày theo dạng NNNN-TT-NN (ví dụ 2026-03-05)"
    if kind in ("datetime_type", "datetime_parsing", "datetime_from_date_parsing", "datetime_object_invalid"):
        return "phải là thời điểm theo ISO 8601 (ví dụ 2026-03-05T09:30:00+07:00)"
    if kind == "timezone_aware":
        return "phải ghi rõ múi giờ (ví dụ +07:00)"
    if kind in ("literal_error", "enum"):
        choices = FIELD_CHOICES.get(field) or str(ctx.get("expected", "")).replace(" or ", " hoặc ")
        return f"phải là một trong các giá trị: {choices}"
    if kind == "greater_than":
        return f"phải lớn hơn {_n(ctx, 'gt')}"
    if kind == "greater_than_equal":
        return f"phải từ {_n(ctx, 'ge')} trở lên"
    if kind == "less_than":
        return f"phải nhỏ hơn {_n(ctx, 'lt')}"
    if kind == "less_than_equal":
        return f"không được lớn hơn {_n(ctx, 'le')}"
    if kind == "extra_forbidden":
        return "không phải là trường được chấp nhận (hãy bỏ trường này hoặc kiểm tra lại tên)"
    if kind in ("list_type", "tuple_type", "set_type", "iterable_type"):
        return "phải là một danh sách"
    if kind in ("dict_type", "model_type", "model_attributes_type", "dataclass_type"):
        return "phải là một đối tượng JSON"
    if kind == "json_invalid":
        return "không phải JSON hợp lệ"
    if kind == "json_type":
        return "phải là chuỗi JSON"
    if kind == "string_pattern_mismatch":
        return "không đúng định dạng"
    if kind in ("uuid_type", "uuid_parsing", "url_type", "url_parsing", "url_scheme"):
        return "không đúng định dạng"
    if kind in ("bytes_too_long",):
        return f"không được dài quá {_n(ctx, 'max_length')} byte"
    if kind in ("value_error", "assertion_error"):
        detail = str(ctx.get("error") or msg).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return f"giá trị không hợp lệ ({detail})" if detail else "giá trị không hợp lệ"
    return "giá trị không hợp lệ"


def field_path(loc: Iterable[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts)


def field_label(path: str) -> str:
    """``stages.0.name`` → ``Tên (stages.0.name)``; ``summary`` → ``Trích yếu (summary)``."""
    if not path:
        return "Nội dung yêu cầu"
    names = [p for p in path.split(".") if not p.isdigit()]
    label = FIELD_LABELS.get(names[-1]) if names else None
    return f"{label} ({path})" if label else f"Trường «{path}»"


def vietnamese_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``[{"field", "type", "message"}]`` with ``message`` one Vietnamese sentence."""
    out = []
    for e in errors:
        path = field_path(e.get("loc", ()))
        names = [p for p in path.split(".") if not p.isdigit()]
        last = names[-1] if names else ""
        kind = str(e.get("type", ""))
        reason = _sentence(kind, dict(e.get("ctx") or {}), last, str(e.get("msg", "")))
        out.append({"field": path, "type": kind, "message": f"{field_label(path)}: {reason}."})
    return out


def detail_of(errors: list[dict[str, Any]], *, limit: int = 5) -> str:
    shown = " ".join(e["message"] for e in errors[:limit])
    more = len(errors) - limit
    return f"{shown} (và {more} lỗi khác)" if more > 0 else shown
