"""``python -m signing.validation FILE...``: print each file's report as JSON (manual use)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import validate_pdf

for arg in sys.argv[1:]:  # pragma: no cover - manual use
    print(json.dumps(validate_pdf(Path(arg)).to_dict(), ensure_ascii=False, indent=2))
