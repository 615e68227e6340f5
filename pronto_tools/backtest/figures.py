"""A period's service figures from its events, whatever order they come in. No I/O.

``Observer`` is fed every event of a period (recorded ones for what really happened, a replay's for a
candidate) and ``Observer.figures()`` measures what a support lead compares: first-response compliance
per channel and language, customers' waits, breaches, reassignments, each operator's load and idle time.
The events may come in any order (the recorded ones are read topic by topic): what depends on order is
sorted by time at the end.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from pronto.channels import channel_name
from pronto.envelope import Envelope
from pronto.message_kinds import RECORDED_ONLY
from pronto.v1 import events_pb2

FIRST_RESPONSE = events_pb2.SLA_METRIC_FIRST_RESPONSE
METRIC_NAMES = {
    events_pb2.SLA_METRIC_FIRST_RESPONSE: "first_response",
    events_pb2.SLA_METRIC_NEXT_RESPONSE: "next_response",
    events_pb2.SLA_METRIC_RESOLUTION: "resolution",
}
# Holder changes and statuses, swept in time order: (time, order seen, operator, conversation, change).
_ASSIGN, _RELEASE, _ONLINE, _OFFLINE = "assign", "release", "online", "offline"


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile (``q`` in 0-100) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Conversation:
    channel: str = ""
    language: str = ""
    arrived: datetime | None = None
    assigned: datetime | None = None
    replied: datetime | None = None


@dataclass(frozen=True)
class Spread:
    """Seconds: how many, and the 50th, 90th and 99th percentiles."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(len(values), percentile(values, 50), percentile(values, 90), percentile(values, 99))


@dataclass(frozen=True)
class Compliance:
    measured: int
    met: int

    @property
    def percent(self) -> float | None:
        return 100.0 * self.met / self.measured if self.measured else None


@dataclass(frozen=True)
class OperatorLoad:
    assigned: int
    online_h: float
    # Hours holding at least one conversation, and online holding none.
    busy_h: float
    idle_h: float
    # Conversations held on average while online.
    mean_held: float


@dataclass(frozen=True)
class Figures:
    conversations: int
    # (channel, language) -> first responses measured against a target, and met.
    compliance: dict[tuple[str, str], Compliance]
    # Channel ("" for all) -> seconds from the customer's first message to an operator, and to a reply.
    waits: dict[str, Spread]
    first_replies: dict[str, Spread]
    # Language -> seconds from the customer's first message to an operator.
    language_waits: dict[str, Spread]
    breaches: dict[str, int]
    warnings: int
    reassignments: int
    never_assigned: int
    operators: dict[str, OperatorLoad]

    def overall_compliance(self) -> Compliance:
        return _sum(list(self.compliance.values()))

    def language_compliance(self, language: str) -> Compliance:
        return _sum([c for (_, lang), c in self.compliance.items() if lang == language])

    def channel_compliance(self, channel: str) -> Compliance:
        return _sum([c for (ch, _), c in self.compliance.items() if ch == channel])


def _sum(tallies: list[Compliance]) -> Compliance:
    return Compliance(sum(c.measured for c in tallies), sum(c.met for c in tallies))


