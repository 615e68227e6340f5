"""Business time: opening hours with a lunch break, Italian holidays, closures, DST, other time zones."""

from __future__ import annotations

import itertools
import os
import time as process_time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pronto.calendar import BusinessCalendar, Period
from pronto.errors import NeverOpen

ROME = ZoneInfo("Europe/Rome")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = {day: (Period.parse("09:00-13:00"), Period.parse("14:00-18:00")) for day in range(5)}
ITALIAN_SHOP = BusinessCalendar("Europe/Rome", OFFICE, country="IT")


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# ---------------------------------------------------------------- examples


def test_thirty_business_minutes_from_friday_evening_land_on_monday_morning() -> None:
    assert ITALIAN_SHOP.add(rome(2026, 11, 20, 17, 50), minutes(30)) == rome(2026, 11, 23, 9, 20)


def test_the_lunch_break_does_not_count() -> None:
    assert ITALIAN_SHOP.add(rome(2026, 11, 23, 12, 50), minutes(30)) == rome(2026, 11, 23, 14, 20)
    assert ITALIAN_SHOP.between(rome(2026, 11, 23, 12, 0), rome(2026, 11, 23, 15, 0)) == minutes(120)


def test_a_message_at_night_starts_counting_at_opening() -> None:
    assert ITALIAN_SHOP.add(rome(2026, 11, 24, 2, 0), minutes(30)) == rome(2026, 11, 24, 9, 30)
    assert ITALIAN_SHOP.next_open(rome(2026, 11, 24, 2, 0)) == rome(2026, 11, 24, 9, 0)
    assert ITALIAN_SHOP.next_open(rome(2026, 11, 24, 10, 0)) == rome(2026, 11, 24, 10, 0)


def test_easter_monday_is_closed() -> None:
    # Good Friday 2026-04-03 is a working day in Italy; Easter Monday 2026-04-06 is not.
    assert ITALIAN_SHOP.add(rome(2026, 4, 3, 17, 50), minutes(30)) == rome(2026, 4, 7, 9, 20)
    assert not ITALIAN_SHOP.is_open(rome(2026, 4, 6, 10, 0))


def test_ferragosto_is_closed() -> None:
    # 15 August 2025 was a Friday.
    assert ITALIAN_SHOP.add(rome(2025, 8, 14, 17, 50), minutes(30)) == rome(2025, 8, 18, 9, 20)
    assert ITALIAN_SHOP.between(rome(2025, 8, 15, 0, 0), rome(2025, 8, 16, 0, 0)) == timedelta(0)


def test_christmas_and_saint_stephen_then_a_closure_of_the_shops_own() -> None:
    closed = BusinessCalendar(
        "Europe/Rome", OFFICE, country="IT", closures=((date(2026, 12, 28), date(2026, 12, 31)),)
    )
    # Thursday 24th evening: 25th and 26th are holidays, 27th Sunday, 28th-31st closed, 1 January a holiday.
    assert closed.add(rome(2026, 12, 24, 17, 50), minutes(30)) == rome(2027, 1, 4, 9, 20)


def test_without_a_country_public_holidays_are_working_days() -> None:
    plain = BusinessCalendar("Europe/Rome", OFFICE)
    assert plain.is_open(rome(2026, 4, 6, 10, 0))


def test_a_day_with_the_spring_dst_switch_has_23_hours() -> None:
    always = BusinessCalendar("Europe/Rome", {day: (Period(0, 1440),) for day in range(7)})
    assert always.between(rome(2026, 3, 29, 0, 0), rome(2026, 3, 30, 0, 0)) == timedelta(hours=23)
    assert always.add(rome(2026, 3, 29, 1, 30), timedelta(hours=1)) == rome(2026, 3, 29, 3, 30)


def test_a_day_with_the_autumn_dst_switch_has_25_hours() -> None:
    always = BusinessCalendar("Europe/Rome", {day: (Period(0, 1440),) for day in range(7)})
    assert always.between(rome(2026, 10, 25, 0, 0), rome(2026, 10, 26, 0, 0)) == timedelta(hours=25)


