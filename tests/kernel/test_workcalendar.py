"""Working-day arithmetic in Vietnam time, with Tết and the other public holidays."""
from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from ioffice.kernel import workcalendar as wc


def test_weekends_are_not_working_days():
    assert wc.is_working_day(date(2026, 3, 6))  # Friday
    assert not wc.is_working_day(date(2026, 3, 7))  # Saturday
    assert not wc.is_working_day(date(2026, 3, 8))  # Sunday


def test_public_holidays_2024_to_2027():
    for d in [date(2024, 1, 1), date(2024, 4, 18), date(2024, 4, 30), date(2024, 5, 1), date(2024, 9, 2),
              date(2025, 4, 7), date(2025, 9, 1), date(2026, 4, 27), date(2026, 9, 2), date(2027, 4, 16),
              date(2027, 5, 3), date(2027, 9, 3)]:
        assert not wc.is_working_day(d), d


def test_tet_takes_a_whole_week():
    # Tết Bính Ngọ: mùng 1 is Tuesday 17 February 2026.
    for day in range(16, 21):
        assert not wc.is_working_day(date(2026, 2, day))
    # A document received on Friday 13 February with a 3-working-day deadline is due on 25 February.
    assert wc.add_working_days(date(2026, 2, 13), 3) == date(2026, 2, 25)
    assert wc.working_days_between(date(2026, 2, 13), date(2026, 2, 25)) == 3


def test_makeup_saturday_counts_as_working_day():
    assert wc.is_working_day(date(2024, 5, 4))
    assert not wc.is_working_day(date(2024, 4, 29))


def test_add_working_days_skips_weekends_and_counts_backwards():
    assert wc.add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)
    assert wc.add_working_days(date(2026, 3, 9), -1) == date(2026, 3, 6)
    assert wc.add_working_days(date(2026, 3, 7), 0) == date(2026, 3, 9)
    assert wc.add_working_days(date(2026, 3, 4), 0) == date(2026, 3, 4)
    assert wc.working_days_between(date(2026, 3, 9), date(2026, 3, 6)) == -1


def test_working_days_between_matches_add_over_long_spans():
    start = date(2025, 12, 15)
    for n in (1, 5, 10, 37, 120):
        end = wc.add_working_days(start, n)
        assert wc.working_days_between(start, end) == n


def test_extra_holidays_from_settings():
    extra = wc.parse_dates("2026-03-10, 2026-03-11")
    assert wc.add_working_days(date(2026, 3, 9), 1, holidays=extra) == date(2026, 3, 12)
    assert wc.add_working_days(date(2026, 3, 9), 1) == date(2026, 3, 10)
    try:
        wc.configure(extra)
        assert not wc.is_working_day(date(2026, 3, 10))
    finally:
        wc.configure()
    assert wc.is_working_day(date(2026, 3, 10))


def test_parse_dates_rejects_garbage():
    import pytest

    from ioffice.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput):
        wc.parse_dates("2026-13-01")


def test_datetime_is_taken_in_vietnam_time():
    # 18:00 UTC Friday is 01:00 Saturday in Hà Nội.
    late_friday_utc = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    assert wc.to_vn_date(late_friday_utc) == date(2026, 3, 7)
    assert wc.add_working_days(late_friday_utc, 1) == date(2026, 3, 9)


def test_vn_today_changes_at_midnight_vietnam_time():
    with time_machine.travel(datetime(2026, 12, 31, 16, 59, tzinfo=UTC), tick=False):
        assert wc.vn_today() == date(2026, 12, 31)
    with time_machine.travel(datetime(2026, 12, 31, 17, 0, tzinfo=UTC), tick=False):
        assert wc.vn_today() == date(2027, 1, 1)
