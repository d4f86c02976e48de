"""Previews: the appearances a signing or an issue would add, drawn straight into the pages (no
signature field, no key, no timestamp), so that the result can be rendered and looked at before
anything is signed or stored."""
from __future__ import annotations

import io
from typing import Any

from ioffice.kernel.errors import InvalidDocument


def stamp_into(pdf: bytes, appearances: list[Any]) -> bytes:
    """``pdf`` with each ``VisibleSignature`` of ``appearances`` drawn at its page and box."""
    from pyhanko.pdf_utils import layout
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        count = int(writer.root["/Pages"]["/Count"])
    except Exception as exc:  # pyHanko raises many kinds on a damaged file
        raise InvalidDocument("Không đọc được cấu trúc tệp PDF (tệp hỏng).") from exc
    for app in appearances:
        x1, y1, x2, y2 = app.box
        page = app.page if app.page >= 0 else count + app.page
        stamp = app.stamp_style.create_stamp(writer, layout.BoxConstraints(width=x2 - x1, height=y2 - y1),
                                             dict(app.text_params or {}))
        stamp.apply(page, x1, y1)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
