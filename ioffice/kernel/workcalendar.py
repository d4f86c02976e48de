"""Working days in Vietnam (Asia/Ho_Chi_Minh): Monday–Friday minus public holidays.

Deadlines (hạn xử lý) are counted in working days. The built-in list holds the public holidays of
the Labour Code 2019 (art. 112) for 2024–2027 as the government scheduled them: solar New Year
(1/1), Tết Nguyên Đán (5 working days), Giỗ Tổ Hùng Vương (10/3 lunar), 30/4, 1/5, Quốc khánh 2/9
plus the adjacent day, Ngày Văn hóa Việt Nam 24/11 (from 2026), the compensatory days off when a
holiday falls on a weekend, and the swapped days off. Saturdays that the government turned into
working days (to make up a swapped day) count as working days.

Each year's schedule is announced late, so the list is extendable: the API layer parses
``IOFFICE_HOLIDAYS`` (comma-separated ISO dates, see :func:`parse_dates`) and calls
:func:`configure` once at start-up; every function also accepts an explicit ``holidays`` set.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from ioffice.kernel.errors import InvalidInput
from ioffice.kernel.vocab import VN_TZ


def _d(*isos: str) -> frozenset[date]:
    return frozenset(date.fromisoformat(s) for s in isos)


# Days off that fall on Monday–Friday (weekend holidays need no entry; their compensatory
# weekday does). Cross-checked against the government's yearly announcements.
BUILTIN_HOLIDAYS: frozenset[date] = _d(
    # 2024
    "2024-01-01",  # Tết Dương lịch
    "2024-02-08", "2024-02-09", "2024-02-12", "2024-02-13", "2024-02-14",  # Tết Giáp Thìn (mùng 1 = 10/2)
    "2024-04-18",  # Giỗ Tổ Hùng Vương (10/3 Giáp Thìn)
    "2024-04-29",  # swapped day off (made up on Saturday 4/5)
    "2024-04-30", "2024-05-01",
    "2024-09-02", "2024-09-03",  # Quốc khánh + adjacent day
    # 2025
    "2025-01-01",
    "2025-01-27", "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31",  # Tết Ất Tỵ (mùng 1 = 29/1)
    "2025-04-07",  # Giỗ Tổ (10/3 Ất Tỵ)
    "2025-04-30", "2025-05-01",
    "2025-05-02",  # swapped day off (made up on Saturday 26/4)
    "2025-09-01", "2025-09-02",
    # 2026
    "2026-01-01",
    "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20",  # Tết Bính Ngọ (mùng 1 = 17/2)
    "2026-04-27",  # Giỗ Tổ falls on Sunday 26/4 → compensatory Monday
    "2026-04-30", "2026-05-01",
    "2026-08-31",  # swapped day off (made up on Saturday 22/8)
    "2026-09-01", "2026-09-02",
    "2026-11-24",  # Ngày Văn hóa Việt Nam
    # 2027
    "2027-01-01",
    "2027-02-04", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",  # Tết Đinh Mùi (mùng 1 = 6/2)
    "2027-04-16",  # Giỗ Tổ (10/3 Đinh Mùi)
    "2027-04-30",
    "2027-05-03",  # 1/5 falls on Saturday → compensatory Monday
    "2027-09-02", "2027-09-03",
    "2027-11-24",
)

# Saturdays worked to make up a swapped day off.
BUILTIN_MAKEUP_WORKDAYS: frozenset[date] = _d("2024-05-04", "2025-04-26", "2026-08-22")


@dataclass(frozen=True)
class WorkCalendar:
    """Monday–Friday working days minus ``holidays``, plus ``makeup_workdays`` (worked weekend days)."""

    holidays: frozenset[date] = BUILTIN_HOLIDAYS
    makeup_workdays: frozenset[date] = field(default=BUILTIN_MAKEUP_WORKDAYS)

    def with_holidays(self, extra: Iterable[date]) -> WorkCalendar:
        return WorkCalendar(holidays=self.holidays | frozenset(extra), makeup_workdays=self.makeup_workdays)

    def is_working_day(self, d: date | datetime) -> bool:
        d = to_vn_date(d)
        if d in self.holidays:
            return False
        return d.weekday() < 5 or d in self.makeup_workdays

    def add_working_days(self, start: date | datetime, n: int) -> date:
        """The ``n``-th working day after ``start`` (a datetime is first taken in Vietnam time).

        ``n == 0`` gives ``start`` itself when it is a working day, else the next working day;
        a negative ``n`` counts backwards.
        """
        d = to_vn_date(start)
        if n == 0:
            while not self.is_working_day(d):
                d += timedelta(days=1)
            return d
        step = 1 if n > 0 else -1
        remaining = abs(n)
        while remaining:
            d += timedelta(days=step)
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days in the half-open interval (a, b]; negative when ``b`` is before ``a``.

        So ``working_days_between(a, add_working_days(a, n)) == n`` for n > 0.
        """
        a, b = to_vn_date(a), to_vn_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        # Whole weeks first, so long spans stay cheap.
        d = a
        while (b - d).days >= 7:
            for i in range(1, 8):
                if self.is_working_day(d + timedelta(days=i)):
                    count += 1
            d += timedelta(days=7)
        while d < b:
            d += timedelta(days=1)
            if self.is_working_day(d):
                count += 1
        return count


_default = WorkCalendar()


def configure(extra_holidays: Iterable[date] = ()) -> WorkCalendar:
    """Set the process-wide calendar: the built-in list plus ``extra_holidays`` (from settings)."""
    global _default
    _default = WorkCalendar().with_holidays(extra_holidays)
    return _default


def default_calendar() -> WorkCalendar:
    return _default


def _cal(holidays: Iterable[date] | None) -> WorkCalendar:
    return _default if holidays is None else _default.with_holidays(holidays)


def parse_dates(value: str | Iterable[str] | None) -> list[date]:
    """Parse ``"2026-01-02,2026-12-31"`` (or a list of ISO strings). Raises InvalidInput."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    out: list[date] = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        try:
            out.append(date.fromisoformat(item))
        except ValueError as exc:
            raise InvalidInput(f"Ngày nghỉ không hợp lệ: «{item}» (định dạng YYYY-MM-DD).") from exc
    return out


def to_vn_date(value: date | datetime) -> date:
    """The calendar date in Vietnam of ``value`` (naive datetimes are taken as UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(VN_TZ).date()
    return value


def vn_now(now: datetime | None = None) -> datetime:
    """The current (or given) instant as an aware datetime in Asia/Ho_Chi_Minh."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(VN_TZ)


def vn_today(now: datetime | None = None) -> date:
    """Today's date in Vietnam (UTC+7): 17:30 UTC on 31 December is already 1 January there."""
    return vn_now(now).date()


def is_working_day(d: date | datetime, *, holidays: Iterable[date] | None = None) -> bool:
    """True for Monday–Friday (and make-up Saturdays) that are not public holidays."""
    return _cal(holidays).is_working_day(d)


def add_working_days(start: date | datetime, n: int, *, holidays: Iterable[date] | None = None) -> date:
    """The ``n``-th working day after ``start``; ``holidays`` adds to the configured list."""
    return _cal(holidays).add_working_days(start, n)


def working_days_between(a: date | datetime, b: date | datetime, *,
                         holidays: Iterable[date] | None = None) -> int:
    """Working days in (a, b]; negative when ``b`` is before ``a``."""
    return _cal(holidays).working_days_between(a, b)
