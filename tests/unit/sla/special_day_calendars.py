"""Hypothesis strategies for random business calendars with special days around DST switches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import strategies as st

from pronto.calendar import MINUTES_PER_DAY, BusinessCalendar, Period, SpecialDay

ZONES = ("Europe/Rome", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")
# Days around the spring and autumn DST switches of both hemispheres, and Christmas.
DAYS = (
    [date(2026, 3, 6) + timedelta(days=n) for n in range(40)]
    + [date(2026, 9, 25) + timedelta(days=n) for n in range(45)]
    + [date(2026, 12, 18) + timedelta(days=n) for n in range(20)]
)


@st.composite
def periods(draw: st.DrawFn, max_size: int = 3) -> tuple[Period, ...]:
    cuts = sorted(draw(st.sets(st.integers(0, MINUTES_PER_DAY), max_size=2 * max_size)))
    return tuple(Period(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False))


@st.composite
def special(draw: st.DrawFn) -> SpecialDay:
    kind = draw(st.sampled_from(("hours", "holiday", "closed")))
    closed = draw(periods(2)) if draw(st.booleans()) or kind == "closed" else ()
    if kind == "closed" and not closed:
        closed = (Period(600, 660),)
    if kind == "hours":
        return SpecialDay(hours=draw(periods()), closed=closed)
    if kind == "holiday":
        return SpecialDay(holiday=draw(st.booleans()), closed=closed)
    return SpecialDay(closed=closed)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    hours = {day: draw(periods()) for day in draw(st.sets(st.integers(0, 6), min_size=1))}
    hours[draw(st.integers(0, 6))] = (Period(540, 1020),)  # open at least one day a week
    specials = draw(st.dictionaries(st.sampled_from(DAYS), special(), max_size=12))
    return BusinessCalendar(
        draw(st.sampled_from(ZONES)),
        hours,
        country=draw(st.sampled_from((None, "IT", "US"))),
        closures=tuple(
            draw(st.lists(st.sampled_from(DAYS).map(lambda d: (d, d + timedelta(days=2))), max_size=2))
        ),
        special=specials,
    )


instants = st.builds(
    lambda day, minute: datetime.combine(day, time(0), UTC) + timedelta(minutes=minute),
    st.sampled_from(DAYS),
    st.integers(-720, 36 * 60),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30)).map(
    lambda d: timedelta(seconds=round(d.total_seconds()))
)
