"""Business time: when a shop is open, and how much open time lies between two instants. No I/O.

A shop's hours are wall-clock periods in its own time zone ("Monday 09:00-13:00
and 14:00-18:00 in Europe/Rome"), closed on its country's public holidays
(the ``holidays`` package) and on closures of its own. Everything here takes
and returns timezone-aware instants; the server's own time zone never
matters. Periods are turned into instants day by day through ``zoneinfo``,
so a day with a DST switch is an hour shorter or longer, as the clock on the
wall says.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from pronto.errors import NeverOpen

MINUTES_PER_DAY = 24 * 60
# How far ahead a deadline is searched for before the calendar is called never open.
HORIZON = timedelta(days=3 * 366)


# A calendar must open at least once in any such span from now on, or it is refused: a target in
# business time would have no deadline, and every clock of the shop would fail.
OPEN_AT_LEAST_ONCE_IN = timedelta(days=365)
# The days a closure may name. Business time is computed day by day up to HORIZON past an instant,
# which must stay inside the years ``datetime`` holds (1 to 9999).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(8999, 12, 31)


def merged(closures: Sequence[tuple[date, date]]) -> list[tuple[date, date]]:
    """Closures as the shop is closed: overlapping or back-to-back ranges joined, in order."""
    joined: list[tuple[date, date]] = []
    for first, last in sorted(closures):
        if joined and first <= joined[-1][1] + timedelta(days=1):
            joined[-1] = (joined[-1][0], max(joined[-1][1], last))
        else:
            joined.append((first, last))
    return joined


@dataclass(frozen=True)
class Period:
    """Open from ``start`` to ``end`` minutes after local midnight; ``end`` may be 1440 (midnight)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"a period runs from 0 to 1440 minutes and ends after it starts: {self}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"09:00-13:00"``; ``"24:00"`` is the midnight that ends the day."""
        try:
            first, last = (part.strip() for part in text.split("-"))
            start, end = (_minutes(p) for p in (first, last))
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a period like '09:00-13:00'") from exc
        return cls(start, end)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly_hours(hours: Mapping[str, Sequence[str]]) -> dict[int, tuple[Period, ...]]:
    """Hours as settings write them (``{"mon": ["09:00-13:00", "14:00-18:00"]}``), by weekday number."""
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise ValueError(f"hours: unknown weekdays {sorted(unknown)}; use {', '.join(WEEKDAYS)}")
    return {WEEKDAYS.index(day): tuple(Period.parse(p) for p in periods) for day, periods in hours.items()}


def _minutes(clock: str) -> int:
    """``"09:30"`` -> 570; ``"24:00"`` is the end of the day."""
    hours, minutes = (int(part) for part in clock.split(":"))
    if len(clock) != 5 or not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(f"{clock!r} is not a time of day like '09:30'")
    return hours * 60 + minutes


@dataclass(frozen=True)
class SpecialDay:
    """One date's exception to the weekly hours, in the shop's wall-clock time.

    ``hours``: that day's opening periods instead of the weekday's, whatever else the date is (a
    public holiday, inside a closure); ``()`` closes the whole day. ``None``: the day as it would be.
    ``holiday``: True closes the whole day as a public holiday of the shop's own (a patron saint);
    False opens a public holiday of the country with the weekday's hours; None: as the country says.
    ``closed``: periods closed that day (a staff meeting, an early closing), taken out of its hours.
    """

    hours: tuple[Period, ...] | None = None
    holiday: bool | None = None
    closed: tuple[Period, ...] = ()

    def __post_init__(self) -> None:
        if self.hours is None and self.holiday is None and not self.closed:
            raise ValueError("a special day needs hours, holiday or closed")
        if self.holiday and self.hours is not None:
            raise ValueError("a special day closed as a holiday cannot have opening hours")
        for name, periods in (("hours", self.hours or ()), ("closed", self.closed)):
            ordered = sorted(periods, key=lambda p: p.start)
            if any(a.end > b.start for a, b in itertools.pairwise(ordered)):
                raise ValueError(f"{name} periods overlap: {periods}")


