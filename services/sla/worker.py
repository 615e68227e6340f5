"""The SLA worker's state: every open conversation's clocks in the partitions it owns.

A fold over ``support.clocks.v1``, like routing's: times are the events' own,
ticks are events, emitted ids derive from their cause, so a replay rebuilds
the clocks and fires a warning or breach exactly once, late ones included.
Records in, records out; no I/O.
"""

from __future__ import annotations

import heapq
import logging
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from google.protobuf.message import Message
from pydantic import ValidationError

from pronto import envelope
from pronto.channels import channel_name
from pronto.envelope import Envelope
from pronto.folding import FoldBase, Headers, Out, Seen
from pronto.message_kinds import RECORDED_ONLY
from pronto.v1 import common_pb2, events_pb2
from services.sla.clock_events import clock_event
from services.sla.dead_letters import dead_letter, unreadable_reason
from services.sla.domain.clock_outputs import (
    Output,
    Started,
    Stopped,
)
from services.sla.domain.clocks import ConversationClocks
from services.sla.domain.policy import Metric, Policy
from services.sla.domain.windows import ResponseWindows
from services.sla.settings import PolicyConfig

log = logging.getLogger("pronto.sla")
# A change restored from a snapshot written before changes carried their time: older than any other.
_BEFORE_TIMES = datetime.min.replace(tzinfo=UTC)
# ConversationStateChanged's states, as the clocks and the policy name them.
STATES = {
    events_pb2.CONVERSATION_STATE_OPEN: "open",
    events_pb2.CONVERSATION_STATE_PENDING: "pending",
    events_pb2.CONVERSATION_STATE_ON_HOLD: "on_hold",
}


def _reason(exc: Exception) -> str:
    """What failed, for the dead letter: pydantic's own text names the field of a refused policy."""
    return str(exc) if isinstance(exc, ValidationError) else f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Outcome:
    """What a live run observes about an emitted event (metrics); replays observe nothing."""

    tenant: str
    conversation_id: str
    channel: str
    output: Output
    # None for an output whose event the worker was not asked to make (``Worker.described``).
    payload: Message | None


@dataclass
class Tracked:
    tenant: str
    clocks: ConversationClocks
    started_at: datetime | None = None


@dataclass
class PartitionState:
    conversations: dict[tuple[str, str], Tracked] = field(default_factory=dict)
    # (when, tenant, conversation): the earliest moments ticks must look at; stale entries are skipped.
    due: list[tuple[datetime, str, str]] = field(default_factory=list)
    seen: Seen = field(default_factory=OrderedDict)
    windows: ResponseWindows = field(default_factory=ResponseWindows)
    clock: datetime | None = None
    # Tenant -> the policy set through the admin API, which overrides the configured one, and that
    # policy as it was given (for reading it back after a restart from a snapshot).
    policies: dict[str, Policy] = field(default_factory=dict)
    policy_configs: dict[str, dict[str, object]] = field(default_factory=dict)
    # Tenant -> when the change in force was made (its event's time): which of two is the newer.
    policy_times: dict[str, datetime] = field(default_factory=dict)


