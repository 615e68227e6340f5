"""Notify forgets a resolved conversation's customer ``RESOLVED_KEPT`` after the resolution.

``RESOLVED_KEPT`` counts in event time, and a customer who writes again is not forgotten. Until they are,
an operator's follow-up still reaches them. Without forgetting, a month of history made notify's snapshots,
and its restarts, three times those of one day."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message

from pronto import envelope
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.notify.domain.decide import NotifyPolicy
from services.notify.worker import RESOLVED_KEPT, Worker

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def feed(fold: Worker, payload: Message, at: datetime) -> list[str]:
    """The kinds of the notifications ``payload`` makes at ``at``."""
    headers, value = envelope.encode(Envelope(str(uuid.uuid4()), "/test", "shop", payload, at))
    return [envelope.decode(o.headers, o.value).payload.kind for o in fold.apply(0, headers, value)]  # type: ignore[attr-defined]


def wrote(conversation: str) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=common_pb2.CHANNEL_EMAIL,
        sender=common_pb2.Sender(id=f"{conversation}@example.com", display_name="Giulia Rossi"),
        language="it",
    )


def reply(conversation: str) -> events_pb2.OperatorReplied:
    return events_pb2.OperatorReplied(conversation_id=conversation, operator_id="marek", text="Rimborsato")


def resolved(conversation: str) -> events_pb2.ConversationResolved:
    return events_pb2.ConversationResolved(conversation_id=conversation, operator_id="marek")


def test_a_resolved_customer_is_kept_for_a_while_then_forgotten() -> None:
    fold = Worker(lambda _tenant: NotifyPolicy(name="Bottega"), "/pronto/notify/test")
    for conversation in ("old", "back", "open"):
        feed(fold, wrote(conversation), T0)
    feed(fold, resolved("old"), T0 + timedelta(minutes=5))
    feed(fold, resolved("back"), T0 + timedelta(minutes=5))
    feed(fold, wrote("back"), T0 + timedelta(days=1))  # writes again: no longer resolved

    # A follow-up within the time kept reaches the customer.
    assert feed(fold, reply("old"), T0 + RESOLVED_KEPT) == ["reply"]
    customers = fold.partitions[0].customers
    assert ("shop", "old") in customers

    # Any event past it forgets them; the others stay.
    feed(fold, wrote("new"), T0 + timedelta(minutes=6) + RESOLVED_KEPT)
    assert ("shop", "old") not in customers
    assert {("shop", "back"), ("shop", "open"), ("shop", "new")} <= set(customers)
    # A reply to the forgotten conversation now waits for the customer's next message.
    assert feed(fold, reply("old"), T0 + timedelta(days=8)) == []
    assert feed(fold, wrote("old"), T0 + timedelta(days=9))  # and is sent with it