def test_an_opening_hour_the_spring_switch_skips_is_empty() -> None:
    night = BusinessCalendar("Europe/Rome", {6: (Period.parse("02:00-03:00"), Period.parse("08:00-09:00"))})
    assert night.between(rome(2026, 3, 29, 0, 0), rome(2026, 3, 30, 0, 0)) == timedelta(hours=1)
    assert night.between(rome(2026, 4, 5, 0, 0), rome(2026, 4, 6, 0, 0)) == timedelta(hours=2)


def test_office_hours_hold_their_wall_clock_across_dst() -> None:
    # Friday before the switch to Monday after: 09:00 is 08:00 UTC then 07:00 UTC.
    assert ITALIAN_SHOP.add(rome(2026, 3, 27, 17, 30), minutes(60)) == rome(2026, 3, 30, 9, 30)
    assert ITALIAN_SHOP.add(rome(2026, 3, 27, 17, 30), minutes(60)).astimezone(UTC).hour == 7


def test_a_policy_in_new_york_does_not_depend_on_the_servers_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    hours = {day: (Period.parse("09:00-17:00"),) for day in range(5)}
    shop = BusinessCalendar("America/New_York", hours, country="US")
    start = datetime(2026, 11, 25, 16, 30, tzinfo=NEW_YORK)  # the day before Thanksgiving
    expected = datetime(2026, 11, 27, 9, 30, tzinfo=NEW_YORK)
    for zone in ("Asia/Tokyo", "Europe/Rome", "UTC"):
        with _server_zone(monkeypatch, zone):
            assert shop.add(start, minutes(60)) == expected
            assert shop.add(start.astimezone(UTC), minutes(60)) == expected