@dataclass
class Observer:
    conversations: dict[str, Conversation] = field(default_factory=lambda: defaultdict(Conversation))
    # Every first response measured against a target: (conversation, met). A conversation reopened
    # after its resolution is measured again, as SLA's own figures count it.
    outcomes: list[tuple[str, bool]] = field(default_factory=list)
    breaches: Counter[str] = field(default_factory=Counter)
    warnings: int = 0
    reassignments: int = 0
    changes: list[tuple[datetime, int, str, str, str]] = field(default_factory=list)
    # For comparing two runs of a period: every assignment, and every clock stopped, as they were.
    assignments: list[tuple[str, str, datetime]] = field(default_factory=list)
    stops: list[tuple[str, int, bool, float]] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None

    def observe(self, event: Envelope) -> None:
        p, t = event.payload, event.time
        self.start = t if self.start is None else min(self.start, t)
        self.end = t if self.end is None else max(self.end, t)
        if isinstance(p, events_pb2.MessageReceived):
            if p.kind in RECORDED_ONLY:
                return
            c = self.conversations[p.conversation_id]
            if c.arrived is None or t < c.arrived:
                c.arrived, c.channel = t, channel_name(p.channel)
                c.language = p.language.split("-")[0].lower()
        elif isinstance(p, events_pb2.ConversationAssigned):
            c = self.conversations[p.conversation_id]
            c.assigned = t if c.assigned is None else min(c.assigned, t)
            self.assignments.append((p.conversation_id, p.operator_id, t))
            self._change(t, p.operator_id, p.conversation_id, _ASSIGN)
        elif isinstance(p, events_pb2.ConversationQueued | events_pb2.ConversationResolved):
            self._change(t, "", p.conversation_id, _RELEASE)
        elif isinstance(p, events_pb2.ConversationReassigned):
            self.reassignments += 1
            self._change(t, "", p.conversation_id, _RELEASE)
        elif isinstance(p, events_pb2.OperatorReplied):
            c = self.conversations[p.conversation_id]
            c.replied = t if c.replied is None else min(c.replied, t)
        elif isinstance(p, events_pb2.OperatorStatusChanged) and not p.channel:
            online = p.status == events_pb2.OPERATOR_STATUS_ONLINE
            self._change(t, p.operator_id, "", _ONLINE if online else _OFFLINE)
        elif isinstance(p, events_pb2.SlaMet | events_pb2.SlaMissed):
            met = isinstance(p, events_pb2.SlaMet)
            self.stops.append((p.conversation_id, p.metric, met, p.elapsed.ToTimedelta().total_seconds()))
            if p.metric == FIRST_RESPONSE:
                self.outcomes.append((p.conversation_id, met))
        elif isinstance(p, events_pb2.SlaBreached):
            self.breaches[METRIC_NAMES.get(p.metric, "other")] += 1
        elif isinstance(p, events_pb2.SlaWarning):
            self.warnings += 1

    def _change(self, time: datetime, operator: str, conversation: str, change: str) -> None:
        self.changes.append((time, len(self.changes), operator, conversation, change))

    def figures(self, until: datetime | None = None) -> Figures:
        """The period's figures; time online counted to ``until`` (the period's end) if later than
        the last event seen."""
        if until is not None and (self.end is None or until > self.end):
            self.end = until
        return self._figures()

    def _figures(self) -> Figures:
        known = {k: c for k, c in self.conversations.items() if c.arrived is not None}
        compliance: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for conversation_id, met in self.outcomes:
            c = known.get(conversation_id)
            if c is not None:
                tally = compliance[(c.channel, c.language)]
                tally[0] += 1
                tally[1] += met
        channels = sorted({c.channel for c in known.values()})
        waits: dict[str, list[float]] = defaultdict(list)
        replies: dict[str, list[float]] = defaultdict(list)
        by_language: dict[str, list[float]] = defaultdict(list)
        for c in known.values():
            assert c.arrived is not None
            for into, moment in ((waits, c.assigned), (replies, c.replied)):
                if moment is not None:
                    seconds = max(0.0, (moment - c.arrived).total_seconds())
                    into[""].append(seconds)
                    into[c.channel].append(seconds)
                    if into is waits:
                        by_language[c.language].append(seconds)
        return Figures(
            conversations=len(known),
            compliance={k: Compliance(v[0], v[1]) for k, v in sorted(compliance.items())},
            waits={ch: Spread.of(waits[ch]) for ch in ["", *channels]},
            first_replies={ch: Spread.of(replies[ch]) for ch in ["", *channels]},
            language_waits={lang: Spread.of(v) for lang, v in sorted(by_language.items())},
            breaches={"first_response": 0, **dict(sorted(self.breaches.items()))},
            warnings=self.warnings,
            reassignments=self.reassignments,
            never_assigned=sum(c.assigned is None for c in known.values()),
            operators=self._loads(),
        )

    def _loads(self) -> dict[str, OperatorLoad]:
        """Sweep holder changes and statuses in time order: who holds what, who is online, for how long."""
        holder: dict[str, str] = {}
        held: Counter[str] = Counter()
        assigned: Counter[str] = Counter()
        online: dict[str, bool] = {}
        since: dict[str, datetime] = {}
        totals: dict[str, list[float]] = defaultdict(
            lambda: [0.0, 0.0, 0.0, 0.0]
        )  # online, busy, idle, held·s

        def account(operator: str, now: datetime) -> None:
            before = since.get(operator)
            if before is not None and online.get(operator):
                seconds = (now - before).total_seconds()
                t = totals[operator]
                t[0] += seconds
                t[1 if held[operator] else 2] += seconds
                t[3] += held[operator] * seconds
            since[operator] = now

        for time, _, operator, conversation, change in sorted(self.changes):
            if change in (_ONLINE, _OFFLINE):
                account(operator, time)
                online[operator] = change == _ONLINE
                continue
            previous = holder.pop(conversation, "")
            if previous:
                account(previous, time)
                held[previous] -= 1
            if change == _ASSIGN:
                account(operator, time)
                holder[conversation] = operator
                held[operator] += 1
                assigned[operator] += 1
        if self.end is not None:
            for operator in list(since):
                account(operator, self.end)
        result = {}
        for operator in sorted(set(totals) | set(assigned)):
            on, busy, idle, held_s = totals[operator]
            result[operator] = OperatorLoad(
                assigned[operator], on / 3600, busy / 3600, idle / 3600, held_s / on if on else 0.0
            )
        return result
