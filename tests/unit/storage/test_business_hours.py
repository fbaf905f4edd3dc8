"""Working-time arithmetic: weekends, holidays, evenings and DST changes, on the wall clock of a zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.business_hours import BusinessCalendar, CalendarError, parse_opening_hours

AMS = ZoneInfo("Europe/Amsterdam")
HOUR = 3600.0
OFFICE = "mon-fri 09:00-17:00"


def calendar(*hours: str, country: str | None = "NL") -> BusinessCalendar:
    return BusinessCalendar.from_settings(
        "Europe/Amsterdam", hours or ("mon-fri 09:00-17:00",), country, None
    )


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=AMS)  # type: ignore[misc]


def test_an_evening_counts_nothing_and_the_clock_runs_on_next_morning():
    cal = calendar()
    # Tuesday 16:00 to Wednesday 10:00: one hour before closing, one after opening.
    assert cal.working_seconds(local(2024, 5, 14, 16), local(2024, 5, 15, 10)) == 2 * HOUR
    assert cal.working_seconds(local(2024, 5, 14, 18), local(2024, 5, 15, 8)) == 0
    deadline = cal.add_working(local(2024, 5, 14, 16), 6 * HOUR)
    assert deadline.astimezone(AMS) == local(2024, 5, 15, 14)


def test_a_weekend_is_skipped():
    cal = calendar()
    friday_4pm, monday_11am = local(2024, 5, 17, 16), local(2024, 5, 20, 11)
    # 20 May 2024 is Whit Monday, a Dutch public holiday: it counts nothing either.
    assert cal.working_seconds(friday_4pm, monday_11am) == HOUR
    assert cal.add_working(friday_4pm, 3 * HOUR).astimezone(AMS) == local(2024, 5, 21, 11)
    no_holidays = calendar(country=None)
    assert no_holidays.working_seconds(friday_4pm, monday_11am) == 3 * HOUR
    assert no_holidays.add_working(friday_4pm, 3 * HOUR).astimezone(AMS) == local(2024, 5, 20, 11)


def test_holidays_follow_the_country_and_its_subdivision():
    nl, de_by = (
        calendar(),
        BusinessCalendar.from_settings("Europe/Berlin", (OFFICE,), "DE", "BY"),
    )
    kings_day = local(2023, 4, 27, 12)  # Dutch King's Day, a Thursday
    assert nl.is_holiday(kings_day.date()) and nl.opening(kings_day.date()) is None
    assert not de_by.is_holiday(kings_day.date())
    epiphany = datetime(2024, 1, 6).date()  # a holiday in Bavaria, not in the Netherlands
    assert de_by.is_holiday(epiphany) and not nl.is_holiday(epiphany)


def test_dst_changes_follow_the_wall_clock():
    around_the_clock = calendar("mon-sun 00:00-24:00", country=None)
    # Sunday 31 March 2024 has 23 hours in Amsterdam, Sunday 27 October 2024 has 25.
    assert around_the_clock.working_seconds(local(2024, 3, 31, 0), local(2024, 4, 1, 0)) == 23 * HOUR
    assert around_the_clock.working_seconds(local(2024, 10, 27, 0), local(2024, 10, 28, 0)) == 25 * HOUR
    office = calendar(country=None)
    # Friday 16:00 CET to Monday 10:00 CEST: two working hours, whatever UTC says in between.
    assert office.working_seconds(local(2024, 3, 29, 16), local(2024, 4, 1, 10)) == 2 * HOUR
    monday_9 = office.opening(local(2024, 4, 1, 12).date())
    assert monday_9 is not None and monday_9[0] == datetime(2024, 4, 1, 7, tzinfo=UTC)  # 09:00 CEST
    friday_9 = office.opening(local(2024, 3, 29, 12).date())
    assert friday_9 is not None and friday_9[0] == datetime(2024, 3, 29, 8, tzinfo=UTC)  # 09:00 CET


def test_naive_moments_are_utc_and_a_backwards_span_is_zero():
    cal = calendar(country=None)
    assert cal.working_seconds(datetime(2024, 5, 14, 8), datetime(2024, 5, 14, 9)) == HOUR  # 10-11 CEST
    assert cal.working_seconds(local(2024, 5, 14, 12), local(2024, 5, 14, 10)) == 0


def test_bad_settings_get_a_clear_error():
    with pytest.raises(CalendarError, match="expected e.g."):
        parse_opening_hours(("weekdays nine to five",))
    with pytest.raises(CalendarError, match="closes before it opens"):
        parse_opening_hours(("mon 17:00-09:00",))
    with pytest.raises(CalendarError, match="no time of day"):
        parse_opening_hours(("mon 09:00-25:00",))
    with pytest.raises(CalendarError, match="not a known IANA zone"):
        BusinessCalendar.from_settings("Mars/Olympus", ("mon-fri 09:00-17:00",), None, None)
    with pytest.raises(CalendarError, match="no public holidays known"):
        BusinessCalendar.from_settings("UTC", ("mon-fri 09:00-17:00",), "XX", None)


def test_later_lines_override_earlier_days():
    hours = parse_opening_hours(("mon-sat 08:00-20:00", "sat 10:00-14:00"))
    assert (
        hours.days[0] == (8 * 60, 20 * 60) and hours.days[5] == (10 * 60, 14 * 60) and hours.days[6] is None
    )


moments = st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda naive: naive.replace(tzinfo=UTC)
)


@settings(max_examples=150, deadline=None)
@given(start=moments, hours=st.floats(min_value=0, max_value=200))
def test_add_working_and_working_seconds_agree(start: datetime, hours: float):
    cal = calendar("mon-fri 08:30-17:30", "sat 10:00-14:00")
    deadline = cal.add_working(start, hours * HOUR)
    assert deadline >= start
    assert cal.working_seconds(start, deadline) == pytest.approx(hours * HOUR, abs=1e-3)
    # Working time never exceeds elapsed time, and the deadline sits in or at the edge of an opening.
    assert cal.working_seconds(start, deadline) <= (deadline - start).total_seconds() + 1e-3
    if hours > 0:
        opening = cal.opening(deadline.astimezone(AMS).date())
        assert opening is not None and opening[0] <= deadline <= opening[1]


@settings(max_examples=100, deadline=None)
@given(a=moments, b=moments, c=moments)
def test_working_seconds_add_up_over_a_split(a: datetime, b: datetime, c: datetime):
    first, middle, last = sorted((a, b, c))
    cal = calendar()
    whole = cal.working_seconds(first, last)
    assert whole == pytest.approx(
        cal.working_seconds(first, middle) + cal.working_seconds(middle, last), abs=1e-3
    )
    assert 0 <= whole <= (last - first).total_seconds()