class _server_zone:  # noqa: N801 (a context manager read as a phrase)
    def __init__(self, monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
        self.monkeypatch, self.zone = monkeypatch, zone

    def __enter__(self) -> None:
        self.monkeypatch.setenv("TZ", self.zone)
        process_time.tzset()
        assert os.environ["TZ"] == self.zone

    def __exit__(self, *_: object) -> None:
        self.monkeypatch.undo()
        process_time.tzset()


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        ITALIAN_SHOP.add(datetime(2026, 11, 23, 9, 0), minutes(5))


def test_a_calendar_never_open_says_so() -> None:
    with pytest.raises(NeverOpen):
        BusinessCalendar("Europe/Rome", {}).add(rome(2026, 11, 23, 9, 0), minutes(5))


@pytest.mark.parametrize("text", ["9-13", "13:00-09:00", "09:00-25:00", "nonsense"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="period"):
        Period.parse(text)


def test_overlapping_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        BusinessCalendar("Europe/Rome", {0: (Period.parse("09:00-13:00"), Period.parse("12:00-18:00"))})


# ---------------------------------------------------------------- properties

ZONES = ("Europe/Rome", "Europe/Warsaw", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
# Up to two days of open time, with at least an hour open a week: within the three-year horizon.
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=2))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    hours: dict[int, tuple[Period, ...]] = {}
    for day in draw(st.sets(st.integers(0, 6), min_size=1)):
        cuts = sorted(draw(st.sets(st.integers(0, 1440), min_size=2, max_size=6)))
        pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
        if pairs:
            hours[day] = tuple(Period(a, b) for a, b in pairs)
    assume(sum(p.end - p.start for periods in hours.values() for p in periods) >= 60)
    return BusinessCalendar(
        draw(st.sampled_from(ZONES)),
        hours,
        country=draw(st.sampled_from((None, "IT", "PL", "US"))),
    )


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, durations)
def test_the_open_time_up_to_a_deadline_is_the_duration_added(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    deadline = calendar.add(start, duration)
    assert deadline >= start
    assert calendar.between(start, deadline) == duration
    if duration > timedelta(0):
        # The deadline is reached while open, not somewhere in a closed stretch after it.
        assert calendar.is_open(deadline - timedelta(microseconds=1))


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, durations, durations)
def test_business_time_adds_up(
    calendar: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    middle = start + a
    end = middle + b
    assert calendar.between(start, middle) + calendar.between(middle, end) == calendar.between(start, end)
    assert calendar.between(start, end) <= end - start
    assert calendar.add(start, a) <= calendar.add(start, a + b)


@settings(max_examples=200, deadline=None)
@given(instants, durations)
def test_an_always_open_calendar_is_calendar_time(start: datetime, duration: timedelta) -> None:
    always = BusinessCalendar.always_open()
    assert always.add(start, duration) == start + duration
    assert always.between(start, start + duration) == duration


@settings(max_examples=200, deadline=None)
@given(calendars(), instants)
def test_intervals_are_ordered_disjoint_and_open(calendar: BusinessCalendar, start: datetime) -> None:
    spans = list(calendar.intervals(start, start + timedelta(days=10)))
    for (a_open, a_close), (b_open, _) in itertools.pairwise(spans):
        assert a_open < a_close <= b_open
    for opens, closes in spans:
        assert calendar.is_open(opens)
        assert calendar.is_open(opens + (closes - opens) / 2)


def test_a_period_ending_in_the_skipped_spring_hour_does_not_overlap_the_next() -> None:
    """New York, Sunday 10 March 2024: 02:00-03:00 does not exist. 00:00-02:01 ends at 03:01 (the
    skipped wall time counts from the offset before the switch), past 03:00-03:01's start: the two
    share that minute, and it counts once (found by the property above)."""
    sundays = {6: (Period(0, 121), Period(180, 181))}
    calendar = BusinessCalendar("America/New_York", sundays)
    start = datetime(2024, 3, 10, 0, 0, tzinfo=ZoneInfo("America/New_York"))
    spans = list(calendar.intervals(start, start + timedelta(days=1)))
    assert spans == [(datetime(2024, 3, 10, 5, 0, tzinfo=UTC), datetime(2024, 3, 10, 7, 1, tzinfo=UTC))]
    assert calendar.between(start, start + timedelta(days=1)) == timedelta(hours=2, minutes=1)


def _days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


def test_the_italian_national_holidays_of_2026_on_working_days_are_closed() -> None:
    closed = {
        d
        for d in _days(date(2026, 1, 1), date(2026, 12, 31))
        if d.weekday() < 5 and ITALIAN_SHOP.is_closed_day(d)
    }
    assert closed == {
        date(2026, 1, 1),  # New Year, Thursday
        date(2026, 1, 6),  # Epiphany
        date(2026, 4, 6),  # Easter Monday
        date(2026, 5, 1),  # Labour Day
        date(2026, 6, 2),  # Republic Day
        date(2026, 12, 8),  # Immaculate Conception
        date(2026, 12, 25),  # Christmas
    }


def test_a_calendar_open_around_the_clock_answers_as_one_open_day_after_another() -> None:
    """The shortcut for a calendar open every minute gives what the day-by-day path gives."""
    always = BusinessCalendar("Europe/Rome", {day: (Period(0, 24 * 60),) for day in range(7)})
    halves = BusinessCalendar(
        "Europe/Rome", {day: (Period(0, 12 * 60), Period(12 * 60, 24 * 60)) for day in range(7)}
    )
    start = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # across the spring DST switch
    for minutes in (0, 1, 90, 24 * 60, 3 * 24 * 60 + 17):
        span = timedelta(minutes=minutes)
        assert always.add(start, span) == halves.add(start, span) == start + span
        assert always.between(start, start + span) == halves.between(start, start + span) == span
    assert always.next_open(start) == halves.next_open(start) == start


def test_a_calendar_pickles_the_same_before_and_after_it_has_worked_days_out() -> None:
    """What it works out is a cache: SLA's snapshots hold the same bytes either way."""
    import pickle

    calendar = BusinessCalendar(
        "Europe/Rome", {day: (Period.parse("09:00-18:00"),) for day in range(5)}, "IT"
    )
    before = pickle.dumps(calendar)
    calendar.between(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 20, tzinfo=UTC))
    assert pickle.dumps(calendar) == before
    assert pickle.loads(before) == calendar
