"""A recorded period through the pure routing and SLA folds with a candidate configuration. No I/O.

A discrete-event replay of one shop. Kept as recorded, in routing's recorded order and at their
recorded times: customers' messages, operators' profiles and statuses (and the candidate's added
operators, on the shifts of the operators they copy), and routing's ticks. Made by the replay: every
routing decision and every SLA clock event, by the candidate's configuration.

Operators' actions on a conversation (replies, pending and on hold, transfers, resolutions) move with
the candidate's decisions. A conversation the candidate gives to the same operator at the same moment
as the live run did keeps its actions exactly where they were. Any other conversation has them at the
same offsets from its new first assignment, taken by its holder at that moment; when the holder is not
the operator who really handled it, the offsets are multiplied by ``reply_time_factor`` (1: a colleague
works as fast; the report shows how the figures move with it). A conversation the candidate never
assigns within the period gets no actions; one the live run never assigned keeps its own.

Time passes as it did live (the recorded ticks), and also whenever something the candidate has due
is not followed by any recorded event within ``TICK_GRACE`` (live ticks come every second).

SLA's clocks take their events in the order of their times (held back ``SLA_REORDER`` to sort them;
not when the candidate's routing orders its queues by SLA's deadlines, which it needs at once),
which is what they measure: live SLA takes them as they arrive from three topics, and dates each by the
latest time its partition has seen, so a live clock result can differ from the replay's by the
milliseconds a record came late, or, when a customer writes within milliseconds of a resolution, in
which of the two came first.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from google.protobuf.message import Message

from pronto.envelope import Envelope
from pronto.v1 import events_pb2
from pronto_tools.backtest.candidate import AddedOperator, Routing
from services.routing.shop import Shop
from services.sla.domain.clock_outputs import Breached, Retargeted, Started, Stopped, Warned
from services.sla.domain.policy import Policy as SlaPolicy
from services.sla.worker import Worker as SlaWorker

log = logging.getLogger("pronto.backtest")

SOURCE = "/pronto/backtest"
TICK_GRACE = timedelta(seconds=2)
# Routing releases an unanswered assignment, and SLA fires a warning or breach, once time has passed
# the moment, not at it: their ticks come just after.
TICK_AFTER = SLA_TICK_AFTER = timedelta(microseconds=1)
# How long SLA's events are held back to take them in the order of their times: longer than the
# recorded order ever strays from it (a record read late by routing, an action moved earlier).
SLA_REORDER = timedelta(seconds=30)
ACTIONS = (
    events_pb2.OperatorReplied,
    events_pb2.ConversationStateChanged,
    events_pb2.ConversationTransferRequested,
    events_pb2.ConversationResolved,
)
# SLA's deadlines routing reads: the replay's own SLA makes them.
DEADLINES = (events_pb2.SlaClockStarted, events_pb2.SlaClockRetargeted)
# Routing's decisions SLA's clocks read.
SLA_READS = (events_pb2.ConversationAssigned, events_pb2.ConversationQueued, events_pb2.QueuePositionChanged)
OPERATOR_CHANGES = (events_pb2.OperatorProfileUpdated, events_pb2.OperatorStatusChanged)


def is_action(event: Envelope) -> bool:
    return isinstance(event.payload, ACTIONS)


@dataclass(frozen=True)
class Recorded:
    """What the live run did that the replay needs beside its input stream."""

    # Conversation -> (operator, when) of its first assignment.
    first_assignments: Mapping[str, tuple[str, datetime]]
    # Conversation (of those assigned) -> its operators' actions, with their positions in the stream.
    actions: Mapping[str, Sequence[tuple[int, Envelope]]]


class Replay:
    """One run of a period through a candidate; every event it applies or makes goes to ``observe``."""

    def __init__(
        self,
        tenant: str,
        routing: Routing,
        sla: SlaPolicy,
        recorded: Recorded,
        observe: Callable[[Envelope], None],
        reply_time_factor: float = 1.0,
        every_clock_event: bool = False,
    ) -> None:
        self.tenant = tenant
        self.routing = routing
        self.shop = Shop(routing.policy.for_tenant(tenant))
        # Only the events the figures measure, and the deadlines when routing reads them, are made;
        # or all of them, as live SLA makes them (``every_clock_event``: a made-up history's record).
        described = (Stopped, Breached, Warned) + ((Started, Retargeted) if routing.reads_deadlines else ())
        self.sla = SlaWorker({tenant: sla}, sla, SOURCE, described=None if every_clock_event else described)
        self.recorded = recorded
        self.observe = observe
        self.factor = reply_time_factor
        self.counts: Counter[str] = Counter()
        self._pending = {k: list(v) for k, v in recorded.actions.items()}
        self._added: dict[str, list[AddedOperator]] = defaultdict(list)
        for added in routing.operators:
            self._added[added.like].append(added)
        self._n = itertools.count()
        # Actions kept in place: (position, n, event); moved: (when, position, n, event).
        self._kept: list[tuple[float, int, Envelope]] = []
        self._moved: list[tuple[datetime, float, int, Envelope]] = []
        self._holder: dict[str, str] = {}
        # SLA's events not yet taken: (time, n, event). Held back to sort them, unless routing reads
        # SLA's deadlines: it needs them as live routing gets them, within moments of the message.
        self._for_sla: list[tuple[datetime, int, Envelope]] = []
        self._reorder = timedelta(0) if routing.reads_deadlines else SLA_REORDER
        self._assigned: set[str] = set()
        self._ticked_at: datetime | None = None

    # ---------------------------------------------------------------- driving

    def run(self, stream: Iterable[tuple[int, Envelope]], until: datetime | None = None) -> Counter[str]:
        """Replay ``stream`` (the recorded events in routing's order, each with its position, without
        the actions of conversations in ``Recorded.actions``) to the period's end, ``until`` (the
        last recorded event of any topic) or the stream's; returns what it counted."""
        end: datetime | None = until
        for position, event in stream:
            self._until(event.time, position)
            self._fixed(event)
            end = event.time if end is None else max(end, event.time)
        if end is not None:
            self._until(end + SLA_TICK_AFTER, math.inf)
            self._clocks(None)
            ticked: datetime | None = None
            # The warnings and breaches due by the end.
            while (
                (due := self.sla.next_due(0)) is not None and due < end and (ticked is None or due > ticked)
            ):
                ticked = due
                self._clock(Envelope(self._id(), SOURCE, "*", events_pb2.SlaTick(), due + SLA_TICK_AFTER))
        self.counts["actions_after_the_period"] += len(self._moved)
        self.counts["actions_of_conversations_never_assigned"] += sum(map(len, self._pending.values()))
        return self.counts

    def _until(self, time: datetime, position: float) -> None:
        """Everything of the replay's own that comes before the recorded event at ``position``: moved
        and kept actions, and ticks of time passing before them."""
        while True:
            kept = self._kept[0] if self._kept and self._kept[0][0] < position else None
            moved = self._moved[0] if self._moved and self._moved[0][0] < time else None
            take_moved = moved is not None and (kept is None or moved[0] < kept[2].time)
            when = moved[0] if take_moved and moved else kept[2].time if kept else time
            self._clocks(when - self._reorder)
            if self._tick_before(when):
                continue
            if take_moved:
                _, _, _, action = heapq.heappop(self._moved)
                self._act(self._taken(action, max(when, self._now())))
            elif kept is not None:
                heapq.heappop(self._kept)
                self._act(kept[2])
            else:
                return

    def _tick_before(self, when: datetime) -> bool:
        """Apply routing's tick if something is due before ``when`` and no recorded event comes near
        it. The tick comes just after the moment (routing acts once a limit is passed, not at it), and
        again later only if that moment has not moved on."""
        due = self.shop.due()
        if due is None or due + TICK_GRACE >= when:
            return False
        at = max(due + TICK_AFTER, self._now())
        if self._ticked_at is not None and at <= self._ticked_at:
            return False
        self._ticked_at = at
        self._route(self._event(events_pb2.RoutingTick(), at))
        return True

    def _clocks(self, until: datetime | None) -> None:
        """SLA's events up to ``until`` (None: all), in time order, with its ticks between them."""
        while self._for_sla and (until is None or self._for_sla[0][0] <= until):
            when, _, event = heapq.heappop(self._for_sla)
            ticked: datetime | None = None
            while (
                (due := self.sla.next_due(0)) is not None and due < when and (ticked is None or due > ticked)
            ):
                ticked = due + SLA_TICK_AFTER
                self._clock(Envelope(self._id(), SOURCE, "*", events_pb2.SlaTick(), ticked))
            self._clock(event)

    # ---------------------------------------------------------------- events

    def _fixed(self, event: Envelope) -> None:
        payload = event.payload
        if isinstance(payload, DEADLINES):
            return
        if isinstance(payload, ACTIONS):  # of a conversation the live run never assigned
            self._act(event)
            return
        if not isinstance(payload, events_pb2.RoutingTick):
            self.observe(event)
        if isinstance(payload, events_pb2.MessageReceived):
            self._sla(event)
        self._route(event)
        if isinstance(payload, OPERATOR_CHANGES):
            for added in self._added.get(payload.operator_id, ()):
                copy = _copied(event, added)
                self.observe(copy)
                self._route(copy)

    def _act(self, event: Envelope) -> None:
        self.observe(event)
        self._sla(event)
        self._route(event)

    def _taken(self, action: Envelope, when: datetime) -> Envelope:
        """A moved action, at its new time, by the conversation's holder then (if anyone holds it)."""
        payload = _clone(action.payload)
        holder = self._holder.get(getattr(payload, "conversation_id", ""), "")
        by_supervisor = getattr(payload, "by_supervisor", False)
        if holder and payload.operator_id and not by_supervisor:  # type: ignore[attr-defined]
            payload.operator_id = holder  # type: ignore[attr-defined]
        return Envelope(action.id, action.source, action.tenant, payload, when, action.traceparent)

    def _route(self, event: Envelope) -> None:
        try:
            emitted = self.shop.apply(event)
        except Exception:
            # As live routing does: one event's failure skips it, it does not stop the shop.
            self.counts["routing_errors"] += 1
            log.exception("routing failed on %s (%s): skipped", event.id, event.type)
            return
        for out in emitted:
            self._decided(self._event(out.payload, self.shop.clock or event.time))

    def _decided(self, decision: Envelope) -> None:
        self.observe(decision)
        payload = decision.payload
        if isinstance(payload, events_pb2.ConversationAssigned):
            self._holder[payload.conversation_id] = payload.operator_id
            if payload.conversation_id not in self._assigned:
                self._assigned.add(payload.conversation_id)
                self._schedule(payload.conversation_id, payload.operator_id, decision.time)
        elif isinstance(payload, events_pb2.ConversationQueued | events_pb2.ConversationReassigned):
            self._holder.pop(payload.conversation_id, None)
        if isinstance(payload, SLA_READS):
            self._sla(decision)

    def _sla(self, event: Envelope) -> None:
        heapq.heappush(self._for_sla, (event.time, next(self._n), event))

    def _clock(self, event: Envelope) -> None:
        try:
            outcomes = self.sla.fold(0, event)
        except Exception:
            self.counts["sla_errors"] += 1
            log.exception("SLA failed on %s (%s): skipped", event.id, event.type)
            return
        now = self.sla.partitions[0].clock or event.time
        for outcome in outcomes:
            if outcome.payload is None:
                continue
            clock_event = self._event(outcome.payload, now)
            self.observe(clock_event)
            if self.routing.reads_deadlines and isinstance(outcome.payload, DEADLINES):
                self._route(clock_event)

    def _schedule(self, conversation_id: str, operator_id: str, at: datetime) -> None:
        """The conversation's recorded actions, in place or moved, from its first assignment here."""
        actions = self._pending.pop(conversation_id, None)
        recorded = self.recorded.first_assignments.get(conversation_id)
        if not actions or recorded is None:
            return
        if recorded == (operator_id, at):
            self.counts["conversations_as_recorded"] += 1
            for position, action in actions:
                heapq.heappush(self._kept, (position, next(self._n), action))
            return
        self.counts["conversations_moved"] += 1
        live_operator, live_at = recorded
        factor = 1.0 if operator_id == live_operator else self.factor
        for position, action in actions:
            when = at + (action.time - live_at) * factor
            heapq.heappush(self._moved, (when, position, next(self._n), action))

    # ---------------------------------------------------------------- helpers

    def _now(self) -> datetime:
        assert self.shop.clock is not None
        return self.shop.clock

    def _id(self) -> str:
        return f"backtest-{next(self._n)}"

    def _event(self, payload: Message, time: datetime) -> Envelope:
        return Envelope(self._id(), SOURCE, self.tenant, payload, time)


def _clone(payload: Message) -> Message:
    copy = type(payload)()
    copy.CopyFrom(payload)
    return copy


def _copied(event: Envelope, added: AddedOperator) -> Envelope:
    """An operator's profile or status change, as the added operator's who copies them."""
    payload = _clone(event.payload)
    payload.operator_id = added.id  # type: ignore[attr-defined]
    if isinstance(payload, events_pb2.OperatorProfileUpdated):
        if added.languages is not None:
            del payload.languages[:]
            payload.languages.extend(
                events_pb2.LanguageSkill(language=k, proficiency=v) for k, v in added.languages.items()
            )
        payload.display_name = added.display_name or added.id
    return Envelope(f"{event.id}+{added.id}", event.source, event.tenant, payload, event.time)
