"""Electronic copies: certified copies of originals (SCT/BS register, fee, QR code, public status,
revocation) and the agency's own electronic copies (sao y, sao lục, trích sao)."""
from __future__ import annotations

from ..registers import books as _registers
from .models import AGENCY_FORMS, KIND_CERTIFIED, CopyRecord
from .register import copies_report, register_rows
from .service import CopyMetadata, CopyStampPort, StampJob

_registers.REGISTER_PROVIDERS["copies"] = register_rows

__all__ = ["AGENCY_FORMS", "KIND_CERTIFIED", "CopyMetadata", "CopyRecord", "CopyStampPort", "StampJob",
           "copies_report", "register_rows"]
