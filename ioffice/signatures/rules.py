"""Who may sign what, with which authority line, level and look."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation, User
from ioffice.documents import lifecycle
from ioffice.documents import services as documents
from ioffice.documents.models import Document
from ioffice.kernel.errors import Conflict, InvalidInput, PermissionDenied
from ioffice.kernel.ports import BlobStore
from ioffice.signatures.ports import KINDS, LEVELS, SignSpec

if TYPE_CHECKING:
    from ioffice.review.models import ReviewStep


# --------------------------------------------------------------------------------------------
# Rules: who may sign what
# --------------------------------------------------------------------------------------------

def _final_approval(session: Session, doc: Document) -> list[ReviewStep] | None:
    from ioffice import review

    rnd = review.approved_round(session, doc)
    if rnd is None:
        return None
    steps = review.steps_of(session, round_id=rnd.id, stage_index=len(rnd.stages) - 1)
    return [s for s in steps if s.status == "approved"]


def personal_capacity(session: Session, *, user: User, doc: Document) -> tuple[str | None, str]:
    """(authority line or None, position) for ``user`` signing ``doc`` personally.

    Raises PermissionDenied unless the user gave the final approval or holds an active
    delegation from the leader who did.
    """
    from ioffice import review
    from ioffice.delegation.services import active_delegation

    steps = _final_approval(session, doc) or []
    mine = [s for s in steps if s.acted_by == user.id]
    delegated = [s for s in steps if active_delegation(session, delegator_id=s.reviewer_id, delegate_id=user.id)]
    if not mine and not delegated:
        raise PermissionDenied(
            "Chỉ lãnh đạo đã phê duyệt văn bản (hoặc người được ủy quyền ký) mới được ký văn bản này."
        )
    from ioffice.signatures.authority import compose

    line = review.authority_line(session, step=mine[0] if mine else None, user=user, document=doc)
    org = session.get_one(Organisation, doc.org_id)
    return compose(session, org=org, user=user, delegated=line)


def check_can_sign(session: Session, *, user: User, doc: Document, kind: str) -> str | None:
    """Role, direction and status rules. Returns the personal authority line (personal kind)."""
    if kind not in KINDS:
        raise InvalidInput(f"Loại chữ ký không hợp lệ: {kind}. Dùng: {', '.join(KINDS)}.")
    if doc.direction != "outgoing":
        raise Conflict("Chỉ văn bản đi mới được ký số trong hệ thống.")
    if kind == "personal":
        if not user.has_role("leader", "unit_head"):
            raise PermissionDenied("Chỉ lãnh đạo mới được ký số cá nhân lên văn bản đi.")
        if not lifecycle.can(doc, "sign"):
            lifecycle.transition(doc, "sign")  # raises the 409 naming the status
        if doc.status == "approved":
            approved = _approved_sha(session, doc)
            current = documents.current_version(session, doc)
            if approved is None or current is None or current.sha256 != approved:
                raise Conflict("Phiên bản hiện tại không phải là phiên bản đã được phê duyệt; không thể ký.",
                               approved_sha256=approved, current_sha256=current.sha256 if current else None)
        authority, _ = personal_capacity(session, user=user, doc=doc)
        return authority
    if not user.has_role("clerk"):
        raise PermissionDenied("Chỉ văn thư mới được ký số của cơ quan (con dấu).")
    if kind in ("attachment", "copy"):
        if doc.status not in ("approved", "signed", "issued"):
            raise Conflict("Văn bản chưa được phê duyệt; chưa thể ký số của cơ quan.", current_status=doc.status)
        if kind == "attachment" and not doc.number_symbol:
            raise Conflict("Văn bản chưa có số, ký hiệu: hãy phát hành văn bản chính trước khi ký phụ lục.")
        return None
    if not lifecycle.can(doc, "sign"):
        lifecycle.transition(doc, "sign")
    return None


def _approved_sha(session: Session, doc: Document) -> str | None:
    from ioffice import review

    return review.approved_sha256(session, doc)


def resolve_level(org: Organisation, requested: str | None, default: str) -> str:
    level = requested or (org.settings or {}).get("signature_level") or default
    if level not in LEVELS:
        raise InvalidInput(f"Mức chữ ký PAdES không hợp lệ: {level}. Dùng: {', '.join(LEVELS)}.")
    return level


def build_spec(session: Session, store: BlobStore, *, user: User, doc: Document, kind: str, level: str,
               authority: str | None) -> SignSpec:
    org = session.get_one(Organisation, doc.org_id)
    if kind != "personal":
        from ioffice.signatures.agency import agency_spec

        return agency_spec(org, store, kind=kind, level=level, number_symbol=doc.number_symbol,
                           extra={"username": user.username})
    from ioffice.signatures.authority import acting

    sig_img = store.read_bytes(user.signature_image_sha256) if user.signature_image_sha256 else None
    position = user.position or ""
    if authority and authority.splitlines()[-1] == "Q.":  # "Q. CHỦ TỊCH", not "Q. QUYỀN CHỦ TỊCH"
        position = acting(position)[1]
    return SignSpec(
        kind="personal", level=level, key_ref=user.signing_key,
        full_name=user.full_name, position=position, authority=authority, agency_name=org.name,
        number_symbol=doc.number_symbol, signature_image=sig_img,
        location=org.place, reason="Ký số văn bản",
        extra={"parent_body": org.parent_name, "username": user.username, "org_settings": dict(org.settings or {})},
    )
