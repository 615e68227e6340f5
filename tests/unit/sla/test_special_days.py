"""Issue #21, item 2: special days (hours of their own for some dates, holidays worked or kept, parts
of days closed), set in the policy or imported from an iCalendar file, and what running clocks do.

24 December 2027 is a Friday; 25 and 26 are Christmas and St Stephen's (a Saturday and a Sunday),
so a half day on the 24th moves a deadline to Monday 27 December's opening.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pronto import envelope
from pronto.calendar import MINUTES_PER_DAY, BusinessCalendar, Period, SpecialDay
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.sla.domain.clock_outputs import Breached
from services.sla.domain.clocks import Clock, ConversationClocks
from services.sla.domain.policy import Metric, Policy, Target
from services.sla.ical import special_days
from services.sla.settings import PolicyConfig
from services.sla.worker import Worker

ROME = ZoneInfo("Europe/Rome")
OFFICE_HOURS = {day: ["09:00-13:00", "14:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
ITALIAN = {"timezone": "Europe/Rome", "country": "IT", "hours": OFFICE_HOURS}
HALF_DAY: dict[str, object] = {"date": "2027-12-24", "hours": ["09:00-13:00"]}


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


def calendar(*days: dict[str, object], **more: object) -> BusinessCalendar:
    return PolicyConfig.model_validate(ITALIAN | {"special_days": list(days)} | more).policy().calendar


# ---------------------------------------------------------------- examples


def test_a_half_day_on_christmas_eve_moves_the_deadline_to_the_27th() -> None:
    thirty = timedelta(minutes=30)
    assert calendar().add(rome(2027, 12, 24, 12, 45), thirty) == rome(2027, 12, 24, 14, 15)
    assert calendar(HALF_DAY).add(rome(2027, 12, 24, 12, 45), thirty) == rome(2027, 12, 27, 9, 15)
    # 31 December is a Friday too; New Year's Day a Saturday.
    new_years_eve: dict[str, object] = {"date": "2027-12-31", "hours": ["09:00-12:00"]}
    assert calendar(new_years_eve).add(rome(2027, 12, 31, 11, 50), thirty) == rome(2028, 1, 3, 9, 20)


def test_a_sunday_opening_before_christmas() -> None:
    sunday: dict[str, object] = {"date": "2026-12-20", "hours": ["10:00-19:00"]}
    assert calendar().next_open(rome(2026, 12, 20, 9, 0)) == rome(2026, 12, 21, 9, 0)
    assert calendar(sunday).next_open(rome(2026, 12, 20, 9, 0)) == rome(2026, 12, 20, 10, 0)
    assert calendar(sunday).between(rome(2026, 12, 19), rome(2026, 12, 21)) == timedelta(hours=9)


def test_a_public_holiday_worked_and_a_holiday_of_the_shops_own() -> None:
    epiphany_worked = {"date": "2027-01-06", "holiday": False}  # a Wednesday
    patron_saint = {"date": "2026-12-07", "holiday": True}  # Sant'Ambrogio, a Monday, Milan only
    shop = calendar(epiphany_worked, patron_saint)
    assert not calendar().is_open(rome(2027, 1, 6, 10, 0))
    assert shop.is_open(rome(2027, 1, 6, 10, 0))
    assert not shop.is_open(rome(2027, 1, 6, 13, 30))
    assert calendar().is_open(rome(2026, 12, 7, 10, 0))
    assert not shop.is_open(rome(2026, 12, 7, 10, 0))


def test_part_of_a_day_closed_and_a_special_days_hours_over_a_closure() -> None:
    meeting: dict[str, object] = {"date": "2026-12-10", "closed": ["15:00-17:00"]}
    shop = calendar(
        meeting, {"date": "2026-12-29", "hours": ["10:00-12:00"]}, closures=[["2026-12-28", "2026-12-31"]]
    )
    assert shop.between(rome(2026, 12, 10), rome(2026, 12, 11)) == timedelta(hours=6)
    assert shop.add(rome(2026, 12, 10, 14, 50), timedelta(minutes=30)) == rome(2026, 12, 10, 17, 20)
    # Inside the closure, the date with hours of its own opens; the rest stays closed.
    assert shop.between(rome(2026, 12, 28), rome(2027, 1, 1)) == timedelta(hours=2)


def test_closed_periods_come_out_of_whichever_hours_the_day_has() -> None:
    day = SpecialDay(
        hours=(Period.parse("08:00-20:00"),),
        closed=(Period.parse("12:00-13:00"), Period.parse("19:30-21:00")),
    )
    shop = BusinessCalendar("Europe/Rome", {}, special={date(2026, 12, 13): day})
    assert shop.hours_on(date(2026, 12, 13)) == (Period.parse("08:00-12:00"), Period.parse("13:00-19:30"))


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"date": "2026-12-24"}, "needs hours, holiday or closed"),
        ({"date": "2026-12-24", "hours": ["09:00-13:00"], "holiday": True}, "cannot have opening hours"),
        ({"date": "2026-12-24", "hours": ["9-13"]}, "is not a period"),
        ({"date": "2026-12-24", "closed": ["10:00-12:00", "11:00-13:00"]}, "overlap"),
        ({"date": "2026-12-24", "hours": "09:00-13:00"}, "valid list"),
        ({"date": "24/12/2026", "hours": []}, "date"),
        ({"date": "2026-12-24", "open": True}, "open"),
    ],
)
def test_a_special_day_that_cannot_work_is_refused_with_why(entry: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PolicyConfig.model_validate(ITALIAN | {"special_days": [entry]})
    assert fragment in str(raised.value)


def test_one_entry_per_date_and_not_a_year_closed() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        PolicyConfig.model_validate(ITALIAN | {"special_days": [HALF_DAY, HALF_DAY]})
    first = date.today() + timedelta(days=30)
    year = [{"date": (first + timedelta(days=n)).isoformat(), "hours": []} for n in range(366)]
    with pytest.raises(ValidationError, match="never open within 365 days"):
        PolicyConfig.model_validate(ITALIAN | {"special_days": year})


def test_special_days_survive_the_admin_apis_json() -> None:
    config = PolicyConfig.model_validate(
        ITALIAN
        | {"special_days": [HALF_DAY, {"date": "2027-01-06", "holiday": False, "closed": ["12:00-15:00"]}]}
    )
    again = PolicyConfig.model_validate_json(config.model_dump_json())
    assert again.policy().calendar.special == config.policy().calendar.special


# ---------------------------------------------------------------- clocks already running


_ids = itertools.count()


def _record(payload: object, at: datetime, tenant: str = "shop") -> tuple[list[tuple[str, bytes]], bytes]:
    return envelope.encode(Envelope(f"s{next(_ids)}", "/test", tenant, payload, at))  # type: ignore[arg-type]


def _started(outs: list, metric: int = events_pb2.SLA_METRIC_FIRST_RESPONSE) -> events_pb2.SlaClockStarted:  # type: ignore[type-arg]
    [started] = [
        p
        for p in (envelope.decode(o.headers, o.value).payload for o in outs)
        if isinstance(p, events_pb2.SlaClockStarted) and p.metric == metric
    ]
    return started


def _email(conversation: str) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation, channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="x")
    )


def test_running_clocks_keep_their_deadlines_and_later_ones_follow_the_special_days() -> None:
    """Chosen: a clock keeps the calendar it started with (the deadline the customer was told), so a
    special day set while it runs applies to clocks started afterwards."""
    worker = Worker({"shop": PolicyConfig.model_validate(ITALIAN).policy()}, Policy(), "/test")
    before = _started(worker.apply(0, *_record(_email("before"), rome(2027, 12, 24, 12, 45))))
    changed = events_pb2.SlaPolicyChanged(
        policy_json=PolicyConfig.model_validate(ITALIAN | {"special_days": [HALF_DAY]}).model_dump_json()
    )
    worker.apply(0, *_record(changed, rome(2027, 12, 24, 12, 46)))
    after = _started(worker.apply(0, *_record(_email("after"), rome(2027, 12, 24, 12, 47))))

    assert before.deadline.ToDatetime(UTC) == rome(2027, 12, 24, 14, 15).astimezone(UTC)
    assert after.deadline.ToDatetime(UTC) == rome(2027, 12, 27, 9, 17).astimezone(UTC)
    ticks = envelope.encode(
        Envelope("tick", "/test", "*", events_pb2.SlaTick(), rome(2027, 12, 24, 14, 15, 1))
    )
    fired = [envelope.decode(o.headers, o.value).payload for o in worker.apply(0, *ticks)]
    assert [
        (type(p).__name__, p.conversation_id) for p in fired if isinstance(p, events_pb2.SlaBreached)
    ] == [("SlaBreached", "before")]


# ---------------------------------------------------------------- iCalendar

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Pronto tests//EN
BEGIN:VEVENT
UID:christmas-eve
DTSTAMP:20261101T000000Z
SUMMARY:Christmas Eve: mornings only
DTSTART;TZID=Europe/Rome:20271224T090000
DTEND;TZID=Europe/Rome:20271224T130000
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
UID:sunday-before-christmas
DTSTAMP:20261101T000000Z
DTSTART;TZID=Europe/Rome:20261220T100000
DTEND;TZID=Europe/Rome:20261220T130000
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
UID:sunday-afternoon
DTSTAMP:20261101T000000Z
DTSTART:20261220T120000Z
DTEND:20261220T180000Z
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
UID:epiphany-worked
DTSTAMP:20261101T000000Z
DTSTART;VALUE=DATE:20270106
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
UID:inventory
DTSTAMP:20261101T000000Z
DTSTART;VALUE=DATE:20270111
DTEND;VALUE=DATE:20270113
END:VEVENT
BEGIN:VEVENT
UID:meeting
DTSTAMP:20261101T000000Z
DTSTART;TZID=America/New_York:20261210T090000
DURATION:PT2H
END:VEVENT
BEGIN:VEVENT
UID:night-works
DTSTAMP:20261101T000000Z
DTSTART:20261215T220000
DTEND:20261216T100000
END:VEVENT
BEGIN:VEVENT
UID:cancelled
DTSTAMP:20261101T000000Z
DTSTART;VALUE=DATE:20261218
STATUS:CANCELLED
END:VEVENT
END:VCALENDAR
"""


