"""Checks special days on examples: set in the policy or from iCalendar, and what running clocks do.

Issue #21, item 2: special days (hours of their own for some dates, holidays worked or kept, parts
of days closed), set in the policy or imported from an iCalendar file, and what running clocks do.

24 December 2027 is a Friday; 25 and 26 are Christmas and St Stephen's (a Saturday and a Sunday),
so a half day on the 24th moves a deadline to Monday 27 December's opening.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from pronto import envelope
from pronto.calendar import BusinessCalendar, Period, SpecialDay
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.sla.domain.policy import Policy
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
