"""Staffing advice from a shop's history: operators needed per channel, language and hour of the week. No I/O.

For each (channel, language, hour of the week) the history gives the arrivals per hour (new
conversations divided by the hours of that weekly slot the period covers), the handling time (the
mean time from an assignment to the resolution on that channel, over the whole period: one slot
holds too few resolutions to measure its own) and the operators who were online and could take
it (speaking the language, with room for the channel), averaged over the slot's covered time. The
shop's first-response target for the channel and the service level asked for turn arrivals and
handling time into operators needed: Erlang C for the phone and e-mail, the multi-chat variant for
chat and messaging, with the chats an operator holds at once as their profiles say
(``services/query/domain/staffing.py``, checked against published worked examples).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pronto.channels import channel_name
from pronto.envelope import Envelope
from pronto.message_kinds import RECORDED_ONLY
from pronto.v1 import events_pb2
from services.query.domain.staffing import Load, agents_needed, operators_needed_for_chat

# Channels an operator answers one contact at a time; the others are chats held several at once.
ONE_AT_A_TIME = frozenset({"phone", "email", "contact_form"})
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOUR = timedelta(hours=1)


def slot_of(at: datetime) -> int:
    """The hour of the week, 0 (Monday 00:00-01:00 UTC) to 167."""
    at = at.astimezone(UTC)
    return at.weekday() * 24 + at.hour


def slot_name(slot: int) -> str:
    return f"{WEEKDAYS[slot // 24]} {slot % 24:02d}:00-{slot % 24 + 1:02d}:00"


def hours_by_slot(start: datetime, end: datetime) -> Iterator[tuple[int, float]]:
    """The hours of ``[start, end)`` in each weekly slot it crosses, a piece at a time."""
    at = start
    while at < end:
        top = at.replace(minute=0, second=0, microsecond=0) + HOUR
        piece = min(top, end)
        yield slot_of(at), (piece - at).total_seconds() / 3600
        at = piece


@dataclass(frozen=True)
class Advice:
    channel: str
    language: str
    slot: int
    arrivals_per_hour: float
    handling_s: float
    target_s: float
    needed: int
    online: float

    def line(self) -> str:
        return (
            f"{self.language or '?'} {self.channel}, {slot_name(self.slot)} UTC: {self.needed} needed, "
            f"{self.online:.1f} online ({self.arrivals_per_hour:.1f} arrivals/h, handling "
            f"{self.handling_s:.0f} s, first reply within {self.target_s:.0f} s)"
        )


@dataclass
class _Operator:
    languages: frozenset[str] = frozenset()
    channels: Mapping[str, int] = field(default_factory=dict)
    online: bool = False


@dataclass
class Staffing:
    """Fed a period's events (any order), it advises the staffing of each weekly slot."""

    arrivals: dict[tuple[str, str, int], int] = field(default_factory=lambda: defaultdict(int))
    conversations: dict[str, str] = field(default_factory=dict)
    assigned: dict[str, datetime] = field(default_factory=dict)
    resolved: dict[str, datetime] = field(default_factory=dict)
    changes: list[tuple[datetime, int, Envelope]] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None

    def observe(self, event: Envelope) -> None:
        p, t = event.payload, event.time
        self.start = t if self.start is None else min(self.start, t)
        self.end = t if self.end is None else max(self.end, t)
        if isinstance(p, events_pb2.MessageReceived):
            if p.kind in RECORDED_ONLY or p.conversation_id in self.conversations:
                return
            channel = channel_name(p.channel)
            self.conversations[p.conversation_id] = channel
            self.arrivals[(channel, p.language.split("-")[0].lower(), slot_of(t))] += 1
        elif isinstance(p, events_pb2.ConversationAssigned):
            before = self.assigned.get(p.conversation_id)
            self.assigned[p.conversation_id] = t if before is None else min(before, t)
        elif isinstance(p, events_pb2.ConversationResolved):
            self.resolved.setdefault(p.conversation_id, t)
        elif isinstance(p, events_pb2.OperatorProfileUpdated | events_pb2.OperatorStatusChanged):
            self.changes.append((t, len(self.changes), event))

    def handling_s(self) -> dict[str, float]:
        """Channel -> mean seconds from an assignment to the resolution."""
        held: dict[str, list[float]] = defaultdict(list)
        for conversation, resolved in self.resolved.items():
            assigned = self.assigned.get(conversation)
            channel = self.conversations.get(conversation)
            if assigned is not None and channel is not None and resolved > assigned:
                held[channel].append((resolved - assigned).total_seconds())
        return {channel: statistics.fmean(values) for channel, values in held.items()}

    def covered_hours(self) -> dict[int, float]:
        covered: dict[int, float] = defaultdict(float)
        if self.start is not None and self.end is not None:
            for slot, hours in hours_by_slot(self.start, self.end):
                covered[slot] += hours
        return covered

    def online_hours(self) -> tuple[dict[tuple[str, str, int], float], dict[str, int]]:
        """(channel, language, slot) -> operator-hours online able to take it; and channel -> the
        chats an operator holds at once, as most profiles say."""
        operators: dict[str, _Operator] = defaultdict(_Operator)
        hours: dict[tuple[str, str, int], float] = defaultdict(float)
        capacities: dict[str, list[int]] = defaultdict(list)
        since = self.start

        def account(until: datetime) -> None:
            if since is None:
                return
            for operator in operators.values():
                if not operator.online:
                    continue
                for slot, piece in hours_by_slot(since, until):
                    for channel, room in operator.channels.items():
                        if room > 0:
                            # A message in no known language ("") goes to anyone with room.
                            for language in (*operator.languages, ""):
                                hours[(channel, language, slot)] += piece

        for time, _, event in sorted(self.changes, key=lambda c: (c[0], c[1])):
            account(time)
            since = time
            p = event.payload
            operator = operators[p.operator_id]  # type: ignore[attr-defined]
            if isinstance(p, events_pb2.OperatorProfileUpdated):
                operator.languages = frozenset(s.language.split("-")[0].lower() for s in p.languages)
                operator.channels = {channel_name(c.channel): c.max_concurrent for c in p.capacities}
                for channel, room in operator.channels.items():
                    capacities[channel].append(room)
            elif isinstance(p, events_pb2.OperatorStatusChanged) and not p.channel:
                operator.online = p.status == events_pb2.OPERATOR_STATUS_ONLINE
        if self.end is not None:
            account(self.end)
        chats = {channel: max(1, int(statistics.median(rooms))) for channel, rooms in capacities.items()}
        return hours, chats

    def week(self, targets_s: Mapping[str, float], level: float) -> list[Advice]:
        """Advice for every slot with arrivals on a channel that has a first-response target."""
        covered = self.covered_hours()
        handling = self.handling_s()
        online, chats = self.online_hours()
        advice = []
        for (channel, language, slot), count in sorted(self.arrivals.items(), key=lambda a: (a[0][2], a[0])):
            target, held, hours = targets_s.get(channel), handling.get(channel), covered.get(slot, 0.0)
            if target is None or held is None or hours <= 0:
                continue
            load = Load(count / hours, held)
            if channel in ONE_AT_A_TIME:
                needed = agents_needed(load, target, level)
            else:
                needed = operators_needed_for_chat(load, target, level, chats.get(channel, 1))
            advice.append(
                Advice(
                    channel,
                    language,
                    slot,
                    load.arrivals_per_hour,
                    held,
                    target,
                    needed,
                    online.get((channel, language, slot), 0.0) / hours,
                )
            )
        return advice
