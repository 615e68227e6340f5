"""Checks deadline and pause arithmetic over random calendars with special days and DST switches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pronto.calendar import MINUTES_PER_DAY, BusinessCalendar, SpecialDay
from services.sla.domain.clock_outputs import Breached
from services.sla.domain.clocks import Clock, ConversationClocks
from services.sla.domain.policy import Metric, Policy, Target
from tests.unit.sla.special_day_calendars import DAYS, calendars, durations, instants, special

# ---------------------------------------------------------------- properties: random calendars, DST


@settings(max_examples=150, deadline=None)
@given(calendar=calendars(), start=instants, first=durations, second=durations)
def test_deadline_arithmetic_holds_over_special_days_and_dst(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    """Adding open time lands where exactly that much open time has passed, adds up piece by piece,
    and lands only on an open instant or at the end of an open interval."""
    due = calendar.add(start, first + second)
    assert calendar.between(start, due) == first + second
    if second > timedelta(0):  # adding nothing at a closing time moves on to the next opening
        assert calendar.add(calendar.add(start, first), second) == due
    assert calendar.between(start, calendar.add(start, first)) <= first + second
    if first + second > timedelta(0):
        assert calendar.is_open(due - timedelta(microseconds=1))


@settings(max_examples=150, deadline=None)
@given(calendar=calendars(), day=st.sampled_from(DAYS))
def test_a_special_day_opens_the_wall_clock_periods_it_says(calendar: BusinessCalendar, day: date) -> None:
    """Each open interval of a day, read on the shop's wall clock, lies within that day's periods;
    on a day without a DST switch they are exactly its periods."""
    zone = ZoneInfo(calendar.timezone)
    midnight = datetime.combine(day, time(0), zone)
    tomorrow = datetime.combine(day + timedelta(days=1), time(0), zone)
    intervals = list(calendar.intervals(midnight, tomorrow))
    wanted = calendar.hours_on(day)
    if (tomorrow.astimezone(UTC) - midnight.astimezone(UTC)) == timedelta(days=1):
        got = [(_wall(o, zone, day), _wall(c, zone, day)) for o, c in intervals]
        assert got == [(p.start, p.end) for p in wanted]
    open_minutes = sum(((c - o) for o, c in intervals), timedelta(0))
    assert open_minutes <= timedelta(minutes=sum(p.end - p.start for p in wanted) + 60)


def _wall(instant: datetime, zone: ZoneInfo, day: date) -> int:
    local = instant.astimezone(zone)
    return MINUTES_PER_DAY if local.date() > day else local.hour * 60 + local.minute


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), day=st.sampled_from(DAYS), entry=special())
def test_a_special_day_changes_its_own_date_only(
    calendar: BusinessCalendar, day: date, entry: SpecialDay
) -> None:
    changed = BusinessCalendar(
        calendar.timezone,
        calendar.hours,
        calendar.country,
        calendar.subdivision,
        calendar.closures,
        {**calendar.special, day: entry},
    )
    for other in (day - timedelta(days=1), day + timedelta(days=1)):
        assert changed.hours_on(other) == calendar.hours_on(other)


pause_steps = st.lists(st.tuples(st.integers(1, 24 * 60), st.booleans()), max_size=10)


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), start=instants, target_minutes=st.integers(1, 600), steps=pause_steps)
def test_pause_and_resume_arithmetic_over_special_days_and_dst(
    calendar: BusinessCalendar, start: datetime, target_minutes: int, steps: list[tuple[int, bool]]
) -> None:
    """A clock paused and resumed at random counts exactly the open time of its running spans; each
    run's deadline is where the remaining target runs out from the resume; the tick after the due
    moment breaches it once, and only if the counted time then exceeds the target."""
    target = Target(timedelta(minutes=target_minutes), business=True)
    clock = Clock.start(Metric.RESOLUTION, target, start, Policy(calendar=calendar))
    clock.run(start)
    at, running, counted, since = start, True, timedelta(0), start
    for minutes, pause in steps:
        at += timedelta(minutes=minutes)
        if running and pause:
            clock.pause(at)
            counted += calendar.between(since, at)
            running = False
        elif not running and not pause:
            clock.run(at)
            since, running = at, True
            remaining = max(timedelta(0), target.duration - counted)
            assert clock.deadline == calendar.add(at, remaining)
        if running:
            assert clock.elapsed(at) == counted + calendar.between(since, at)
    assert clock.consumed == counted
    if running and clock.breach_fires is not None and clock.deadline is not None:
        already = clock.breached
        after = clock.breach_fires + timedelta(microseconds=1)
        holder = ConversationClocks("c", "email", clocks={Metric.RESOLUTION: clock})
        assert holder.tick(clock.breach_fires) == [] or not already
        fired = [o for o in holder.tick(after) if isinstance(o, Breached)]
        assert fired == ([] if already else [Breached(Metric.RESOLUTION, clock.deadline)])
        assert clock.elapsed(after) > target.duration
        assert not [o for o in holder.tick(after + timedelta(days=1)) if isinstance(o, Breached)]
