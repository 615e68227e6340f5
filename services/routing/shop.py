"""One shop's routing as a fold over its events: ``Shop.apply(event) -> events out``. No I/O.

The fold is deterministic: the time it uses is the event's own, the ids of the
events it emits derive from the id of the event that caused them, and time
passing is itself an event (``RoutingTick``) in the same stream. Replaying a
shop's stream therefore rebuilds exactly the state the worker had and
re-emits exactly the same events, which is how the worker recovers.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message

from pronto.channels import channel_value
from pronto.envelope import Envelope
from pronto.message_kinds import RECORDED_ONLY
from pronto.v1 import events_pb2
from services.routing import translate
from services.routing.domain.decision import LIVE_CHANNELS, Assign, Level, Rules, Wait
from services.routing.domain.model import Conversation, Status
from services.routing.domain.tenant import Ladder, Output, Reassigned, TenantRouting, Widened
from services.routing.domain.transfer import TransferRefused
from services.routing.domain.waits import QueuePace, Told, estimate

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


@dataclass(frozen=True)
class Emitted:
    """An event the fold produced: its key (the conversation id) and payload."""

    key: str
    payload: Message
    # Set on assignments: when the customer's message was received, for the latency metric.
    received_at: datetime | None = None
    # Set on assignments out of the queue: (seconds waited, seconds told) since the last estimate.
    waited: tuple[float, float] | None = None


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
class Shop:
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

    # ---------------------------------------------------------------- events out

    def _emit(
        self, outputs: list[Output], trigger: str, now: datetime, received_at: datetime | None = None
    ) -> list[Emitted]:
        emitted: list[Emitted] = []
        requeued: list[tuple[str, str]] = []
        assigned_now = {o.conversation_id: o for o in outputs if isinstance(o, Assign)}
        for output in outputs:
            if isinstance(output, Assign):
                emitted.append(self._assigned(output, trigger, now, received_at))
            elif isinstance(output, Wait):
                emitted.append(self._queued(output, trigger, now))
            elif isinstance(output, Widened):
                emitted.append(self._widened(output))
            elif isinstance(output, TransferRefused):
                refusal = events_pb2.ConversationTransferRefused(
                    conversation_id=output.conversation_id,
                    reason=output.reason,
                    request_event_id=output.request_id,
                )
                emitted.append(Emitted(output.conversation_id, refusal))
            else:
                emitted.append(self._reassigned(output, assigned_now.get(output.conversation_id)))
                first = "first in line for its team" if output.transfer and output.transfer.to_team else ""
                requeued.append((output.conversation_id, first or "first in line"))
        for conversation_id, reason in requeued:
            if conversation_id in self.routing.waiting:
                emitted.append(self._requeued(conversation_id, trigger, now, reason))
        return emitted

    def _assigned(
        self, decision: Assign, trigger: str, now: datetime, received_at: datetime | None
    ) -> Emitted:
        conversation = self._conversation(decision.conversation_id)
        if conversation.customer_id:
            self.last_served.put(conversation.customer_id, decision.operator_id)
        waited = None
        if self.published.pop(decision.conversation_id, None) is not None:
            # It left the queue: one place moved up for everyone behind it on its channel.
            channel = conversation.channel
            self.pace.left(channel, now, any(c.channel == channel for c in self.routing.waiting.values()))
        if (told := self.told.pop(decision.conversation_id, None)) is not None and told.at < now:
            waited = told.error(now)
        return Emitted(
            decision.conversation_id,
            events_pb2.ConversationAssigned(
                conversation_id=decision.conversation_id,
                operator_id=decision.operator_id,
                operator_display_name=self._display_name(decision.operator_id),
                channel=channel_value(conversation.channel),
                candidates=translate.candidates(decision.candidates),
                reason=decision.reason,
                trigger_event_id=trigger,
                candidates_considered=decision.considered,
                level=Level(conversation.level).name,
            ),
            received_at,
            waited,
        )

    def _queued(self, decision: Wait, trigger: str, now: datetime) -> Emitted:
        conversation = self._conversation(decision.conversation_id)
        position, wait = self._position(decision.conversation_id, now)
        self.published[decision.conversation_id] = (position, int(wait.total_seconds()))
        self.told[decision.conversation_id] = Told(now, wait)
        queued = events_pb2.ConversationQueued(
            conversation_id=decision.conversation_id,
            channel=channel_value(conversation.channel),
            priority=round(decision.priority),
            position=position,
            candidates=translate.candidates(decision.candidates),
            reason=decision.reason,
            nobody_online=decision.nobody_online,
            trigger_event_id=trigger,
            candidates_considered=decision.considered,
            level=Level(conversation.level).name,
        )
        queued.estimated_wait.FromTimedelta(wait)
        return Emitted(decision.conversation_id, queued)

    def _requeued(self, conversation_id: str, trigger: str, now: datetime, place: str) -> Emitted:
        """A conversation taken back (or handed on) that nobody could take at once: it waits
        ``place`` ("first in line")."""
        conversation = self.routing.waiting[conversation_id]
        online = any(o.status is Status.ONLINE for o in self.routing.operators.values())
        wait = Wait(
            conversation_id,
            0.0,
            (),
            f"taken back from its operator; {place}",
            nobody_online=not online and conversation.channel in LIVE_CHANNELS,
        )
        return self._queued(wait, trigger, now)

    def _widened(self, widened: Widened) -> Emitted:
        conversation = self._conversation(widened.conversation_id)
        return Emitted(
            widened.conversation_id,
            events_pb2.ConversationWidened(
                conversation_id=widened.conversation_id,
                channel=channel_value(conversation.channel),
                level=Level(widened.level).name,
                reason=widened.reason,
            ),
        )

    def _reassigned(self, taken: Reassigned, to: Assign | None) -> Emitted:
        conversation = self._conversation(taken.conversation_id)
        return Emitted(
            taken.conversation_id,
            events_pb2.ConversationReassigned(
                conversation_id=taken.conversation_id,
                from_operator_id=taken.from_operator_id,
                to_operator_id=to.operator_id if to else "",
                to_operator_display_name=self._display_name(to.operator_id) if to else "",
                reason=taken.reason,
                candidates=translate.candidates(to.candidates) if to else [],
                channel=channel_value(conversation.channel),
                candidates_considered=to.considered if to else 0,
                transfer=translate.transfer_out(taken.transfer) if taken.transfer else None,
            ),
        )

    def _positions(self, now: datetime) -> list[Emitted]:
        """Queued customers whose position or estimated wait changed since they were last told."""
        emitted = []
        for conversation_id, (position, wait) in self._all_positions(now).items():
            seconds = int(wait.total_seconds())
            before = self.published.get(conversation_id)
            if before is not None and before[0] == position and abs(before[1] - seconds) < 60:
                continue
            self.published[conversation_id] = (position, seconds)
            self.told[conversation_id] = Told(now, wait)
            changed = events_pb2.QueuePositionChanged(
                conversation_id=conversation_id,
                channel=channel_value(self.routing.waiting[conversation_id].channel),
                position=position,
            )
            changed.estimated_wait.FromTimedelta(wait)
            emitted.append(Emitted(conversation_id, changed))
        return emitted

    # ---------------------------------------------------------------- the queue

    def _all_positions(self, now: datetime) -> dict[str, tuple[int, timedelta]]:
        """Each waiting conversation's place among those waiting on its channel, and the wait it implies."""
        counts: dict[str, int] = {}
        capacities = self._online_capacity()
        positions = {}
        for conversation in self.routing.queue(now):
            channel = conversation.channel
            position = counts[channel] = counts.get(channel, 0) + 1
            positions[conversation.id] = (
                position,
                self._estimate(channel, position, capacities.get(channel, 0)),
            )
        return positions

    def _position(self, conversation_id: str, now: datetime) -> tuple[int, timedelta]:
        """Its place now; one that left the queue in the same step counts as first."""
        conversation = self._conversation(conversation_id)
        position = (
            self.routing.position(conversation_id, now) if conversation_id in self.routing.waiting else 1
        )
        capacity = self._online_capacity().get(conversation.channel, 0)
        return position, self._estimate(conversation.channel, position, capacity)

    def _online_capacity(self) -> dict[str, int]:
        capacities: dict[str, int] = {}
        for operator in self.routing.operators.values():
            if operator.status is Status.ONLINE:
                for channel, slots in operator.capacities.items():
                    capacities[channel] = capacities.get(channel, 0) + slots
        return capacities

    def _estimate(self, channel: str, position: int, capacity: int) -> timedelta:
        """The queue's measured pace times the places ahead, else a guess from handling time."""
        measured = self.handling.get(channel)
        handling = (
            timedelta(seconds=measured)
            if measured is not None
            else self.policy.handling_time.get(channel, self.policy.default_handling_time)
        )
        return estimate(position, self.pace.per_place(channel), handling, capacity)

    def _conversation(self, conversation_id: str) -> Conversation:
        """Where it is now. Outputs are turned into events after the whole step: by then a
        conversation widened or queued in the step may already have been assigned, or the reverse.
        """
        if (assignment := self.routing.assigned.get(conversation_id)) is not None:
            return assignment.conversation
        return self.routing.waiting[conversation_id]

    def _display_name(self, operator_id: str) -> str:
        operator = self.routing.operators.get(operator_id)
        return operator.display_name if operator else operator_id
