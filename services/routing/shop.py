"""One shop's routing as a fold over its events (``Shop``): ``Shop.apply(event) -> events out``. No I/O.

Each event is translated into a change of its ``TenantRouting``, and the outputs into events.

The fold is deterministic: the time it uses is the event's own, the ids of the
events it emits derive from the id of the event that caused them, and time
passing is itself an event (``RoutingTick``) in the same stream. Replaying a
shop's stream therefore rebuilds exactly the state the worker had and
re-emits exactly the same events, which is how the worker recovers. The
events it publishes are made in ``shop_events_out``, the positions and waits
it tells customers in ``shop_queue``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from pronto.envelope import Envelope
from pronto.message_kinds import RECORDED_ONLY
from pronto.v1 import events_pb2
from services.routing import translate
from services.routing.domain.decision import Level, Rules
from services.routing.domain.tenant import Ladder, TenantRouting
from services.routing.domain.waits import QueuePace, Told
from services.routing.shop_events_out import Emitted, EventsOut

# Input events remembered to recognise a redelivered one (the stream is at-least-once).
SEEN_CAPACITY = 100_000
# Customers remembered for "who served them last".
CUSTOMERS_CAPACITY = 100_000
# First-response deadlines SLA sent before routing saw the conversation's message (the two come
# through different topics), kept until the message comes.
EARLY_DEADLINES_CAPACITY = 10_000


@dataclass(frozen=True)
class Policy:
    """A shop's routing settings: widening steps, reply deadlines, handling time guesses."""

    ladder: Ladder = field(default_factory=Ladder)
    # Channel -> how long an assigned operator has for a first reply before losing the conversation.
    reply_within: Mapping[str, timedelta] = field(default_factory=dict)
    # Channel -> handling time assumed until resolutions and the queue's pace measure it.
    handling_time: Mapping[str, timedelta] = field(default_factory=dict)
    default_handling_time: timedelta = timedelta(minutes=10)
    # How often queued customers' positions and waits are re-published.
    position_every: timedelta = timedelta(seconds=10)
    # Channel -> the team that serves it first (e.g. phone -> "callback desk"); others only once a
    # conversation is widened to any team.
    channel_teams: Mapping[str, str] = field(default_factory=dict)
    # Fairness, sticky operator and hold: this shop's (``for_tenant``), else every shop's.
    rules: Rules = field(default_factory=Rules)
    # Tenant -> its own rules, where they differ from ``rules``.
    shops: Mapping[str, Rules] = field(default_factory=dict)

    def for_tenant(self, tenant: str) -> Policy:
        """The policy one shop decides by: its own rules if it has some."""
        rules = self.shops.get(tenant, self.rules)
        return self if rules == self.rules else replace(self, rules=rules)


@dataclass
class _Bounded:
    capacity: int
    items: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def put(self, key: str, value: str = "") -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        if len(self.items) > self.capacity:
            self.items.popitem(last=False)


