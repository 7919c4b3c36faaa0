"""Vardagar: the calendar of Swedish working days, wherever the rulebook says vardagar.

A working day is Monday to Friday and not a Swedish public holiday. Midsommarafton, julafton
and nyårsafton count as holidays too: lag (1930:173) om beräkning av lagstadgad tid treats
them like a Sunday, and the region's units are closed then. (These live in the ``holidays``
package's *de facto* category.)
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays


@functools.lru_cache(maxsize=64)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.Sweden(
        years=year, include_sundays=False, categories=("public", "de_facto"), language="sv"
    )


def holiday_name(day: dt.date) -> str | None:
    """The Swedish name of the holiday on ``day``, if it is one."""
    return _holidays(day.year).get(day)


def is_working_day(day: dt.date) -> bool:
    """Vardag: Monday–Friday and not a holiday."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted).

    "Besvaras inom tre vardagar" from a case sent on a Friday: add_working_days(friday, 3) is the
    Wednesday after, or later if a holiday falls in between.
    """
    if days < 0:
        raise ValueError("days must be zero or more")
    day = start
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 if ``end`` <= ``start``)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