def without(periods: Iterable[Period], closed: Iterable[Period]) -> tuple[Period, ...]:
    """``periods`` less the ``closed`` ones, in order: what stays open of a day."""
    spans = [(p.start, p.end) for p in sorted(periods, key=lambda p: p.start)]
    for cut in closed:
        spans = [
            part
            for start, end in spans
            for part in ((start, min(end, cut.start)), (max(start, cut.end), end))
            if part[0] < part[1]
        ]
    return tuple(Period(start, end) for start, end in spans)


@functools.lru_cache(maxsize=256)
def _public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str
    # Weekday (0 = Monday) -> the periods open that day; a day not listed is closed.
    hours: Mapping[int, tuple[Period, ...]]
    # Public holidays of this country (ISO code, e.g. "IT") and subdivision are closed.
    country: str | None = None
    subdivision: str | None = None
    # Closures of the shop's own: inclusive ranges of local dates.
    closures: tuple[tuple[date, date], ...] = ()
    # Local date -> its exception to all of the above (half days, a Sunday opening, a holiday the
    # shop works or keeps, closures that are parts of days): ``hours_on`` says how they combine.
    special: Mapping[date, SpecialDay] = field(default_factory=dict)
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.timezone))
        for first, last in self.closures:
            if last < first:
                raise ValueError(f"closure {first} to {last} ends before it starts")
        for weekday, periods in self.hours.items():
            if not 0 <= weekday <= 6:
                raise ValueError(f"weekday {weekday} is not 0 (Monday) to 6 (Sunday)")
            ordered = sorted(periods, key=lambda p: p.start)
            if any(a.end > b.start for a, b in itertools.pairwise(ordered)):
                raise ValueError(f"periods of weekday {weekday} overlap: {periods}")

    @classmethod
    def always_open(cls) -> BusinessCalendar:
        """Calendar time: every minute counts."""
        return cls("UTC", {day: (Period(0, MINUTES_PER_DAY),) for day in range(7)})

    def is_closed_day(self, day: date) -> bool:
        """Closed all day by a closure or a public holiday, before any special day is considered."""
        if any(first <= day <= last for first, last in self.closures):
            return True
        return self.country is not None and day in _public_holidays(self.country, self.subdivision, day.year)

    def hours_on(self, day: date) -> tuple[Period, ...]:
        """The periods open on local ``day``. The most specific rule wins: the special day's own hours
        (or its ``holiday: true``); else a closure; else a public holiday, unless the special day
        says ``holiday: false``; else the weekday's hours. The special day's ``closed`` periods are
        then taken out, whichever of these gave the hours."""
        special = self.special.get(day)
        if special is not None and special.hours is not None:
            periods: tuple[Period, ...] = special.hours
        elif self._closed_all_day(day, special):
            periods = ()
        else:
            periods = self.hours.get(day.weekday(), ())
        if special is not None and special.closed:
            return without(periods, special.closed)
        return tuple(sorted(periods, key=lambda p: p.start))

    def intervals(self, start: datetime, until: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals overlapping ``[start, until)``, clipped to it, in order, in UTC.

        None when ``until`` is not after ``start``: clipping an open period to a reversed range
        would give an interval that ends before it starts, and ``between`` a negative open time.
        """
        _aware(start, until)
        start, until = start.astimezone(UTC), until.astimezone(UTC)
        if until <= start:
            return
        if self._around_the_clock():
            yield start, until
            return
        # Local days that can overlap: the day before covers zones ahead of UTC.
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        while True:
            for opens, closes in self._day(day):
                if opens >= until:
                    return
                if closes > start:
                    yield max(opens, start), min(closes, until)
            day += timedelta(days=1)
            if self._midnight(day) >= until:
                return

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of open time has passed since ``start``."""
        _aware(start)
        if duration < timedelta(0):
            raise ValueError(f"cannot add a negative duration {duration}")
        remaining = duration
        for opens, closes in self.intervals(start, start + HORIZON):
            if closes - opens >= remaining:
                return opens + remaining
            remaining -= closes - opens
        if remaining == timedelta(0):
            return start.astimezone(UTC)
        raise NeverOpen(f"{self.timezone} calendar has no open time within {HORIZON.days} days of {start}")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Open time in ``[start, end)``; zero when ``end`` is not after ``start``."""
        return sum((closes - opens for opens, closes in self.intervals(start, end)), timedelta(0))

    def is_open(self, at: datetime) -> bool:
        return next(self.intervals(at, at + timedelta(microseconds=1)), None) is not None

    def never_open_from(self, starts: Iterable[datetime]) -> datetime | None:
        """The first of ``starts`` after which the calendar stays closed for ``OPEN_AT_LEAST_ONCE_IN``,
        or None. Each search stops at the first open interval: a normal calendar costs a day or so."""
        for start in starts:
            if next(self.intervals(start, start + OPEN_AT_LEAST_ONCE_IN), None) is None:
                return start
        return None

    def next_open(self, at: datetime) -> datetime:
        """``at`` if open then, else when the shop next opens."""
        for opens, _ in self.intervals(at, at + HORIZON):
            return opens
        raise NeverOpen(f"{self.timezone} calendar has no open time within {HORIZON.days} days of {at}")

    # ---------------------------------------------------------------- internals

    def _closed_all_day(self, day: date, special: SpecialDay | None) -> bool:
        if special is not None and special.holiday is not None:
            if special.holiday:
                return True
            return any(first <= day <= last for first, last in self.closures)  # a holiday worked
        return self.is_closed_day(day)

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.zone).astimezone(UTC)

    def _local(self, day: date, minutes: int) -> datetime:
        """Wall-clock ``minutes`` after local midnight of ``day``, as an instant (24:00 is next midnight).

        A wall time that a DST switch skips counts from the offset before the switch (02:30 on the
        spring night is 03:30), so an opening hour that does not exist that night is empty; one that
        happens twice in autumn starts at its first occurrence.
        """
        if minutes == MINUTES_PER_DAY:
            return self._midnight(day + timedelta(days=1))
        return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.zone).astimezone(UTC)

    def __getstate__(self) -> dict[str, object]:
        """Pickled (SLA's snapshots) without what is only worked out from the fields."""
        state = dict(self.__dict__)
        state.pop("_days", None)
        state.pop("_always", None)
        return state

    def _around_the_clock(self) -> bool:
        """Open every minute of every day, with no holidays, closures or special days: open time is
        then calendar time, and no day needs working out (SLA's default policy)."""
        always: bool | None = self.__dict__.get("_always")
        if always is None:
            whole = (Period(0, MINUTES_PER_DAY),)
            always = (
                all(tuple(self.hours.get(day, ())) == whole for day in range(7))
                and self.country is None
                and not self.closures
                and not self.special
            )
            object.__setattr__(self, "_always", always)
        return always

    def _day(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The local day's open intervals in UTC, worked out once per day and calendar: every clock
        started, stopped or measured asks for the same few days (a third of SLA's time went here)."""
        days: dict[date, tuple[tuple[datetime, datetime], ...]] | None = self.__dict__.get("_days")
        if days is None:
            days = {}
            object.__setattr__(self, "_days", days)
        known = days.get(day)
        if known is None:
            if len(days) >= DAYS_CACHED:
                days.clear()
            known = days[day] = tuple(self._work_out(day))
        return known

    def _work_out(self, day: date) -> list[tuple[datetime, datetime]]:
        periods = self.hours_on(day)
        result: list[tuple[datetime, datetime]] = []
        for opens, closes in ((self._local(day, p.start), self._local(day, p.end)) for p in periods):
            if result and opens < result[-1][1]:
                # A period ending in the skipped spring hour ends after it (02:01 is 03:01), past
                # the start of one opening at 03:00: the time they share counts once.
                opens = result[-1][1]
            if closes > opens:
                result.append((opens, closes))
        return result


# Days a calendar remembers the open intervals of (``BusinessCalendar._day``): years of them are small.
DAYS_CACHED = 4096


def _aware(*instants: datetime) -> None:
    for instant in instants:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"{instant} has no time zone: business time needs aware instants")
