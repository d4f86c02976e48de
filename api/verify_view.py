"""The validation report shaped for people (issue 9, "a report people can act on").

- ``document``: what document this is — issuing body, number/symbol, date — from our outgoing
  registers when this installation issued it (looked up by the file's hash or a signed revision's),
  else read from the document itself (the agency seal's certificate, the "Số:" and "ngày … tháng …
  năm …" lines of page 1), else unknown; ``source`` says which.
- per signature: ``capacity`` (a sentence: the official's personal signature of <name, position>,
  the seal of <agency>, the number/date stamp, a document timestamp — never a field name) and
  times in Vietnam's time zone as ``dd/mm/yyyy HH:MM``.
- page previews (PNG rendered with poppler's ``pdftoppm``, returned as ``data:`` URIs so that the
  image lives only in that one response) with the regions changed after signing drawn on them.
"""
from __future__ import annotations

import base64
import io
import logging
import re
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ioffice.kernel.vocab import VN_TZ

log = logging.getLogger("ioffice")

PREVIEW_DPI = 60
MAX_PREVIEW_PAGES = 6  # first pages plus the pages with changes, at most this many
FIRST_PAGES = 2
_TIMEOUT = 20  # seconds for all of one file's poppler work of each kind (text, previews)


def vn_text(iso: str | None) -> str | None:
    """``dd/mm/yyyy HH:MM`` in Asia/Ho_Chi_Minh for an ISO 8601 instant (naive = UTC)."""
    if not iso:
        return None
    try:
        dt = datetime.fromisoformat(str(iso))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def _fold(s: str | None) -> str:
    import unicodedata

    s = unicodedata.normalize("NFD", s or "").replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in s if not unicodedata.combining(c)).casefold().strip()


# -- capacity -------------------------------------------------------------------------------------

def capacity(sig: dict[str, Any], document: dict[str, Any] | None) -> str:
    """Who signed, in what capacity, as one Vietnamese sentence."""
    role = sig.get("role") or ("document_timestamp" if sig.get("kind") == "document_timestamp" else "personal")
    who = sig.get("signer") or "không rõ"
    if role == "personal":
        position = None
        if document and document.get("source") == "register" and document.get("signer_name") \
                and _fold(document["signer_name"]) == _fold(sig.get("signer")):
            position = " ".join(x for x in (document.get("signer_competence"), document.get("signer_position")) if x)
        label = sig.get("role_label") or ""
        m = re.search(r"\(([^)]+)\)$", label)
        position = position or (m.group(1) if m else None)
        return f"Chữ ký số cá nhân của {who}" + (f", {position}" if position else "")
    return {
        "seal": f"Chữ ký số của cơ quan (con dấu điện tử) — {who}",
        "number_stamp": f"Chữ ký cấp số, ký hiệu văn bản — {who}",
        "date_stamp": f"Chữ ký cấp ngày ban hành văn bản — {who}",
        "copy_certification": f"Chữ ký chứng thực bản sao — {who}",
        "copy_mark": f"Chữ ký xác nhận bản sao của cơ quan — {who}",
        "document_timestamp": f"Dấu thời gian tài liệu do {who} cấp",
    }.get(role, f"Chữ ký số — {who}")


# -- what document --------------------------------------------------------------------------------

_NUMBER = re.compile(r"\bS[ốô]\s*:\s*([0-9]{1,6}\s*/\s*[^\s,;]{1,60})", re.IGNORECASE)
_DATE = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE)


def _first_page_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        return ""
    try:
        proc = subprocess.run(["pdftotext", "-q", "-f", "1", "-l", "1", "-enc", "UTF-8", str(path), "-"],
                              capture_output=True, timeout=_TIMEOUT)
    except subprocess.TimeoutExpired:
        return ""
    return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else ""


def document_from_file(report: dict[str, Any], path: Path | None) -> dict[str, Any]:
    """Best effort from the document itself: the seal's agency, the number and date lines."""
    seals = [s for s in report.get("signatures") or [] if s.get("role") == "seal" and s.get("signer")]
    text = _first_page_text(path) if path is not None else ""
    number = _NUMBER.search(text)
    day = _DATE.search(text)
    issued = None
    if day:
        try:
            issued = datetime(int(day.group(3)), int(day.group(2)), int(day.group(1))).strftime("%d/%m/%Y")
        except ValueError:
            issued = None
    out = {"source": "file" if (seals or number or issued) else "unknown",
           "issuing_body": seals[-1]["signer"] if seals else None,
           "number_symbol": re.sub(r"\s+", "", number.group(1)) if number else None,
           "issued_date_text": issued}
    return out


def document_section(container: Any, report: dict[str, Any], data: bytes) -> dict[str, Any]:
    """From the registers (by hash), else from the file's own text (written to a temporary file
    only then)."""
    from ioffice.registers.public import issued_document

    found = None
    try:
        with container.read_sessions() as s:
            found = issued_document(s, sha256=report.get("sha256"),
                                    revision_sha256s=report.get("revision_sha256s") or [])
    except Exception:  # noqa: BLE001 - the report stands without it
        log.warning("issued-document lookup failed", exc_info=True)
    if found is not None:
        return found
    if report.get("verdict") == "unreadable":
        return document_from_file(report, None)
    with tempfile.TemporaryDirectory(prefix="ioffice-verify-") as tmp:
        path = Path(tmp) / "in.pdf"
        path.write_bytes(data)
        return document_from_file(report, path)


