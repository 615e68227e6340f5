"""Issue #21: open time between two instants is never negative, and zero when they come in reverse order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pronto.calendar import BusinessCalendar, Period

ROME = ZoneInfo("Europe/Rome")
NINE_TO_FIVE = BusinessCalendar("Europe/Rome", {day: (Period.parse("09:00-17:00"),) for day in range(5)})
ZONES = ("Europe/Rome", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")
instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
# Up to three days apart either way, often within the same open period.
offsets = st.timedeltas(min_value=-timedelta(days=3), max_value=timedelta(days=3))


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    hours: dict[int, tuple[Period, ...]] = {}
    for day in draw(st.sets(st.integers(0, 6), min_size=1)):
        cuts = sorted(draw(st.sets(st.integers(0, 1440), min_size=2, max_size=6)))
        pairs = list(zip(cuts[::2], cuts[1::2], strict=False))
        if pairs:
            hours[day] = tuple(Period(a, b) for a, b in pairs)
    assume(hours)
    return BusinessCalendar(
        draw(st.sampled_from(ZONES)), hours, country=draw(st.sampled_from((None, "IT", "US")))
    )


def test_from_afternoon_back_to_morning_of_the_same_open_day_is_zero() -> None:
    monday = datetime(2026, 11, 23, tzinfo=ROME)
    afternoon, morning = monday.replace(hour=15), monday.replace(hour=10)

    assert NINE_TO_FIVE.between(afternoon, morning) == timedelta(0)  # was -5 hours
    assert list(NINE_TO_FIVE.intervals(afternoon, morning)) == []
    assert NINE_TO_FIVE.between(morning, afternoon) == timedelta(hours=5)


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, offsets)
def test_open_time_is_never_negative_and_zero_when_the_end_is_not_after_the_start(
    calendar: BusinessCalendar, a: datetime, offset: timedelta
) -> None:
    b = a + offset
    assert calendar.between(a, b) >= timedelta(0)
    if b <= a:
        assert calendar.between(a, b) == timedelta(0)
        assert list(calendar.intervals(a, b)) == []


@settings(max_examples=300, deadline=None)
@given(calendars(), instants, st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=12)))
def test_two_instants_in_one_open_period_in_reverse_order_give_zero(
    calendar: BusinessCalendar, start: datetime, back: timedelta
) -> None:
    """The case the issue found: both ends inside the same open interval, the end first."""
    opens, closes = next(calendar.intervals(start, start + timedelta(days=8)), (start, start))
    assume(closes - opens > timedelta(0))
    later = opens + (closes - opens) / 2
    earlier = max(opens, later - back)
    assert calendar.between(later, earlier) == timedelta(0)