def test_an_icalendar_file_becomes_special_days() -> None:
    days = special_days(ICS.replace("\n", "\r\n").encode(), "Europe/Rome")
    assert days == [
        {"date": "2026-12-10", "closed": ["15:00-17:00"]},  # 09:00 in New York
        {"date": "2026-12-15", "closed": ["22:00-24:00"]},  # floating: the shop's wall clock
        {"date": "2026-12-16", "closed": ["00:00-10:00"]},
        {"date": "2026-12-20", "hours": ["10:00-19:00"]},  # two free events, touching, joined
        {"date": "2027-01-06", "holiday": False},
        {"date": "2027-01-11", "holiday": True},  # DTEND of a whole-day event is exclusive
        {"date": "2027-01-12", "holiday": True},
        {"date": "2027-12-24", "hours": ["09:00-13:00"]},
    ]
    shop = calendar(*days)
    assert shop.add(rome(2027, 12, 24, 12, 45), timedelta(minutes=30)) == rome(2027, 12, 27, 9, 15)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"hello <script>", "not an iCalendar file"),
        (
            ICS.replace("UID:meeting", "UID:meeting\nRRULE:FREQ=WEEKLY").encode(),
            "'meeting' recurs",
        ),
        (ICS.replace("DTSTART:20261220T120000Z", "DTSTART:20261220T120030Z").encode(), "whole minutes"),
        (
            ICS.replace(
                "UID:cancelled\nDTSTAMP:20261101T000000Z\nDTSTART;VALUE=DATE:20261218\nSTATUS:CANCELLED",
                "UID:clash\nDTSTAMP:20261101T000000Z\nDTSTART;VALUE=DATE:20271224",
            ).encode(),
            "2027-12-24: a whole-day busy event closes it",
        ),
    ],
)
def test_an_icalendar_file_that_cannot_be_read_is_refused_with_why(body: bytes, fragment: str) -> None:
    with pytest.raises(ValueError, match=r".") as raised:
        special_days(body, "Europe/Rome")
    assert fragment in str(raised.value)
    assert "<script>" not in str(raised.value)  # what was sent is not echoed


# ---------------------------------------------------------------- properties: random calendars, DST

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
