"""What a person reading the report needs: in what capacity each signature was made (the
official's personal signature, the agency's seal, the number/date stamps of issuing, a document
timestamp), times in Vietnam's time zone, and which configured root the signer chains to."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .report import SignatureReport

ROLE_LABELS = {
    "personal": "Chữ ký số cá nhân của người có thẩm quyền",
    "seal": "Chữ ký số của cơ quan, tổ chức (con dấu)",
    "number_stamp": "Chữ ký cấp số, ký hiệu văn bản",
    "date_stamp": "Chữ ký cấp ngày ban hành văn bản",
    "copy_certification": "Chữ ký chứng thực bản sao",
    "copy_mark": "Chữ ký xác nhận bản sao của cơ quan",
    "document_timestamp": "Dấu thời gian tài liệu (lưu trữ dài hạn)",
}

_FIELD_ROLES = (
    (re.compile(r"^SoKyHieu", re.I), "number_stamp"),
    (re.compile(r"^NgayBanHanh", re.I), "date_stamp"),
    (re.compile(r"^ChungThuc", re.I), "copy_certification"),
    (re.compile(r"^BanSao", re.I), "copy_mark"),
    (re.compile(r"^(DauCoQuan|Seal|Dau)", re.I), "seal"),
)

# how the names of Vietnamese public bodies and organisations begin (an organisation's
# certificate names the body, a person's names the person)
_BODY_PREFIXES = ("ubnd", "ủy ban", "uỷ ban", "sở ", "bộ ", "ban ", "cục ", "tổng cục", "chi cục",
                  "văn phòng", "phòng ", "trung tâm", "hội đồng", "tòa án", "toà án", "viện ",
                  "cơ quan", "công ty", "trường ", "bệnh viện", "kho bạc", "đảng ủy", "đảng ủy",
                  "hđnd", "mặt trận", "học viện", "đài ", "báo ", "tập đoàn", "ngân hàng")


def _vn_zone() -> Any:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Asia/Ho_Chi_Minh")
    except Exception:  # noqa: BLE001 - no tz database: Vietnam has no DST, UTC+7 is exact
        return timezone(timedelta(hours=7))


def vn_time(iso: str | None) -> str | None:
    """An ISO 8601 instant in Vietnam's time zone (Asia/Ho_Chi_Minh), seconds precision."""
    if not iso:
        return None
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(_vn_zone()).replace(microsecond=0).isoformat()


def _name_attr(cert: Any, key: str) -> str | None:
    try:
        v = cert.subject.native.get(key)
    except Exception:  # noqa: BLE001
        return None
    if isinstance(v, list):
        v = v[0] if v else None
    return str(v) if v else None


def classify(rep: SignatureReport, cert: Any, reason: str | None) -> None:
    """Fill ``role``, ``role_label`` and the Vietnam-time fields of one signature."""
    role = None
    if rep.kind == "document_timestamp":
        role = "document_timestamp"
    else:
        for pattern, r in _FIELD_ROLES:
            if pattern.match(rep.field or ""):
                role = r
                break
        if role is None and reason and "cấp số" in reason.lower():
            role = "number_stamp"
        if role is None:
            cn = (_name_attr(cert, "common_name") or "").strip()
            org = (_name_attr(cert, "organization_name") or "").strip()
            person = _name_attr(cert, "given_name") or _name_attr(cert, "surname")
            body = cn.lower().startswith(_BODY_PREFIXES) or (cn and cn == org)
            role = "seal" if body and not person else "personal"
    rep.role = role
    label = ROLE_LABELS[role]
    title = _name_attr(cert, "title") if role == "personal" else None
    rep.role_label = f"{label} ({title})" if title else label
    rep.signing_time_vn = vn_time(rep.signing_time)
    rep.timestamp_vn = vn_time(rep.timestamp)


def anchor_label(status: Any) -> str | None:
    """The configured root the signer's chain reaches, named from its subject."""
    try:
        path = status.validation_path
        if path is None or not status.trusted:
            return None
        root = path.trust_anchor
        cert = getattr(root, "certificate", None) or getattr(root, "cert", None) or root
        cn = _name_attr(cert, "common_name")
        org = _name_attr(cert, "organization_name")
        if cn and org and org not in cn:
            return f"{cn} — {org}"
        return cn or org or cert.subject.human_friendly
    except Exception:  # noqa: BLE001
        return None
