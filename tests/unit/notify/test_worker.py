"""Notify's fold: customers learnt from their messages, early events kept, ids stable on replay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message

from pronto import envelope, event_ids
from pronto.envelope import Envelope
from pronto.folding import Headers
from pronto.v1 import common_pb2, events_pb2
from services.notify.domain.decide import NotifyPolicy
from services.notify.worker import Worker

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def record(payload: Message, tenant: str = "shop", event_id: str | None = None) -> tuple[Headers, bytes]:
    event = Envelope(event_id or str(uuid.uuid4()), "/test", tenant, payload, T0)
    return envelope.encode(event)


def worker() -> Worker:
    return Worker(lambda _tenant: NotifyPolicy(queue_threshold=2), "/pronto/notify/test")


def message(conversation: str = "c1", language: str = "it") -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=common_pb2.CHANNEL_WEB_CHAT,
        sender=common_pb2.Sender(id="visitor-1", display_name="Giulia Rossi"),
        language=language,
    )


def assigned(conversation: str = "c1") -> events_pb2.ConversationAssigned:
    return events_pb2.ConversationAssigned(
        conversation_id=conversation, operator_id="marek", operator_display_name="Marek"
    )


def requests(outs: list) -> list[events_pb2.NotificationRequested]:  # type: ignore[type-arg]
    return [envelope.decode(o.headers, o.value).payload for o in outs]  # type: ignore[misc]


def test_an_assignment_requests_one_notification_per_person_keyed_by_recipient() -> None:
    fold = worker()
    fold.apply(0, *record(message()))
    outs = fold.apply(0, *record(assigned()))

    made = requests(outs)
    assert [(r.recipient_kind, r.recipient, r.kind) for r in made] == [
        (events_pb2.RECIPIENT_KIND_CUSTOMER, "visitor-1", "assigned"),
        (events_pb2.RECIPIENT_KIND_OPERATOR, "marek", "new_assignment"),
    ]
    assert made[0].text == "Ciao, Giulia, sono Marek e ti aiuto io."
    assert made[0].channel == common_pb2.CHANNEL_WEB_CHAT
    assert [o.key for o in outs] == [b"shop/customer/visitor-1", b"shop/operator/marek"]


def test_the_same_event_again_requests_nothing_and_a_replay_requests_the_same_ids() -> None:
    fold = worker()
    fold.apply(0, *record(message()))
    cause = record(assigned(), event_id="a-1")
    first = [r.notification_id for r in requests(fold.apply(0, *cause))]
    assert fold.apply(0, *cause) == []

    replayed = worker()
    replayed.apply(0, *record(message()))
    assert [r.notification_id for r in requests(replayed.apply(0, *cause))] == first


def test_events_before_the_customers_first_message_wait_for_it() -> None:
    fold = worker()
    assert fold.apply(0, *record(assigned())) == []
    made = requests(fold.apply(0, *record(message(language="pl"))))
    assert [r.kind for r in made] == ["assigned", "new_assignment"]
    assert made[0].language == "pl"


def test_a_resolution_merged_after_the_next_message_still_lets_its_assignment_through() -> None:
    """Found by the demo: topics interleave, so "resolved" may come after the customer wrote again."""
    fold = worker()
    fold.apply(0, *record(message()))
    fold.apply(0, *record(message()))  # the customer writes again...
    fold.apply(0, *record(events_pb2.ConversationResolved(conversation_id="c1")))  # ...merged before this
    assert [r.kind for r in requests(fold.apply(0, *record(assigned())))] == ["assigned", "new_assignment"]


def test_tenants_do_not_share_customers() -> None:
    fold = worker()
    fold.apply(0, *record(message(), tenant="shop-a"))
    assert fold.apply(0, *record(assigned(), tenant="shop-b")) == []


def test_a_record_that_is_not_an_event_is_skipped_and_counted() -> None:
    fold = worker()
    assert fold.apply(0, [("ce_type", b"nonsense")], b"\x00") == []
    assert fold.invalid == 1


def test_the_customer_is_answered_in_the_language_they_last_wrote_in() -> None:
    fold = worker()
    fold.apply(0, *record(message(language="it")))
    fold.apply(0, *record(message(language="de")))
    [customer, _] = requests(fold.apply(0, *record(assigned())))
    assert customer.language == "de"
    assert customer.text.startswith("Hallo, Giulia")


def test_an_automatic_message_is_not_the_customer_writing() -> None:
    """An out-of-office reply in German to an Italian conversation does not change the language the
    customer is answered in, and requests nothing (issue #19, defect 7)."""
    fold = worker()
    fold.apply(0, *record(message(language="it")))
    automatic = message(language="de")
    automatic.kind = events_pb2.MESSAGE_KIND_AUTOMATIC
    assert fold.apply(0, *record(automatic)) == []
    [customer, _] = requests(fold.apply(0, *record(assigned())))
    assert customer.language == "it"


def test_queue_positions_reach_the_customer_and_crossing_the_threshold_the_supervisors() -> None:
    fold = worker()
    fold.apply(0, *record(message()))
    queued = events_pb2.ConversationQueued(conversation_id="c1", position=3)
    queued.estimated_wait.FromTimedelta(timedelta(minutes=4))
    made = requests(fold.apply(0, *record(queued)))
    assert [(r.recipient_kind, r.kind) for r in made] == [
        (events_pb2.RECIPIENT_KIND_CUSTOMER, "queue_position"),
        (events_pb2.RECIPIENT_KIND_SUPERVISOR, "queue_over"),
    ]


def test_routings_and_slas_events_caused_by_the_same_message_are_both_heard() -> None:
    """Found by the demo: the two derived the same id from the customer's message, and notify kept one."""
    fold = worker()
    fold.apply(0, *record(message(), event_id="m-1"))
    started = events_pb2.SlaClockStarted(conversation_id="c1", metric=events_pb2.SLA_METRIC_FIRST_RESPONSE)
    started.deadline.FromDatetime(T0 + timedelta(minutes=5))
    acknowledged = fold.apply(0, *record(started, event_id=event_ids.derived("sla", "m-1", 0)))
    introduced = fold.apply(0, *record(assigned(), event_id=event_ids.derived("routing", "m-1", 0)))
    assert [r.kind for r in requests(acknowledged)] == ["acknowledged"]
    assert [r.kind for r in requests(introduced)] == ["assigned", "new_assignment"]
