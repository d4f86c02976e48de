"""What the PDF signing adapters must produce, and their ports."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO, Literal, Protocol

from ioffice.kernel.vocab import PADES_LEVELS

Kind = Literal["personal", "seal", "attachment", "copy"]
KINDS = ("personal", "seal", "attachment", "copy")
LEVELS = PADES_LEVELS


@dataclass(frozen=True)
class SignSpec:
    """What the PDF adapter must produce."""

    kind: Kind
    level: str
    key_ref: str | None  # personal: the user's key spec; None → the agency seal key
    full_name: str
    position: str
    authority: str | None = None  # e.g. "KT. CHỦ TỊCH"
    agency_name: str = ""
    number_symbol: str | None = None
    copy_form: str | None = None
    signature_image: bytes | None = None
    seal_image: bytes | None = None
    certify: bool = False
    field_name: str | None = None
    reason: str | None = None
    location: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class PdfSigningPort(Protocol):
    def sign(self, source: BinaryIO, spec: SignSpec, output: BinaryIO) -> None:
        """Write the signed PDF to ``output``. Raises DomainError subclasses (never leaks details)."""
        ...

    def preview(self, pdf: bytes, spec: SignSpec, *, number_text: str | None = None,
                date_text: str | None = None) -> bytes:
        """The PDF as signing with ``spec`` would draw it, without signing (a preview)."""
        ...


@dataclass
class PreparedExternal:
    prepared_pdf: bytes
    state: dict[str, Any]
    data_to_sign: bytes
    digest_algorithm: str
    signature_mechanism: str
    expires_at: datetime


class ExternalSigningPort(Protocol):
    def prepare(self, pdf: bytes, spec: SignSpec, *, certificate_pem: str, chain_pem: list[str]) -> PreparedExternal:
        ...

    def complete(self, prepared_pdf: bytes, state: dict[str, Any], signature: bytes, spec: SignSpec) -> bytes:
        ...