@dataclass
class Shop(EventsOut):
    policy: Policy
    routing: TenantRouting = field(default_factory=TenantRouting)
    clock: datetime | None = None
    seen: _Bounded = field(default_factory=lambda: _Bounded(SEEN_CAPACITY))
    last_served: _Bounded = field(default_factory=lambda: _Bounded(CUSTOMERS_CAPACITY))
    # Channel -> measured handling time in seconds (exponential moving average).
    handling: dict[str, float] = field(default_factory=dict)
    # Conversation -> (position, seconds) last published; and the wait last told, to measure it against.
    published: dict[str, tuple[int, int]] = field(default_factory=dict)
    told: dict[str, Told] = field(default_factory=dict)
    pace: QueuePace = field(default_factory=QueuePace)
    positions_at: datetime | None = None
    early_deadlines: OrderedDict[str, datetime | None] = field(default_factory=OrderedDict)

    def apply(self, event: Envelope) -> list[Emitted]:
        """What ``event`` changes, as the events to publish. A redelivered event changes nothing."""
        if event.id in self.seen.items:
            return []
        self.seen.put(event.id)
        now = self.clock = max(self.clock or event.time, event.time)
        if self.routing.rules != self.policy.rules:
            drained = self.routing.configure(self.policy.rules, now)
            if drained:
                return self._emit(drained, event.id, now) + self._event(event, now)
        return self._event(event, now)

    def _event(self, event: Envelope, now: datetime) -> list[Emitted]:
        payload = event.payload
        if isinstance(payload, events_pb2.MessageReceived):
            return self._message(payload, event, now)
        if isinstance(payload, events_pb2.OperatorProfileUpdated | events_pb2.OperatorStatusChanged):
            return self._operator(payload, event.id, now)
        if isinstance(payload, events_pb2.OperatorReplied | events_pb2.ConversationStateChanged):
            # Setting a conversation pending or on hold is the holder acting on it, like a reply:
            # it must not be taken back from them for silence.
            self.routing.replied(payload.conversation_id, payload.operator_id)
            return []
        if isinstance(payload, events_pb2.ConversationTransferRequested):
            transfer = translate.transfer(payload, event.id)
            return self._emit(self.routing.transfer(transfer, now, self.policy.ladder), event.id, now)
        if isinstance(payload, events_pb2.ConversationResolved):
            self._measure(payload.conversation_id, now)
            self.published.pop(payload.conversation_id, None)
            self.told.pop(payload.conversation_id, None)
            return self._emit(self.routing.finished(payload.conversation_id, now), event.id, now)
        if isinstance(payload, events_pb2.SlaClockStarted | events_pb2.SlaClockRetargeted):
            if payload.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE:
                switched_off = isinstance(payload, events_pb2.SlaClockRetargeted) and payload.switched_off
                deadline = None if switched_off or not payload.HasField("deadline") else payload.deadline
                self._due_by(payload.conversation_id, deadline and deadline.ToDatetime(UTC))
            return []
        if isinstance(payload, events_pb2.RoutingTick):
            return self._tick(event.id, now)
        return []

    def due(self) -> datetime | None:
        """The earliest moment time alone changes something, or None while nothing can.

        Routing writes a tick only once this moment has come (``Worker.ticks``), so an idle shop
        writes no tick records: a conversation's next widening step or the end of its hold for its
        previous operator, an unanswered assignment's reply deadline, and while anyone waits the
        next re-publication of queue positions (or at once, when a silent operator is to be
        forgiven at the last step).
        """
        moments: list[datetime] = []
        ladder, routing = self.policy.ladder, self.routing
        if routing.waiting:
            refresh = self.positions_at + self.policy.position_every if self.positions_at else self.clock
            moments += [refresh] if refresh else []
        last = Level(min(len(ladder.after), Level.ANY_TEAM))
        for conversation in routing.waiting.values():
            since = conversation.waiting_since
            if since is None:
                continue
            if conversation.excluded and conversation.level >= last:
                moments.append(since)
            if conversation.hold_until is not None:
                moments.append(conversation.hold_until)
            for step, threshold in enumerate(ladder.after, start=1):
                if Level(min(step, Level.ANY_TEAM)) > conversation.level:
                    moments.append(since + threshold)
                    break
        for assignment in routing.assigned.values():
            limit = self.policy.reply_within.get(assignment.channel)
            if limit is not None and not assignment.replied:
                moments.append(assignment.at + limit)
        return min(moments, default=None)

    # ---------------------------------------------------------------- events in

    def _message(self, message: events_pb2.MessageReceived, event: Envelope, now: datetime) -> list[Emitted]:
        if message.kind in RECORDED_ONLY:
            return []
        last = self.last_served.items.get(message.sender.id, "")
        conversation = translate.conversation(message, now, last)
        conversation = replace(
            conversation,
            team=self.policy.channel_teams.get(conversation.channel, ""),
            deadline=self.early_deadlines.pop(conversation.id, None),
        )
        arrived = self.routing.arrive(conversation, now, self.policy.ladder)
        return self._emit(arrived, event.id, now, event.time)

    def _due_by(self, conversation_id: str, deadline: datetime | None) -> None:
        """SLA's first-response deadline for the queue's order; kept if its message has not come yet."""
        routing = self.routing
        if conversation_id in routing.waiting or conversation_id in routing.assigned:
            routing.due_by(conversation_id, deadline)
            return
        self.early_deadlines[conversation_id] = deadline
        if len(self.early_deadlines) > EARLY_DEADLINES_CAPACITY:
            self.early_deadlines.popitem(last=False)

    def _operator(
        self,
        change: events_pb2.OperatorProfileUpdated | events_pb2.OperatorStatusChanged,
        trigger: str,
        now: datetime,
    ) -> list[Emitted]:
        previous = self.routing.operators.get(change.operator_id)
        if isinstance(change, events_pb2.OperatorProfileUpdated):
            operator = translate.profiled(change, previous)
        else:
            operator = translate.with_status(change, previous)
        return self._emit(self.routing.operator_changed(operator, now), trigger, now)

    def _tick(self, trigger: str, now: datetime) -> list[Emitted]:
        emitted = self._emit(
            self.routing.tick(now, self.policy.ladder, dict(self.policy.reply_within)), trigger, now
        )
        if self.positions_at is None or now - self.positions_at >= self.policy.position_every:
            self.positions_at = now
            emitted += self._positions(now)
        return emitted

    def _measure(self, conversation_id: str, now: datetime) -> None:
        assignment = self.routing.assigned.get(conversation_id)
        if assignment is None:
            return
        took = (now - assignment.at).total_seconds()
        before = self.handling.get(assignment.channel)
        self.handling[assignment.channel] = took if before is None else 0.8 * before + 0.2 * took
