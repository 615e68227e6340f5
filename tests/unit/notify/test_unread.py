"""What notify's merge leaves out (``services.notify.app.wanted``) changes nothing notify decides.

The fold is fed the same events twice in any order, once whole and once without what the merge
drops: every notification requested is the same, with the same id.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto import envelope
from pronto.envelope import Envelope
from pronto.folding import Headers
from pronto.v1 import common_pb2, events_pb2
from services.notify.app import wanted
from services.notify.domain.decide import NotifyPolicy
from services.notify.worker import Worker

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def deadline(minutes: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(T0 + timedelta(minutes=minutes))
    return stamp


def events(conversation: str) -> list[Message]:
    """A conversation's life as notify's sources tell it, read or not."""
    first = events_pb2.SLA_METRIC_FIRST_RESPONSE
    resolution = events_pb2.SLA_METRIC_RESOLUTION
    return [
        events_pb2.MessageReceived(
            conversation_id=conversation,
            channel=common_pb2.CHANNEL_EMAIL,
            sender=common_pb2.Sender(id=f"{conversation}@example.com", display_name="Giulia Rossi"),
            language="it",
        ),
        events_pb2.SlaClockStarted(conversation_id=conversation, metric=first, deadline=deadline(60)),
        events_pb2.SlaClockStarted(conversation_id=conversation, metric=resolution, deadline=deadline(600)),
        events_pb2.ConversationQueued(conversation_id=conversation, position=3),
        events_pb2.ConversationWidened(conversation_id=conversation, level="ANY_TOPIC"),
        events_pb2.ConversationAssigned(
            conversation_id=conversation, operator_id="marek", operator_display_name="Marek"
        ),
        events_pb2.SlaWarning(conversation_id=conversation, metric=first, deadline=deadline(60)),
        events_pb2.OperatorReplied(conversation_id=conversation, operator_id="marek", text="Eccomi"),
        events_pb2.SlaMet(conversation_id=conversation, metric=first),
        events_pb2.SlaBreached(conversation_id=conversation, metric=resolution, deadline=deadline(600)),
        events_pb2.SlaMissed(conversation_id=conversation, metric=resolution),
        events_pb2.ConversationResolved(conversation_id=conversation, operator_id="marek"),
    ]


def requested(records: list[tuple[Headers, bytes]]) -> list[tuple[str, str, str, str]]:
    fold = Worker(lambda _tenant: NotifyPolicy(name="Bottega", queue_threshold=2), "/pronto/notify/test")
    made = []
    for headers, value in records:
        for out in fold.apply(0, headers, value):
            request = envelope.decode(out.headers, out.value).payload
            assert isinstance(request, events_pb2.NotificationRequested)
            made.append((request.notification_id, request.kind, request.recipient, request.text))
    return made


@settings(database=None, max_examples=200, deadline=None)
@given(order=st.permutations(range(24)))
def test_the_fold_decides_the_same_without_what_the_merge_leaves_out(order: list[int]) -> None:
    payloads = events("c1") + events("c2")
    records = [
        envelope.encode(
            Envelope(str(uuid.UUID(int=n)), "/test", "shop", payloads[n], T0 + timedelta(seconds=n))
        )
        for n in order
    ]
    kept = [(headers, value) for headers, value in records if wanted(headers, value)]

    assert len(kept) == len(records) - 8  # four of each conversation's twelve are left out
    assert requested(kept) == requested(records)


def test_what_is_left_out() -> None:
    names = [
        type(p).__name__ + (f"/{p.metric}" if isinstance(p, events_pb2.SlaClockStarted) else "")
        for p in events("c1")
        if not wanted(*envelope.encode(Envelope("id", "/test", "shop", p, T0)))
    ]
    assert names == [
        f"SlaClockStarted/{events_pb2.SLA_METRIC_RESOLUTION}",
        "ConversationWidened",
        "SlaMet",
        "SlaMissed",
    ]


def test_a_clock_start_it_cannot_read_goes_to_the_worker_to_be_reported() -> None:
    headers, _ = envelope.encode(Envelope("id", "/test", "shop", events_pb2.SlaClockStarted(), T0))
    assert wanted(headers, b"\xff\xff\xff")