def enrich(container: Any, report: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Add ``document``, and per signature ``capacity`` and the Vietnam-time texts."""
    doc = document_section(container, report, data)
    report["document"] = doc
    for s in report.get("signatures") or []:
        s["capacity"] = capacity(s, doc)
        s["signing_time_text"] = vn_text(s.get("signing_time"))
        s["timestamp_text"] = vn_text(s.get("timestamp"))
    return report


# -- previews -------------------------------------------------------------------------------------

def _page_boxes(path: Path, last: int) -> tuple[int, dict[int, tuple[list[float], int]]]:
    """(page count, {page: (crop box, rotation)}) from poppler's pdfinfo."""
    proc = subprocess.run(["pdfinfo", "-box", "-f", "1", "-l", str(last), str(path)],
                          capture_output=True, timeout=_TIMEOUT)
    text = proc.stdout.decode("utf-8", "replace")
    m = re.search(r"^Pages:\s+(\d+)", text, re.M)
    pages = int(m.group(1)) if m else 0
    boxes: dict[int, tuple[list[float], int]] = {}
    for pm in re.finditer(r"^Page\s+(\d+)\s+CropBox:\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)", text, re.M):
        boxes[int(pm.group(1))] = ([float(pm.group(i)) for i in range(2, 6)], 0)
    for rm in re.finditer(r"^Page\s+(\d+)\s+rot:\s+(\d+)", text, re.M):
        n = int(rm.group(1))
        if n in boxes:
            boxes[n] = (boxes[n][0], int(rm.group(2)) % 360)
    return pages, boxes


def _draw(png: bytes, box: list[float] | None, rotation: int, regions: list[tuple[int, dict[str, Any]]]) -> bytes:
    """Outline each region (PDF points) on the page image, numbered like the list under it."""
    if not regions:
        return png
    from PIL import Image, ImageDraw, ImageFont

    img = Image.open(io.BytesIO(png)).convert("RGB")
    draw = ImageDraw.Draw(img)
    try:
        font: Any = ImageFont.load_default(size=15)
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()
    w, h = img.size
    for n, reg in regions:
        rect = reg.get("rect")
        colour = (176, 0, 32) if not reg.get("permitted") else (178, 106, 0)
        if rect and box and rotation == 0 and box[2] > box[0] and box[3] > box[1]:
            sx, sy = w / (box[2] - box[0]), h / (box[3] - box[1])
            x1, y1 = (rect[0] - box[0]) * sx, h - (rect[3] - box[1]) * sy
            x2, y2 = (rect[2] - box[0]) * sx, h - (rect[1] - box[1]) * sy
            x1, x2 = max(0, min(x1, x2)), min(w - 1, max(x1, x2))
            y1, y2 = max(0, min(y1, y2)), min(h - 1, max(y1, y2))
        else:  # region unknown on the page: frame the whole page
            x1, y1, x2, y2 = 2, 2, w - 3, h - 3
        draw.rectangle([x1 - 2, y1 - 2, x2 + 2, y2 + 2], outline=colour, width=3)
        tag = str(n)
        tx, ty = max(0, x1 - 2), max(0, y1 - 22)
        draw.rectangle([tx, ty, tx + 10 + 9 * len(tag), ty + 20], fill=colour)
        draw.text((tx + 5, ty + 2), tag, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def previews(data: bytes, regions: list[dict[str, Any]] | None = None,
             first_pages: int = FIRST_PAGES) -> list[dict[str, Any]]:
    """Page previews as ``data:`` URIs (nothing kept on the server), the changed regions drawn
    and numbered: ``[{page, src, alt, regions: [{n, change, permitted}]}]``. Empty when poppler
    is missing or the file cannot be rendered."""
    if shutil.which("pdftoppm") is None or shutil.which("pdfinfo") is None:
        return []
    numbered = [(i + 1, r) for i, r in enumerate(regions or [])]
    try:
        with tempfile.TemporaryDirectory(prefix="ioffice-preview-") as tmp:
            src = Path(tmp) / "in.pdf"
            src.write_bytes(data)
            wanted_regions = sorted({int(r.get("page") or 0) for _n, r in numbered if r.get("page")})
            pages, boxes = _page_boxes(src, max([first_pages, *wanted_regions]))
            wanted = sorted({p for p in [*range(1, first_pages + 1), *wanted_regions] if 1 <= p <= pages})
            wanted = wanted[:MAX_PREVIEW_PAGES]
            out = []
            deadline = time.monotonic() + _TIMEOUT
            for page in wanted:
                left = deadline - time.monotonic()
                if left <= 0:  # a hostile or huge file: the pages rendered so far are shown
                    break
                target = Path(tmp) / f"p{page}"
                try:
                    proc = subprocess.run(["pdftoppm", "-png", "-r", str(PREVIEW_DPI), "-f", str(page), "-l",
                                           str(page), "-singlefile", str(src), str(target)],
                                          capture_output=True, timeout=left)
                except subprocess.TimeoutExpired:
                    break
                png_path = target.with_suffix(".png")
                if proc.returncode != 0 or not png_path.exists():
                    continue
                here = [(n, r) for n, r in numbered if r.get("page") == page]
                box, rot = boxes.get(page, (None, 0))
                png = _draw(png_path.read_bytes(), box, rot, here)
                alt = f"Trang {page}/{pages} của văn bản"
                if here:
                    alt += " — vùng thay đổi sau khi ký được đánh số " + ", ".join(str(n) for n, _r in here)
                out.append({"page": page, "pages": pages, "alt": alt,
                            "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                            "regions": [{"n": n, "change": r.get("change"), "permitted": bool(r.get("permitted"))}
                                        for n, r in here]})
            return out
    except (OSError, subprocess.SubprocessError, ValueError):
        log.warning("page previews failed", exc_info=True)
        return []
