"""Implements :class:`ioffice.copies.CopyStampPort` with ``signing.copystamp`` and the signing
adapter: the certified copy is stamped, then signed by the certifier (personal key, the
signature box of the certification block) and by the agency (the seal over it), both at the
agency's PAdES level (B-LT with the development TSA/CRLs; B-LTA when configured)."""
from __future__ import annotations

import io

from ioffice.copies import StampJob
from ioffice.signatures import SignSpec

from .container import Container
from .signing_adapter import adapter as _adapter


class CopyStamp:
    def __init__(self, container: Container) -> None:
        self.c = container

    def default_level(self) -> str:
        return _adapter(self.c).default_level()

    def _sign(self, pdf: bytes, spec: SignSpec) -> bytes:
        out = io.BytesIO()
        _adapter(self.c).sign(io.BytesIO(pdf), spec, out)
        return out.getvalue()

    def certify(self, job: StampJob) -> bytes:
        from signing.copystamp import prepare_certified_copy

        prepared, layout = prepare_certified_copy(
            job.pdf, code=job.code, verify_url=job.verify_url, number=job.number, book=job.book,
            date_line=job.date_line, agency_name=job.agency_name)
        settings = {**job.extra.get("org_settings", {}), "personal_box": list(layout.personal_box)}
        personal = SignSpec(
            kind="personal", level=job.level, key_ref=job.certifier_key, full_name=job.certifier_name,
            position=job.certifier_position, agency_name=job.agency_name, signature_image=job.signature_image,
            field_name="ChungThuc", reason="Chứng thực bản sao đúng với bản chính", location=job.place,
            extra={"org_settings": settings})
        signed = self._sign(prepared, personal)
        seal = SignSpec(
            kind="seal", level=job.level, key_ref=None, full_name=job.agency_name, position="",
            agency_name=job.agency_name, seal_image=job.seal_image, field_name="DauCoQuan",
            reason="Cơ quan chứng thực ký số bản sao", location=job.place, extra={"org_settings": settings})
        return self._sign(signed, seal)

    def agency_copy(self, job: StampJob) -> bytes:
        spec = SignSpec(
            kind="copy", level=job.level, key_ref=None, full_name=job.agency_name, position="",
            agency_name=job.agency_name, copy_form=job.copy_form, field_name="BanSao",
            reason=f"{job.copy_form} văn bản ({job.book})", location=job.place,
            extra={"org_settings": job.extra.get("org_settings", {})})
        return self._sign(job.pdf, spec)


def copy_stamp(container: Container) -> CopyStamp:
    return CopyStamp(container)
