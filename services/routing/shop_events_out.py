"""The events one shop's routing publishes, made from the outputs of its ``TenantRouting``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from google.protobuf.message import Message

from pronto.channels import channel_value
from pronto.v1 import events_pb2
from services.routing import translate
from services.routing.domain.decision import LIVE_CHANNELS, Assign, Level, Wait
from services.routing.domain.model import Status
from services.routing.domain.tenant import Output, Reassigned, Widened
from services.routing.domain.transfer import TransferRefused
from services.routing.domain.waits import Told
from services.routing.shop_queue import ShopQueue

if TYPE_CHECKING:
    from services.routing.shop import _Bounded


@dataclass(frozen=True)
class Emitted:
    """An event the fold produced: its key (the conversation id) and payload."""

    key: str
    payload: Message
    # Set on assignments: when the customer's message was received, for the latency metric.
    received_at: datetime | None = None
    # Set on assignments out of the queue: (seconds waited, seconds told) since the last estimate.
    waited: tuple[float, float] | None = None


class EventsOut(ShopQueue):
    """``Shop``'s events out: assignments, queueing, widenings, reassignments, refusals, positions."""

    if TYPE_CHECKING:  # the fields of ``Shop`` that publishing an event updates
        last_served: _Bounded
        published: dict[str, tuple[int, int]]
        told: dict[str, Told]

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
