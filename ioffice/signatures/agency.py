"""The one builder of the agency's signing spec (seal at issue, clerk's seal, attachments, copies):
the agency key, its name, its configured layout and level, and the seal image uploaded by the
admin (``PUT /organisation/seal-image``)."""
from __future__ import annotations

from typing import Any

from ioffice.accounts.models import Organisation
from ioffice.kernel.errors import InvalidInput
from ioffice.kernel.ports import BlobStore
from ioffice.signatures.ports import LEVELS, SignSpec

AGENCY_KINDS = ("seal", "attachment", "copy")


def agency_level(org: Organisation, requested: str | None, default: str) -> str:
    """The PAdES level: the request's, else the agency's configured one, else ``default``."""
    level = requested or (org.settings or {}).get("signature_level") or default
    if level not in LEVELS:
        raise InvalidInput(f"Mức chữ ký PAdES không hợp lệ: {level}. Dùng: {', '.join(LEVELS)}.")
    return level


def seal_image(org: Organisation, store: BlobStore) -> bytes | None:
    """The seal image the admin uploaded, or None (the adapter then draws its generated seal)."""
    sha = (org.settings or {}).get("seal_image_sha256")
    return store.read_bytes(sha) if sha else None


def agency_spec(org: Organisation, store: BlobStore, *, kind: str, level: str, number_symbol: str | None = None,
                reason: str | None = None, location: str | None = None, copy_form: str | None = None,
                extra: dict[str, Any] | None = None) -> SignSpec:
    """The agency's signing spec for ``kind`` (seal, attachment or copy)."""
    if kind not in AGENCY_KINDS:
        raise InvalidInput(f"Loại chữ ký của cơ quan không hợp lệ: {kind}.")
    settings = dict(org.settings or {})
    return SignSpec(
        kind=kind,  # type: ignore[arg-type]
        level=level, key_ref=None, full_name=org.name, position="", agency_name=org.name,
        number_symbol=number_symbol, copy_form=copy_form,
        seal_image=seal_image(org, store) if kind == "seal" else None,
        reason=reason or "Văn thư ký số của cơ quan", location=location or org.place,
        extra={"parent_body": org.parent_name, "org_settings": settings, **(extra or {})},
    )
