"""The authority lines of Decree 30 (Appendix I, section II.8) above the signer's position.

- ``TM.`` (thay mặt): the head — or a deputy signing ``KT.`` for the head — of a collective body
  (Ủy ban nhân dân, Hội đồng nhân dân…) signs in the collective's name: ``TM. ỦY BAN NHÂN DÂN`` /
  ``CHỦ TỊCH``. The collective is the agency's ``collective_name`` setting, else recognised from its
  name (``UBND …``/``Ủy ban nhân dân …``, ``HĐND …``/``Hội đồng nhân dân …``).
- ``KT.`` (ký thay) / ``TUQ.`` (thừa ủy quyền): from the delegation or the review step, as before
  (``KT. CHỦ TỊCH`` / ``PHÓ CHỦ TỊCH``).
- ``Q.`` (quyền): an acting head, whose position starts with "Quyền" (``Q. CHỦ TỊCH``).
- ``TL.`` (thừa lệnh): a unit head who signs an agency document in their own right
  (``TL. CHỦ TỊCH`` / ``CHÁNH VĂN PHÒNG``); the head's position is the agency's ``head_position``
  setting, else that of its leader whose position is no deputy's.

Any of it can be overridden per signature (``authority`` on the sign request), checked here.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation, User
from ioffice.kernel.errors import InvalidInput

_PREFIX_RE = re.compile(r"^(TM|Q|KT|TL|TUQ)\.(\s|$)")
_COLLECTIVES = (
    (("ubnd", "uy ban nhan dan"), "ỦY BAN NHÂN DÂN"),
    (("hdnd", "hoi dong nhan dan"), "HỘI ĐỒNG NHÂN DÂN"),
)
MAX_AUTHORITY = 200


def _key(text: str) -> str:
    text = unicodedata.normalize("NFD", text.casefold())
    return "".join(ch for ch in text if unicodedata.category(ch) != "Mn").replace("đ", "d")


def _upper(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).upper().split())


def collective_name(org: Organisation) -> str | None:
    """The collective body an agency's head signs ``TM.`` for, or None."""
    settings = org.settings or {}
    if "collective_name" in settings:
        return _upper(settings["collective_name"]) or None
    name = _key(org.name or "")
    for prefixes, collective in _COLLECTIVES:
        if any(name == p or name.startswith(p + " ") for p in prefixes):
            return collective
    return None


def head_position(session: Session, org: Organisation) -> str | None:
    """The agency head's position (for ``TL.``)."""
    configured = (org.settings or {}).get("head_position")
    if configured:
        return _upper(configured)
    leaders = session.scalars(select(User).where(User.org_id == org.id, User.is_active.is_(True))).all()
    for u in sorted(leaders, key=lambda u: u.username):
        pos = _key(u.position or "")
        if u.has_role("leader") and pos and not pos.startswith(("pho ", "quyen ")):
            return _upper(u.position or "")
    return None


def acting(position: str) -> tuple[bool, str]:
    """(True, the position without "Quyền") for an acting head."""
    words = (position or "").split()
    if len(words) > 1 and _key(words[0]) == "quyen":
        return True, " ".join(words[1:])
    return False, position or ""


def compose(session: Session, *, org: Organisation, user: User, delegated: str | None) -> tuple[str | None, str]:
    """(authority lines joined by newlines or None, position) for ``user`` signing for ``org``;
    ``delegated`` is the ``KT.``/``TUQ.`` line of a delegation or review step (or None)."""
    is_acting, position = acting(user.position or "")
    collective = collective_name(org)
    lines: list[str] = []
    if delegated:
        if collective and delegated.startswith("KT."):
            lines.append(f"TM. {collective}")
        lines.append(delegated)
    elif user.has_role("leader"):
        if collective:
            lines.append(f"TM. {collective}")
        if is_acting:
            lines.append("Q.")
    elif user.has_role("unit_head"):
        head = head_position(session, org)
        if head:
            lines.append(f"TL. {head}")
    elif is_acting:
        lines.append("Q.")
    return ("\n".join(lines) or None), position


def check_override(authority: str) -> str | None:
    """A per-signature authority (lines each starting with TM., Q., KT., TL. or TUQ.; empty: none)."""
    if len(authority) > MAX_AUTHORITY:
        raise InvalidInput(f"Thẩm quyền ký dài tối đa {MAX_AUTHORITY} ký tự.")
    lines = [_upper(line) for line in authority.splitlines() if line.strip()]
    for line in lines:
        if not _PREFIX_RE.match(line):
            raise InvalidInput("Mỗi dòng thẩm quyền ký phải bắt đầu bằng TM., Q., KT., TL. hoặc TUQ. "
                               "(ví dụ «TM. ỦY BAN NHÂN DÂN» rồi «KT. CHỦ TỊCH»).", field="authority")
    return "\n".join(lines) or None


def competence(authority: str | None) -> str | None:
    """The signer's own capacity recorded in the register: the prefix of the last authority line
    (``KT.`` for ``TM. ỦY BAN NHÂN DÂN`` / ``KT. CHỦ TỊCH``), none for a head signing ``TM.`` in
    their own right (the register reads "Chủ tịch Phạm Văn Đức")."""
    if not authority:
        return None
    prefix = authority.strip().splitlines()[-1].split(" ", 1)[0]
    return None if prefix == "TM." else prefix
