"""Special days from an iCalendar file (RFC 5545, read with the ``icalendar`` package). No I/O.

A shop keeps its exceptions in a calendar program and exports them; each event says whether the
shop is available then by its "show as" (``TRANSP``), as calendar programs write it:

- busy (``OPAQUE``, the default): closed. A whole-day event closes each of its days as a holiday
  of the shop's own (``"holiday": true``); a timed one closes that part of the day (``"closed"``).
- free (``TRANSPARENT``): open. A timed event is that day's opening hours (``"hours"``; several
  make a split day), instead of the weekday's, holiday or not; a whole-day event works a public
  holiday with the weekday's hours (``"holiday": false``).

Times with a time zone are read in the shop's zone; floating ones are the shop's wall clock. An
event crossing midnight counts on each day it covers. Cancelled events are left out. Recurring
events (``RRULE``, ``RDATE``) are refused: calendar programs export holiday calendars one event
per date, and a rule would need a horizon to expand to.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import icalendar

from pronto.calendar import MINUTES_PER_DAY
from pronto.time_zones import zone_named

# A file's events become at most this many special days (``PolicyConfig.special_days`` allows 1000).
MAX_DAYS = 1000


@dataclass
class _Day:
    hours: list[tuple[int, int]] = field(default_factory=list)
    closed: list[tuple[int, int]] = field(default_factory=list)
    holiday: bool | None = None


def special_days(data: bytes, timezone: str) -> list[dict[str, Any]]:
    """The special days an iCalendar file describes, as ``PolicyConfig.special_days`` takes them,
    in date order; a ValueError names the event (its UID) that cannot be read."""
    zone = zone_named(timezone)
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except ValueError as exc:  # its message quotes the line: not echoed
        raise ValueError("not an iCalendar file: a line cannot be read as one") from exc
    days: dict[date, _Day] = defaultdict(_Day)
    for calendar in calendars:
        for event in calendar.walk("VEVENT"):
            name = f"event {str(event.get('UID', '(no UID)'))[:80]!r}"
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            if "RRULE" in event or "RDATE" in event:
                raise ValueError(f"{name} recurs (RRULE or RDATE): export its dates one by one")
            try:
                start, end = event.start, event.end  # type: ignore[attr-defined]
            except (icalendar.InvalidCalendar, icalendar.IncompleteComponent, ValueError) as exc:
                raise ValueError(f"{name} has no usable start and end ({type(exc).__name__})") from exc
            opening = str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
            if not isinstance(start, datetime):
                _whole_days(days, name, start, end, opening)
            else:
                _timed(days, name, start, end, opening, zone)
            if len(days) > MAX_DAYS:
                raise ValueError(f"the file names more than {MAX_DAYS} days")
    return [_entry(day, days[day]) for day in sorted(days)]


def _whole_days(days: dict[date, _Day], name: str, start: date, end: Any, opening: bool) -> None:
    last = (
        end if isinstance(end, date) and not isinstance(end, datetime) else start + timedelta(1)
    ) - timedelta(1)
    if last < start:
        raise ValueError(f"{name} ends before it starts")
    if (last - start).days >= MAX_DAYS:
        raise ValueError(f"{name} lasts more than {MAX_DAYS} days")
    day = start
    while day <= last:
        entry = days[day]
        if entry.holiday is not None and entry.holiday != (not opening):
            raise ValueError(f"{day}: one whole-day event says open and another closed")
        entry.holiday = not opening
        day += timedelta(days=1)


def _timed(days: dict[date, _Day], name: str, start: datetime, end: Any, opening: bool, zone: Any) -> None:
    if not isinstance(end, datetime):
        raise ValueError(f"{name} starts at a time but ends on a date")
    local_start, local_end = (_local(moment, zone) for moment in (start, end))
    if any(m.second or m.microsecond for m in (local_start, local_end)):
        raise ValueError(f"{name} starts or ends within a minute: give whole minutes")
    if local_end <= local_start:
        raise ValueError(f"{name} ends before it starts")
    if (local_end - local_start).days >= MAX_DAYS:
        raise ValueError(f"{name} lasts more than {MAX_DAYS} days")
    day = local_start.date()
    while datetime.combine(day, time(0)) < local_end:
        opens = max(local_start, datetime.combine(day, time(0)))
        closes = min(local_end, datetime.combine(day + timedelta(days=1), time(0)))
        period = (
            opens.hour * 60 + opens.minute,
            MINUTES_PER_DAY if closes.date() > day else closes.hour * 60 + closes.minute,
        )
        (days[day].hours if opening else days[day].closed).append(period)
        day += timedelta(days=1)


def _local(moment: datetime, zone: Any) -> datetime:
    """The shop's wall-clock time of ``moment``, without its zone; floating times already are."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(zone).replace(tzinfo=None)


def _union(periods: list[tuple[int, int]]) -> list[str]:
    """Overlapping or touching periods joined, as ``"09:00-13:00"``."""
    joined: list[tuple[int, int]] = []
    for start, end in sorted(periods):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return [f"{_clock(start)}-{_clock(end)}" for start, end in joined]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02}:{minutes % 60:02}"


def _entry(day: date, found: _Day) -> dict[str, Any]:
    if found.holiday and found.hours:
        raise ValueError(f"{day}: a whole-day busy event closes it, and a free one gives it hours")
    entry: dict[str, Any] = {"date": day.isoformat()}
    if found.hours:
        entry["hours"] = _union(found.hours)
    if found.holiday is not None and not (found.hours and found.holiday is False):
        entry["holiday"] = found.holiday
    if found.closed:
        entry["closed"] = _union(found.closed)
    return entry
