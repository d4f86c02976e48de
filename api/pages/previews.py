"""Server-side page previews (PNG via poppler's pdftoppm) and the signature report of a stored
version, both cached on disk by the version's SHA-256 (the images never go stale; the report is
re-validated after an hour, since a certificate may be revoked meanwhile)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ioffice.kernel.errors import DomainError

MAX_PREVIEW_PAGES = 30
REPORT_TTL_SECONDS = 3600
_SHA = re.compile(r"^[0-9a-f]{64}$")


class PreviewUnavailable(DomainError):
    code = "preview-unavailable"
    status = 503
    title = "Không tạo được ảnh xem trước"


def cache_dir(container, sha256: str) -> Path:
    if not _SHA.match(sha256):
        raise ValueError("bad sha256")
    d = container.settings.resolved_data_dir / "previews" / sha256[:2] / sha256
    d.mkdir(parents=True, exist_ok=True)
    return d


def _read_blob(container, sha256: str) -> bytes:
    with container.store.open(sha256) as f:
        return f.read()


def page_png(container, sha256: str, page: int) -> Path:
    """The PNG of ``page`` (1-based) of the blob ``sha256``, rendered once."""
    target = cache_dir(container, sha256) / f"page-{page}.png"
    if target.exists():
        return target
    if shutil.which("pdftoppm") is None:
        raise PreviewUnavailable("Máy chủ chưa cài poppler-utils (pdftoppm) để tạo ảnh xem trước.")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.pdf"
        src.write_bytes(_read_blob(container, sha256))
        out = Path(tmp) / "out"
        try:
            proc = subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", str(page), "-l", str(page), "-singlefile",
                                   str(src), str(out)], capture_output=True, timeout=30)
        except subprocess.TimeoutExpired as exc:
            raise PreviewUnavailable("Tạo ảnh xem trước quá lâu, đã dừng.") from exc
        png = out.with_suffix(".png")
        if proc.returncode != 0 or not png.exists():
            raise PreviewUnavailable("Không đọc được trang này của tệp PDF.")
        tmp_target = target.with_suffix(".tmp")
        shutil.copyfile(png, tmp_target)
        tmp_target.replace(target)
    return target


def signature_report(container, sha256: str) -> dict:
    """The validation report (CONTRACT.md shape) of the blob, cached per SHA-256."""
    from api.routes.verify import validate_upload  # the same validation as the public /verify

    cached = cache_dir(container, sha256) / "report.json"
    # The bytes never change, but a certificate can be revoked later: re-validate after an hour.
    if cached.exists() and time.time() - cached.stat().st_mtime < REPORT_TTL_SECONDS:
        try:
            return json.loads(cached.read_text("utf-8"))
        except ValueError:
            pass
    report = validate_upload(container, _read_blob(container, sha256))
    if report.get("verdict") != "unreadable":
        cached.write_text(json.dumps(report, ensure_ascii=False, default=str), "utf-8")
    return report
