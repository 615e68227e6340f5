"""Notify's decisions as a fold over ``support.notify.v1``: who hears what, once per trigger.

Customer messages, routing's decisions and SLA's events, all keyed by
conversation, are read together (``pronto.folding``, direct). The fold keeps
what it knows of each conversation's customer (name, language, channel, last
place in the queue) and turns each event into ``NotificationRequested``
records whose ids derive from the event: a replay or a redelivery requests
exactly the same notifications, which delivery sends once. Records in,
records out; no I/O.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from pronto import event_ids
from pronto.channels import NAMES, channel_value
from pronto.envelope import Envelope
from pronto.folding import FoldBase, Headers, Out, Seen
from pronto.message_kinds import RECORDED_ONLY
from pronto.v1 import common_pb2, events_pb2
from services.notify.domain.decide import (
    Customer,
    Notification,
    NotifyPolicy,
    Recipient,
    customer_of,
    customer_wrote,
    decide,
)

log = logging.getLogger("pronto.notify")
# Customers remembered per partition, the least recently heard from forgotten first. A resolved
# conversation is kept too: topics interleave freely, so its resolution may be read after the
# customer's next message, whose assignment must still find them.
CUSTOMER_CAPACITY = 200_000
# A resolved conversation's customer is forgotten this long (in event time) after the resolution,
# unless they write again: as long as the topics keep their messages (``pronto.topics``, 7 days),
# so that a rebuild without a snapshot would know no more. An operator's follow-up within it is
# delivered; one later waits for the customer's next message. Without it a month of history made
# notify's snapshots, and its restarts, three times those of a day (``bench.recovery``).
RESOLVED_KEPT = timedelta(days=7)
# Events about a conversation whose first message has not been read yet, per conversation, and
# how many such conversations are kept waiting.
EARLY_CAPACITY = 20
EARLY_CONVERSATIONS = 10_000
RECIPIENT_KINDS = {
    Recipient.CUSTOMER: events_pb2.RECIPIENT_KIND_CUSTOMER,
    Recipient.OPERATOR: events_pb2.RECIPIENT_KIND_OPERATOR,
    Recipient.SUPERVISOR: events_pb2.RECIPIENT_KIND_SUPERVISOR,
}


def recipient_key(tenant: str, notification: Notification) -> str:
    """One recipient's notifications share a partition: their limits are decided in one place."""
    return f"{tenant}/{notification.recipient_kind.value}/{notification.recipient}"


@dataclass
class PartitionState:
    customers: OrderedDict[tuple[str, str], Customer] = field(default_factory=OrderedDict)
    early: OrderedDict[tuple[str, str], list[Envelope]] = field(default_factory=OrderedDict)
    seen: Seen = field(default_factory=OrderedDict)
    # Resolved conversations' customers -> when resolved, oldest first (forgotten after RESOLVED_KEPT).
    resolved: OrderedDict[tuple[str, str], datetime] = field(default_factory=OrderedDict)


@dataclass
class Worker(FoldBase):
    processor: ClassVar[str] = "notify"
    state_type: ClassVar[type] = PartitionState
    shop: Callable[[str], NotifyPolicy]
    source: str
    partitions: dict[int, PartitionState] = field(default_factory=dict)
    invalid: int = 0

    def apply(self, partition: int, headers: Headers, value: bytes | None) -> list[Out]:
        state = self.partitions.setdefault(partition, PartitionState())
        event = self.first_time(state.seen, headers, value)
        if event is None:
            return []
        try:
            return self._apply(state, event)
        except Exception:
            self.invalid += 1
            log.exception("notify failed on event %s (%s) of %s: skipped", event.id, event.type, event.tenant)
            return []

    def ticks(self, partitions: Iterable[int]) -> list[Out]:
        return []

    def _apply(self, state: PartitionState, event: Envelope) -> list[Out]:
        payload = event.payload
        conversation_id = getattr(payload, "conversation_id", "")
        if not conversation_id or not event.tenant:
            return []
        key = (event.tenant, conversation_id)
        self._forget_resolved(state, event.time)
        if isinstance(payload, events_pb2.ConversationResolved):
            if key in state.customers:
                state.resolved[key] = event.time
                state.resolved.move_to_end(key)
            return []
        if isinstance(payload, events_pb2.MessageReceived):
            if payload.kind not in RECORDED_ONLY:
                state.resolved.pop(key, None)
                self._customer_wrote(state, key, payload, event.time)
            return [out for early in state.early.pop(key, []) for out in self._decide(state, early)]
        if key not in state.customers:
            early = state.early.setdefault(key, [])
            if len(early) < EARLY_CAPACITY:
                early.append(event)
            if len(state.early) > EARLY_CONVERSATIONS:
                state.early.popitem(last=False)
            return []
        return self._decide(state, event)

    @staticmethod
    def _forget_resolved(state: PartitionState, now: datetime) -> None:
        while state.resolved:
            key, at = next(iter(state.resolved.items()))
            if at >= now - RESOLVED_KEPT:
                return
            del state.resolved[key]
            state.customers.pop(key, None)

    @staticmethod
    def _customer_wrote(
        state: PartitionState, key: tuple[str, str], message: events_pb2.MessageReceived, at: datetime
    ) -> None:
        known = state.customers.get(key)
        if known is None:
            known = state.customers[key] = customer_of(message)
            if len(state.customers) > CUSTOMER_CAPACITY:
                state.customers.popitem(last=False)
        else:
            state.customers.move_to_end(key)
        customer_wrote(known, message, at)

    def _decide(self, state: PartitionState, event: Envelope) -> list[Out]:
        customer = state.customers[(event.tenant, event.payload.conversation_id)]  # type: ignore[attr-defined]
        notifications = decide(event.payload, event.id, customer, self.shop(event.tenant), event.time)
        return [
            self.derived(
                event,
                index,
                recipient_key(event.tenant, n),
                event.tenant,
                self._request(event, index, n, customer),
                n,
            )
            for index, n in enumerate(notifications)
        ]

    @staticmethod
    def _request(
        cause: Envelope, index: int, n: Notification, customer: Customer
    ) -> events_pb2.NotificationRequested:
        request = events_pb2.NotificationRequested(
            notification_id=event_ids.derived(Worker.processor, cause.id, index),
            conversation_id=n.conversation_id,
            recipient_kind=RECIPIENT_KINDS[n.recipient_kind],
            recipient=n.recipient,
            kind=n.kind.value,
            language=n.language,
            text=n.text,
            trigger_event_id=n.trigger_event_id,
            channel=channel_value(n.channel) if n.channel in NAMES else common_pb2.CHANNEL_UNSPECIFIED,
            operator_id=n.operator_id,
            operator_name=n.operator_name,
        )
        if n.recipient_kind is Recipient.CUSTOMER:
            if customer.wrote_at is not None:
                request.customer_wrote_at.FromDatetime(customer.wrote_at)
            request.customer_email = customer.email
            if customer.message_ids:
                request.thread.message_id = customer.message_ids[-1]
                request.thread.references.extend(customer.message_ids)
                request.thread.subject = customer.subject
        return request
