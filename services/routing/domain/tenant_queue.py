"""The order of one shop's waiting conversations: who is served next, and each one's place."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from services.routing.domain.decision import QueueOrder, Rules
from services.routing.domain.model import Conversation

if TYPE_CHECKING:
    from services.routing.domain.tenant import Assignment


class Queue:
    """``TenantRouting``'s queue: its order, a conversation's place in it, and their deadlines."""

    if TYPE_CHECKING:  # the fields of ``TenantRouting`` the queue reads
        waiting: dict[str, Conversation]
        assigned: dict[str, Assignment]
        boosted: set[str]
        rules: Rules

    def queue(self, now: datetime) -> list[Conversation]:
        """Waiting conversations, the next to serve first."""
        return sorted(self.waiting.values(), key=lambda c: self._order(c, now))

    def position(self, conversation_id: str, now: datetime) -> int:
        """1-based place among the conversations waiting on the same channel (one pass, no sort)."""
        mine = self.waiting.get(conversation_id)
        if mine is None:
            raise ValueError(f"conversation {conversation_id} is not waiting")
        key = self._order(mine, now)
        ahead = (c for c in self.waiting.values() if c.channel == mine.channel)
        return 1 + sum(1 for c in ahead if self._order(c, now) < key)

    def _order(self, conversation: Conversation, now: datetime) -> tuple[bool, float, int, datetime, str]:
        """Its sort key by the shop's ``QueueOrder``, lower first: ``position`` counts in the order
        ``queue`` sorts. Time passing changes no key (waiting adds the same to everyone)."""
        # Re-queued conversations (their operator left) go before everyone else, whatever the priority.
        boosted = conversation.id not in self.boosted
        order = self.rules.queue_order
        if order is QueueOrder.SLA_TIME_LEFT:
            first = conversation.deadline.timestamp() if conversation.deadline else math.inf
        elif order is QueueOrder.PRIORITY_THEN_AGE:
            first = -conversation.points()
        else:
            first = 0.0
        return boosted, first, -conversation.urgency, conversation.waiting_since or now, conversation.id

    def due_by(self, conversation_id: str, deadline: datetime | None) -> None:
        """SLA computed (or changed) when the conversation's first response is due."""
        if (waiting := self.waiting.get(conversation_id)) is not None:
            self.waiting[conversation_id] = replace(waiting, deadline=deadline)
        elif (assignment := self.assigned.get(conversation_id)) is not None:
            conversation = replace(assignment.conversation, deadline=deadline)
            self.assigned[conversation_id] = replace(assignment, conversation=conversation)
