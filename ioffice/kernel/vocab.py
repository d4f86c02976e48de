"""Shared vocabulary: the words and codes several domains (and the adapters) use.

One place for each: PAdES levels, Vietnam's time zone, the authority prefixes of Decree 30, urgency
and secrecy marks. Import from here; do not repeat the literals.
"""
from __future__ import annotations

from datetime import timedelta, timezone, tzinfo
from typing import Literal

# PAdES baseline levels (ETSI EN 319 142-1), weakest first.
PadesLevel = Literal["B-B", "B-T", "B-LT", "B-LTA"]
PADES_LEVELS: tuple[str, ...] = ("B-B", "B-T", "B-LT", "B-LTA")
LTV_LEVELS: tuple[str, ...] = ("B-LT", "B-LTA")  # levels that embed revocation data

# Vietnam's time zone: UTC+07:00 all year (no DST since 1975).
VN_TZ_NAME = "Asia/Ho_Chi_Minh"
VN_UTC_OFFSET = timezone(timedelta(hours=7), "ICT")


def _vn_tz() -> tzinfo:
    try:  # pragma: no cover - tzdata is present on Debian
        from zoneinfo import ZoneInfo

        return ZoneInfo(VN_TZ_NAME)
    except Exception:  # pragma: no cover
        return VN_UTC_OFFSET


VN_TZ: tzinfo = _vn_tz()

# Authority prefixes of the signer line (Decree 30, Appendix I): on behalf of (TM.), acting (Q.),
# deputy signing for (KT.), by order of (TL.), by authorisation of (TUQ.).
AUTHORITY_PREFIXES: tuple[str, ...] = ("TM.", "Q.", "KT.", "TL.", "TUQ.")
DELEGATION_PREFIXES: tuple[str, ...] = ("KT.", "TUQ.")  # the prefixes a delegation can give
DelegationPrefix = Literal["KT.", "TUQ."]

# Urgency (độ khẩn) and secrecy (độ mật) marks: code -> Vietnamese label.
Urgency = Literal["khan", "thuong_khan", "hoa_toc"]
Secrecy = Literal["mat", "toi_mat", "tuyet_mat"]
URGENCY_LABELS = {"khan": "Khẩn", "thuong_khan": "Thượng khẩn", "hoa_toc": "Hỏa tốc"}
SECRECY_LABELS = {"mat": "Mật", "toi_mat": "Tối mật", "tuyet_mat": "Tuyệt mật"}