@dataclass
class Worker(FoldBase):
    processor: ClassVar[str] = "sla"
    state_type: ClassVar[type] = PartitionState
    policies: Mapping[str, Policy]
    default_policy: Policy
    source: str
    partitions: dict[int, PartitionState] = field(default_factory=dict)
    invalid: int = 0
    # The outputs whose events are made (None: all, as the live worker needs): a backtest measures
    # only some, and making the others' protobuf messages was a tenth of its time.
    described: tuple[type[Output], ...] | None = None

    def in_force(self, tenant: str, partitions: Iterable[int]) -> dict[str, object] | None:
        """The policy set through the admin API that all of ``partitions`` apply, as it was given; while
        a change is on its way, the oldest one a partition still applies (None: the configured one)."""
        applied: list[tuple[datetime, dict[str, object] | None]] = []
        for partition in partitions:
            state = self.partitions.get(partition)
            config = state.policy_configs.get(tenant) if state is not None else None
            if state is None or config is None:
                return None
            applied.append((state.policy_times.get(tenant, _BEFORE_TIMES), config))
        return min(applied, key=lambda a: a[0])[1] if applied else None

    def policy(self, tenant: str, state: PartitionState | None = None) -> Policy:
        if state is not None and tenant in state.policies:
            return state.policies[tenant]
        return self.policies.get(tenant, self.default_policy)

    def apply(self, partition: int, headers: Headers, value: bytes | None) -> list[Out]:
        state = self.partitions.setdefault(partition, PartitionState())
        invalid = self.invalid
        event = self.first_time(state.seen, headers, value)
        if event is None:
            if self.invalid > invalid:
                reason = unreadable_reason(headers, value)
                return self._give_up(partition, headers, value, reason, None, state)
            return []
        clock = state.clock
        now = state.clock = max(state.clock or event.time, event.time)
        try:
            outcomes = self._apply(state, event, now)
        except Exception as exc:
            # One event's failure must not stop every clock of the partition, nor move its time; a
            # replay skips it the same way. Ours to say why: dead-lettered with the reason.
            self.invalid += 1
            state.clock = clock
            if not isinstance(exc, ValidationError):
                log.exception("SLA failed on event %s (%s) of %s", event.id, event.type, event.tenant)
            return self._give_up(partition, headers, value, _reason(exc), event, state)
        return [
            self.derived(event, i, o.conversation_id, o.tenant, o.payload, o)
            for i, o in enumerate(outcomes)
            if o.payload is not None
        ]

    def _give_up(
        self,
        partition: int,
        headers: Headers,
        value: bytes | None,
        reason: str,
        event: Envelope | None,
        state: PartitionState,
    ) -> list[Out]:
        """Log a record given up on and dead-letter it: an output of the fold like any other, sent
        once its cause is in the journal, and emitted again with the same id if a restart applies
        the record again past the commit. A silent replay gave up on it live already."""
        if self.replaying:
            return []
        about = f"event {event.id} ({event.type}) of {event.tenant}" if event else "a record it cannot read"
        log.warning("SLA gave up on %s of partition %d, dead-lettered: %s", about, partition, reason)
        now = state.clock or datetime.now(UTC)
        return [dead_letter(self.source, partition, headers, value, reason, event, now)]

    def restore(self, partition: int, state: PartitionState) -> None:
        self.partitions[partition] = state

    def fold(self, partition: int, event: Envelope) -> list[Outcome]:
        """One event already decoded, its outcomes not encoded: for a caller that makes its own events
        (the backtest replays a period through this fold without records). A failure is raised."""
        state = self.partitions.setdefault(partition, PartitionState())
        clock = state.clock
        now = state.clock = max(state.clock or event.time, event.time)
        try:
            return self._apply(state, event, now)
        except Exception:
            state.clock = clock  # as ``apply``: a failed event does not move time
            raise

    def next_due(self, partition: int) -> datetime | None:
        """The earliest moment a tick of ``partition`` has something to look at. Entries gone stale
        (a clock stopped or due later, a conversation forgotten) are dropped first, as a tick skips
        them: a backtest ticks at each moment this gives, and most entries go stale."""
        state = self.partitions.get(partition)
        if state is None:
            return None
        while state.due:
            when, tenant, conversation_id = state.due[0]
            tracked = state.conversations.get((tenant, conversation_id))
            if tracked is not None:
                due = tracked.clocks.next_due()
                if tracked.clocks.resolved_at is not None or (due is not None and due <= when):
                    return when
            heapq.heappop(state.due)
        return None

    def ticks(self, partitions: Iterable[int], now: datetime | None = None) -> list[Out]:
        """One tick per owned partition that has something due by now."""
        now = now or datetime.now(UTC)
        out = []
        for partition in partitions:
            state = self.partitions.get(partition)
            # A warning or breach fires once time has passed its moment, not at it.
            if state is None or not state.due or state.due[0][0] >= now:
                continue
            # A tick concerns every shop of the partition: its tenant attribute names none.
            tick = Envelope(str(uuid.uuid4()), self.source, "*", events_pb2.SlaTick(), now)
            headers, value = envelope.encode(tick)
            out.append(Out(b"tick", headers, value, partition=partition))
        return out

    def open_clocks(self) -> tuple[int, int]:
        """Clocks running, and of those the ones warned but not yet breached (at risk)."""
        running = at_risk = 0
        for state in self.partitions.values():
            for tracked in state.conversations.values():
                for clock in tracked.clocks.clocks.values():
                    running += clock.running_since is not None
                    at_risk += clock.warned and not clock.breached
        return running, at_risk

    # ---------------------------------------------------------------- the fold

    def _apply(self, state: PartitionState, event: Envelope, now: datetime) -> list[Outcome]:
        payload = event.payload
        if isinstance(payload, events_pb2.SlaTick):
            return self._tick(state, now)
        if isinstance(payload, events_pb2.SlaPolicyChanged):
            config = PolicyConfig.model_validate_json(payload.policy_json)
            state.policies[event.tenant] = config.policy()
            state.policy_configs[event.tenant] = config.model_dump(mode="json")
            state.policy_times[event.tenant] = event.time
            return []
        conversation_id = getattr(payload, "conversation_id", "")
        if not conversation_id or not event.tenant:
            return []
        policy = self.policy(event.tenant, state)
        tracked = state.conversations.get((event.tenant, conversation_id))
        outputs: list[Output] = []
        if isinstance(payload, events_pb2.MessageReceived):
            if payload.kind in RECORDED_ONLY:
                return []
            # Priority 0 (standard) .. 3 (VIP), as policies name tiers; unspecified is standard.
            tier = max(0, payload.sender.tier - common_pb2.CUSTOMER_TIER_STANDARD)
            if tracked is None:
                clocks = ConversationClocks(conversation_id, channel_name(payload.channel), tier)
                tracked = state.conversations[(event.tenant, conversation_id)] = Tracked(event.tenant, clocks)
            elif payload.sender.tier != common_pb2.CUSTOMER_TIER_UNSPECIFIED:
                # A later message naming another tier changes the priority; one naming none keeps it.
                outputs = tracked.clocks.reprioritized(now, tier, policy)
            outputs += tracked.clocks.customer_wrote(now, policy)
            if any(isinstance(o, Started) and o.metric is Metric.FIRST_RESPONSE for o in outputs):
                tracked.started_at = now
                state.windows.started(event.tenant, tracked.clocks.channel, now)
        elif tracked is None:
            return []
        elif isinstance(payload, events_pb2.OperatorReplied):
            outputs = tracked.clocks.operator_replied(now, payload.awaiting_customer, policy)
        elif isinstance(payload, events_pb2.ConversationStateChanged):
            state_name = STATES.get(payload.state)
            if state_name is None:
                raise ValueError(f"unknown conversation state {payload.state}")
            outputs = tracked.clocks.state_changed(now, state_name, payload.reason, policy)
        elif isinstance(payload, events_pb2.ConversationResolved):
            outputs = tracked.clocks.resolved(now, policy)
            if tracked.clocks.resolved_at is None:  # else kept for a reopen (``_schedule``)
                del state.conversations[(event.tenant, conversation_id)]
        elif isinstance(payload, events_pb2.ConversationAssigned):
            tracked.clocks.operator_id = payload.operator_id
        elif isinstance(payload, events_pb2.ConversationQueued | events_pb2.QueuePositionChanged):
            outputs = tracked.clocks.estimated_answer(now, payload.estimated_wait.ToTimedelta())
        self._schedule(state, tracked)
        return [self._outcome(state, tracked, o, now) for o in outputs]

    def _tick(self, state: PartitionState, now: datetime) -> list[Outcome]:
        outcomes: list[Outcome] = []
        while state.due and state.due[0][0] < now:
            _, tenant, conversation_id = heapq.heappop(state.due)
            tracked = state.conversations.get((tenant, conversation_id))
            if tracked is not None and tracked.clocks.resolved_at is not None:
                if tracked.clocks.reopenable(now, self.policy(tenant, state)):
                    self._schedule(state, tracked)  # the shop gave it longer since it was resolved
                else:
                    del state.conversations[(tenant, conversation_id)]  # its time for a reopen is over
                continue
            if tracked is None or (due := tracked.clocks.next_due()) is None or due >= now:
                continue  # stale entry: resolved, or rescheduled later
            outcomes += [self._outcome(state, tracked, o, now) for o in tracked.clocks.tick(now)]
            self._schedule(state, tracked)
        state.windows.prune(now)
        return outcomes

    def _schedule(self, state: PartitionState, tracked: Tracked) -> None:
        """The next moment a tick must look at the conversation: its next warning or breach, or,
        resolved and kept for a reopen, the end of the time for one (the tick then forgets it)."""
        due = tracked.clocks.next_due()
        if (resolved_at := tracked.clocks.resolved_at) is not None:
            due = resolved_at + self.policy(tracked.tenant, state).reopen_within
        if due is not None:
            heapq.heappush(state.due, (due, tracked.tenant, tracked.clocks.conversation_id))

    def _outcome(self, state: PartitionState, tracked: Tracked, output: Output, now: datetime) -> Outcome:
        clocks = tracked.clocks
        if isinstance(output, Stopped) and output.metric is Metric.FIRST_RESPONSE and tracked.started_at:
            seconds = output.elapsed.total_seconds()
            state.windows.responded(
                tracked.tenant, clocks.channel, tracked.started_at, now, seconds, output.met
            )
        described = self.described is None or isinstance(output, self.described)
        payload = clock_event(clocks, output) if described else None
        return Outcome(tracked.tenant, clocks.conversation_id, clocks.channel, output, payload)
