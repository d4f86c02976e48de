"""What issuing needs from the PDF signing adapter (implemented by ``signing.adapter.PyHankoSigning``)."""
from __future__ import annotations

from typing import BinaryIO, Protocol

from ioffice.signatures.ports import SignSpec


class IssuingPdfPort(Protocol):
    def default_level(self) -> str:
        """The PAdES level used when the agency configured none."""
        ...

    def seal_issued(self, pdf: bytes, spec: SignSpec, *, number_text: str, date_text: str) -> bytes:
        """Stamp the number/symbol and the date line, then apply the agency seal described by ``spec``."""
        ...

    def preview(self, pdf: bytes, spec: SignSpec, *, number_text: str | None = None,
                date_text: str | None = None) -> bytes:
        """The PDF as issuing (or signing) would draw it, without signing anything."""
        ...

    def sign(self, source: BinaryIO, spec: SignSpec, output: BinaryIO) -> None:
        """Sign with ``spec`` (attachments are signed with the agency key)."""
        ...
