"""An agency's own settings (numbering series, signature layout and level) and its images (the
seal; each official's signature), edited by its administrator."""
from __future__ import annotations

import io
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from ioffice.accounts.models import Organisation, User
from ioffice.audit import services as audit
from ioffice.kernel.caller import Caller
from ioffice.kernel.errors import InvalidInput, PermissionDenied
from ioffice.kernel.ports import BlobStore
from ioffice.kernel.vocab import PadesLevel

Box = tuple[float, float, float, float]
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MAX_IMAGE_SIDE = 4000  # pixels: a seal or signature image is a few hundred pixels wide
MAX_POINTS = 14400  # the largest PDF page side (ISO 32000 user-space limit)


class AgencySettings(BaseModel):
    """Keys of ``Organisation.settings`` an administrator may set (all optional)."""

    model_config = ConfigDict(extra="forbid")

    signature_level: PadesLevel | None = None
    outgoing_series: dict[str, str] | None = Field(
        default=None, description="type abbreviation → series name, e.g. {\"QĐ\": \"QĐ-QPPL\"}")
    secret_series: bool | None = Field(default=None, description="secret documents numbered in their own series")
    personal_box: Box | None = Field(default=None, description="x1, y1, x2, y2 (PDF points) of the personal "
                                                               "signature on the last page")
    number_box: Box | None = Field(default=None, description="where 'Số: …' is stamped at issue")
    date_box: Box | None = Field(default=None, description="where the date line is stamped at issue")
    number_page: int | None = Field(default=None, ge=0, description="page (0-based) of the number and date")
    collective_name: str | None = Field(default=None, max_length=128, description="the collective body the head "
                                        "signs TM. for (e.g. ỦY BAN NHÂN DÂN); \"\": none; default: from the "
                                        "agency's name")
    head_position: str | None = Field(default=None, max_length=128, description="the head's position, for TL.")

    @field_validator("personal_box", "number_box", "date_box")
    @classmethod
    def _box(cls, v: Box | None) -> Box | None:
        if v is not None and not (0 <= v[0] < v[2] <= MAX_POINTS and 0 <= v[1] < v[3] <= MAX_POINTS):
            raise ValueError(f"a box is x1, y1, x2, y2 with 0 <= x1 < x2 <= {MAX_POINTS} and 0 <= y1 < y2 <= "
                             f"{MAX_POINTS}, in points")
        return v

    @field_validator("outgoing_series")
    @classmethod
    def _series(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        if v is not None and (len(v) > 100 or any(not 0 < len(k) <= 16 or not 0 < len(s) <= 64 for k, s in v.items())):
            raise ValueError("at most 100 series; a type abbreviation is 1-16 characters, a series name 1-64")
        return v


def update_settings(session: Session, *, caller: Caller, org: Organisation, changes: AgencySettings) -> dict[str, Any]:
    """Merge the given keys (None removes a key) into the agency's settings; audited."""
    current = dict(org.settings or {})
    for key, value in changes.model_dump(exclude_unset=True).items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = list(value) if isinstance(value, tuple) else value
    org.settings = current
    audit.record(session, caller=caller, org_id=org.id, action="org.settings", object_type="organisation",
                 object_id=org.id, details={"changed": sorted(changes.model_dump(exclude_unset=True))})
    return current


def _check_png(data: bytes) -> None:
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput("Ảnh quá lớn (tối đa 2 MB).")
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InvalidInput("Ảnh phải là tệp PNG (nền trong suốt).")
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            size = img.size
            img.verify()
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a bad image
        raise InvalidInput("Không đọc được ảnh PNG.") from exc
    if max(size) > MAX_IMAGE_SIDE:
        raise InvalidInput(f"Ảnh quá lớn: {size[0]}×{size[1]} điểm ảnh (tối đa {MAX_IMAGE_SIDE} điểm ảnh mỗi chiều).")


def set_seal_image(session: Session, store: BlobStore, *, caller: Caller, org: Organisation, png: bytes) -> str:
    _check_png(png)
    sha = store.put_bytes(png).sha256
    settings = dict(org.settings or {})
    settings["seal_image_sha256"] = sha
    org.settings = settings
    audit.record(session, caller=caller, org_id=org.id, action="org.seal_image", object_type="organisation",
                 object_id=org.id, details={"sha256": sha})
    return sha


def set_signature_image(session: Session, store: BlobStore, *, caller: Caller, user: User, png: bytes) -> str:
    """An official's own signature image; set by the official or the administrator."""
    editor = caller.person
    if editor.id != user.id and not editor.has_role("admin"):
        raise PermissionDenied("Chỉ người dùng hoặc quản trị viên mới được đổi ảnh chữ ký.")
    _check_png(png)
    sha = store.put_bytes(png).sha256
    user.signature_image_sha256 = sha
    audit.record(session, caller=caller, org_id=user.org_id, action="user.signature_image", object_type="user",
                 object_id=user.id, details={"sha256": sha})
    return sha
