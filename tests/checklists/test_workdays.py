"""Swedish working days (vardagar): weekends and holidays, including the eves that count."""

import datetime as dt

import pytest

from checklists.workdays import (
    add_working_days,
    holiday_name,
    is_working_day,
    working_days_between,
)

D = dt.date


@pytest.mark.parametrize(
    "day, working",
    [
        (D(2025, 11, 24), True),  # Monday
        (D(2025, 11, 22), False),  # Saturday
        (D(2025, 11, 23), False),  # Sunday
        (D(2025, 1, 6), False),  # Trettondedag jul
        (D(2025, 4, 18), False),  # Långfredagen
        (D(2025, 4, 21), False),  # Annandag påsk
        (D(2025, 5, 1), False),  # Första maj
        (D(2025, 5, 29), False),  # Kristi himmelsfärdsdag
        (D(2025, 6, 6), False),  # Nationaldagen (a Friday in 2025)
        (D(2025, 6, 20), False),  # Midsommarafton
        (D(2025, 12, 24), False),  # Julafton
        (D(2025, 12, 31), False),  # Nyårsafton
        (D(2025, 12, 23), True),
        (D(2026, 1, 2), True),
    ],
)
def test_is_working_day(day, working):
    assert is_working_day(day) is working


def test_holiday_names_are_swedish():
    assert holiday_name(D(2025, 6, 20)) == "Midsommarafton"
    assert holiday_name(D(2025, 11, 24)) is None


@pytest.mark.parametrize(
    "start, days, expected",
    [
        (D(2025, 11, 24), 3, D(2025, 11, 27)),  # Mon + 3 = Thu
        (D(2025, 11, 28), 3, D(2025, 12, 3)),  # Fri + 3 = Wed
        (D(2025, 4, 17), 3, D(2025, 4, 24)),  # Skärtorsdag: Easter Fri and Mon skipped
        (D(2025, 12, 23), 3, D(2026, 1, 2)),  # 24–26 and 31 Dec, 1 Jan off: 29, 30, 2 Jan
        (D(2025, 12, 30), 1, D(2026, 1, 2)),  # nyårsafton and nyårsdagen off, across years
        (D(2025, 11, 24), 0, D(2025, 11, 24)),
    ],
)
def test_add_working_days(start, days, expected):
    assert add_working_days(start, days) == expected


def test_working_days_between_matches_adding():
    start = D(2025, 6, 16)
    for n in range(15):
        assert working_days_between(start, add_working_days(start, n)) == n


def test_negative_days_refused():
    with pytest.raises(ValueError):
        add_working_days(D(2025, 1, 1), -1)
