"""The pure rules of certified copies: fee, due date, code, masking, book label."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from ioffice.copies import rules
from ioffice.kernel.errors import InvalidInput


@pytest.mark.parametrize("pages,expected", [
    (1, 2_000), (2, 4_000), (3, 5_000), (5, 7_000), (100, 102_000),
    (198, 200_000), (199, 200_000), (500, 200_000),  # the cap: 200,000 VND per copy
])
def test_fee_per_copy(pages, expected):
    assert rules.fee_per_copy(pages) == expected


def test_fee_times_copies_and_cap_applies_per_copy():
    assert rules.fee(5, 3) == 21_000
    assert rules.fee(400, 2) == 400_000
    with pytest.raises(InvalidInput):
        rules.fee(5, 0)


def test_due_same_day_before_15h_next_working_day_after():
    # Thursday 26/11/2026: 14:59 Vietnam time (07:59 UTC) → same day
    assert rules.due_date(datetime(2026, 11, 26, 7, 59, tzinfo=UTC)) == date(2026, 11, 26)
    # 15:30 Vietnam time → Friday
    assert rules.due_date(datetime(2026, 11, 26, 8, 30, tzinfo=UTC)) == date(2026, 11, 27)
    # Friday 27/11 at 16:00 → Monday 30/11 (the weekend is skipped)
    assert rules.due_date(datetime(2026, 11, 27, 9, 0, tzinfo=UTC)) == date(2026, 11, 30)
    # Monday 23/11/2026 at 15:10 → Wednesday 25/11, because 24/11 is Ngày Văn hóa Việt Nam (a holiday)
    assert rules.due_date(datetime(2026, 11, 23, 8, 10, tzinfo=UTC)) == date(2026, 11, 25)
    # 23:30 UTC on Friday is already Saturday morning in Vietnam → the next working day, Monday
    assert rules.due_date(datetime(2026, 11, 27, 23, 30, tzinfo=UTC)) == date(2026, 11, 30)


def test_masking_hides_the_name_but_keeps_initials():
    assert rules.mask_name("Nguyễn Thị Hoa") == "N*** T** H**"
    assert rules.mask_name("  Lê   Văn   Nam ") == "L* V** N**"
    assert rules.mask_name("Ư") == "Ư"


def test_codes_are_long_random_and_unique():
    codes = {rules.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for c in list(codes)[:50]:
        assert re.fullmatch(r"[A-Z2-7]{32}", c)  # 32 base32 characters = 160 bits
        assert rules.normalise_code(c.lower()) == c
    for bad in ("", "abc", "0" * 32, "A" * 31, "A" * 33, "<script>" + "A" * 24):
        with pytest.raises(InvalidInput):
            rules.normalise_code(bad)


def test_book_label():
    assert rules.book_label(1) == "01-SCTĐT/BS"
    assert rules.book_label(12) == "12-SCTĐT/BS"
    assert rules.money(1234567) == "1.234.567"
