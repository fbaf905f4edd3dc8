"""Working time: the organisation's opening hours per weekday, its public holidays and its time zone.

A response-time target ("an e-mail is answered within 6 working hours") counts only the time the
organisation is open; the figures count first-response times the same way. Both ask two things:
how much working time lies between two moments (``working_seconds``), and when a given amount of
working time after a moment is over (``add_working``).

Why our own: the one maintained-looking package for this, ``businesstimedelta`` (last release
2019), builds on pytz and per-rule objects; ``workalendar`` (2023) counts whole days, not hours. The
arithmetic here is small: each day's opening is put on the wall clock of the zone and turned into
UTC, so days of 23 or 25 hours (DST changes) count what the clock on the wall says. Holidays come
from the ``holidays`` package (offline, MIT), by country and optional subdivision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "WEEKDAYS",
    "BusinessCalendar",
    "CalendarError",
    "OpeningHours",
    "parse_opening_hours",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_SPEC = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+(?P<open>\d{1,2}:\d{2})-(?P<close>\d{1,2}:\d{2})$"
)
# Looking further than this for the end of a target means no opening hours at all (checked on load).
_MAX_DAYS_AHEAD = 400


class CalendarError(ValueError):
    """Opening hours, a zone or a holiday country that cannot be used; the message says which."""


@dataclass(frozen=True)
class OpeningHours:
    """Per weekday (Monday first) the hours open as (open, close) minutes after midnight, or None
    when closed. One span per day: a lunch break is rare enough in contact centres to leave out."""

    days: tuple[tuple[int, int] | None, ...]

    def __post_init__(self) -> None:
        if len(self.days) != 7:
            raise CalendarError("opening hours need seven weekdays")


def parse_opening_hours(specs: tuple[str, ...]) -> OpeningHours:
    """``("mon-fri 09:00-17:00", "sat 10:00-14:00")`` -> OpeningHours; unnamed days are closed,
    ``24:00`` closes at midnight, and a later line overrides an earlier one for the days it names."""
    days: list[tuple[int, int] | None] = [None] * 7
    for spec in specs:
        match = _DAY_SPEC.match(spec.strip().lower())
        if match is None:
            raise CalendarError(f"opening hours {spec!r}: expected e.g. 'mon-fri 09:00-17:00'")
        first, last = match["first"], match["last"] or match["first"]
        if first not in WEEKDAYS or last not in WEEKDAYS:
            raise CalendarError(f"opening hours {spec!r}: days are {', '.join(WEEKDAYS)}")
        opens, closes = _minutes(match["open"], spec), _minutes(match["close"], spec)
        if closes <= opens:
            raise CalendarError(f"opening hours {spec!r}: closes before it opens")
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last)
        if end < start:
            raise CalendarError(f"opening hours {spec!r}: {first}-{last} runs backwards")
        for day in range(start, end + 1):
            days[day] = (opens, closes)
    if not any(days):
        raise CalendarError("opening hours: open on no day at all")
    return OpeningHours(tuple(days))


def _minutes(text: str, spec: str) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise CalendarError(f"opening hours {spec!r}: {text} is no time of day")
    return hours * 60 + minutes


@dataclass(frozen=True)
class BusinessCalendar:
    zone: ZoneInfo
    hours: OpeningHours
    holiday_country: str | None = None  # ISO 3166 code; None: no public holidays
    holiday_subdivision: str | None = None  # e.g. "BY" (Bavaria) where holidays differ by region

    @classmethod
    def from_settings(
        cls, timezone: str, opening_hours: tuple[str, ...], country: str | None, subdivision: str | None
    ) -> BusinessCalendar:
        """A calendar from the plain values of the settings, with one clear error for a bad one."""
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(
                f"timezone {timezone!r} is not a known IANA zone (e.g. Europe/Amsterdam)"
            ) from None
        calendar = cls(zone, parse_opening_hours(opening_hours), country or None, subdivision or None)
        if calendar.holiday_country is not None:
            try:
                holidays.country_holidays(calendar.holiday_country, subdiv=calendar.holiday_subdivision)
            except NotImplementedError:
                raise CalendarError(
                    f"holidays: no public holidays known for country {calendar.holiday_country!r}"
                    + (
                        f" subdivision {calendar.holiday_subdivision!r}"
                        if calendar.holiday_subdivision
                        else ""
                    )
                ) from None
        return calendar

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if self.holiday_country is None:
            return None
        # Years are filled in as they are asked for (expand=True), so one object serves any date.
        return holidays.country_holidays(self.holiday_country, subdiv=self.holiday_subdivision)

    def is_holiday(self, day: date) -> bool:
        return self._holidays is not None and day in self._holidays

    def opening(self, day: date) -> tuple[datetime, datetime] | None:
        """When ``day`` (a date on the organisation's wall clock) opens and closes, in UTC; None when
        closed. Wall-clock times are converted one by one, so a DST change night shortens or
        lengthens only a span that covers it."""
        span = self.hours.days[day.weekday()]
        if span is None or self.is_holiday(day):
            return None
        midnight = datetime.combine(day, time(), tzinfo=self.zone)
        opens = _wall(midnight, span[0], self.zone)
        closes = _wall(midnight, span[1], self.zone)
        return opens, closes

    def spans(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open spans between two moments, in UTC, clipped to them, in order."""
        start, end = _utc(start), _utc(end)
        day = start.astimezone(self.zone).date() - timedelta(days=1)  # a span may start the day before
        while True:
            opening = self.opening(day)
            day += timedelta(days=1)
            if opening is None:
                if day > end.astimezone(self.zone).date():
                    return
                continue
            opens, closes = opening
            if opens >= end:
                return
            if closes > start:
                yield max(opens, start), min(closes, end)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Working time from ``start`` to ``end``; 0 when ``end`` is not after ``start``."""
        if _utc(end) <= _utc(start):
            return 0.0
        return sum((b - a).total_seconds() for a, b in self.spans(start, end))

    def add_working(self, start: datetime, seconds: float) -> datetime:
        """The moment (UTC) at which ``seconds`` of working time after ``start`` are over: a target's
        deadline. A target of 0 ends at ``start`` itself, or at the next opening when closed."""
        left = max(seconds, 0.0)
        moment = _utc(start)
        day = moment.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS_AHEAD):
            opening = self.opening(day)
            day += timedelta(days=1)
            if opening is None or opening[1] <= moment:
                continue
            opens = max(opening[0], moment)
            available = (opening[1] - opens).total_seconds()
            if left <= available:
                return opens + timedelta(seconds=left)
            left -= available
        raise CalendarError(f"no opening hours within {_MAX_DAYS_AHEAD} days of {moment:%Y-%m-%d}")


def _wall(midnight: datetime, minutes: int, zone: ZoneInfo) -> datetime:
    """``minutes`` after midnight on the wall clock, in UTC (24:00 is the next midnight). A time the
    clock skips (02:30 on a spring-forward night) reads as it would before the change, as zoneinfo does."""
    local = datetime.combine(midnight.date(), time(), tzinfo=zone) + timedelta(days=minutes // 1440)
    wall = local.replace(hour=(minutes % 1440) // 60, minute=minutes % 60)
    return wall.astimezone(UTC)


def _utc(moment: datetime) -> datetime:
    """Storage keeps UTC (naive in SQLite): a naive moment is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
