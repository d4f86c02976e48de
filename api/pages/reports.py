"""Reports with charts and CSV export: documents received and issued per unit and type; incoming
work handled on time, late or overdue per unit and handler; certified copies and fees per month.

The charts are drawn by Chart.js (vendored, ``api/static/vendor/chartjs``) from the data in a
``data-chart`` attribute (no inline script: the strict CSP holds); every chart has the same
figures in a table next to it, so nothing depends on colour or on JavaScript."""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ioffice.copies import copies_report, rules
from ioffice.handling import followup
from ioffice.handling.volume import volume_report
from ioffice.kernel.errors import InvalidInput, PermissionDenied
from ioffice.kernel.workcalendar import vn_today

from ..deps import SessionDep
from ..exports import rows_to_csv
from .common import render
from .session import PageUser

router = APIRouter(include_in_schema=False)
DOC_READERS = ("clerk", "unit_head", "leader")
COPY_READERS = ("certifier", "clerk", "unit_head", "leader")
KINDS = {"volume": DOC_READERS, "follow-up": DOC_READERS, "copies": COPY_READERS}
OUTCOME_COLS = [("on_time", "Đúng hạn"), ("late", "Trễ hạn"), ("overdue", "Quá hạn"),
                ("pending", "Đang xử lý trong hạn")]


def _period(date_from: str | None, date_to: str | None) -> tuple[date, date]:
    today = vn_today()
    try:
        start = date.fromisoformat(date_from) if date_from else date(today.year, 1, 1)
        end = date.fromisoformat(date_to) if date_to else today
    except ValueError as exc:
        raise InvalidInput("Ngày không đúng định dạng.") from exc
    if not (date(1900, 1, 1) <= start <= date(2999, 12, 31) and date(1900, 1, 1) <= end <= date(2999, 12, 31)):
        raise InvalidInput("Ngày phải trong khoảng từ năm 1900 đến năm 2999.")
    if end < start:
        raise InvalidInput("Khoảng thời gian không hợp lệ (từ ngày sau đến ngày).")
    if (end - start).days > 3660:
        raise InvalidInput("Khoảng thời gian tối đa 10 năm.")
    return start, end


def _volume(db, org_id: str, start: date, end: date) -> dict[str, Any]:
    counts = volume_report(db, org_id=org_id, date_from=start, date_to=end)
    header = ["Đơn vị", "Loại văn bản", "Văn bản đến", "Văn bản đi"]
    rows = [[c.unit, c.doc_type, c.received, c.issued] for c in counts]
    units: dict[str, list[int]] = {}
    for c in counts:
        acc = units.setdefault(c.unit, [0, 0])
        acc[0] += c.received
        acc[1] += c.issued
    chart = {"type": "bar", "labels": list(units), "stacked": False,
             "series": [{"label": "Văn bản đến", "data": [v[0] for v in units.values()]},
                        {"label": "Văn bản đi", "data": [v[1] for v in units.values()]}]}
    totals = [sum(c.received for c in counts), sum(c.issued for c in counts)]
    return {"header": header, "rows": rows, "chart": chart, "totals": totals}


def _follow_up(db, org_id: str, start: date, end: date) -> dict[str, Any]:
    by_unit, by_handler = followup.follow_up_report(db, org_id=org_id, date_from=start, date_to=end)
    header = ["Đơn vị", "Người xử lý"] + [label for _, label in OUTCOME_COLS] + ["Tổng"]
    rows = [[c.unit, c.handler or "—"] + [getattr(c, k) for k, _ in OUTCOME_COLS] + [c.total] for c in by_handler]
    chart = {"type": "bar", "labels": [c.unit or "—" for c in by_unit], "stacked": True,
             "series": [{"label": label, "data": [getattr(c, k) for c in by_unit]} for k, label in OUTCOME_COLS]}
    unit_rows = [[c.unit or "—"] + [getattr(c, k) for k, _ in OUTCOME_COLS] + [c.total] for c in by_unit]
    return {"header": header, "rows": rows, "chart": chart, "unit_rows": unit_rows}


def _copies(db, org_id: str, start: date, end: date) -> dict[str, Any]:
    periods = copies_report(db, org_id=org_id, date_from=start, date_to=end)
    header = ["Tháng", "Số yêu cầu", "Số bản sao", "Số trang", "Lệ phí (đồng)"]
    rows = [[f"{p.period[5:7]}/{p.period[:4]}", p.requests, p.copies, p.pages, p.fee] for p in periods]
    chart = {"type": "bar", "labels": [r[0] for r in rows], "stacked": False, "y2": True,
             "series": [{"label": "Số bản sao", "data": [p.copies for p in periods]},
                        {"label": "Lệ phí (nghìn đồng)", "data": [round(p.fee / 1000, 1) for p in periods],
                         "axis": "y2", "kind": "line"}]}
    return {"header": header, "rows": rows, "chart": chart,
            "totals": [sum(p.requests for p in periods), sum(p.copies for p in periods), sum(p.fee for p in periods)]}


BUILDERS = {"volume": _volume, "follow-up": _follow_up, "copies": _copies}


@router.get("/reports")
def reports_page(request: Request, db: SessionDep, user: PageUser, date_from: str | None = None,
                 date_to: str | None = None):
    kinds = [k for k, roles in KINDS.items() if user.has_role(*roles)]
    if not kinds:
        raise PermissionDenied("Vai trò của bạn không xem được báo cáo.")
    start, end = _period(date_from, date_to)
    sections = {k: BUILDERS[k](db, user.org_id, start, end) for k in kinds}
    for s in sections.values():
        s["chart_json"] = json.dumps(s["chart"], ensure_ascii=False)
    query = f"date_from={start.isoformat()}&date_to={end.isoformat()}"
    return render(request, "reports.html", {"sections": sections, "start": start, "end": end, "query": query,
                                            "money": rules.money})


@router.get("/reports/{kind}.csv")
def report_csv(kind: str, db: SessionDep, user: PageUser, date_from: str | None = None, date_to: str | None = None):
    if kind not in KINDS:
        raise InvalidInput("Không có báo cáo này.")
    if not user.has_role(*KINDS[kind]):
        raise PermissionDenied("Vai trò của bạn không xem được báo cáo này.")
    start, end = _period(date_from, date_to)
    data = BUILDERS[kind](db, user.org_id, start, end)
    name = f"bao-cao-{kind}-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(rows_to_csv(data["header"], data["rows"]), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
