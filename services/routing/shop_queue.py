"""One shop's queue as customers are told it: each one's place on its channel and expected wait."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from services.routing.domain.model import Conversation, Status
from services.routing.domain.tenant import TenantRouting
from services.routing.domain.waits import QueuePace, estimate

if TYPE_CHECKING:
    from services.routing.shop import Policy


class ShopQueue:
    """``Shop``'s positions and waits, from the queue's order, the online capacity and the pace."""

    if TYPE_CHECKING:  # the fields of ``Shop`` they are computed from
        policy: Policy
        routing: TenantRouting
        handling: dict[str, float]
        pace: QueuePace

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
