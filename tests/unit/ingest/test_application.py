"""Ingest's use cases against a fake sink: what is written where, what is refused, what is counted."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from pronto import event_ids
from pronto.auth import PermissionDenied
from pronto.channels import channel_name as channel_label
from pronto.envelope import Envelope
from pronto.kafka.producer import BrokerUnavailable, Receipt
from pronto.metrics import ServiceMetrics
from pronto.tracing import Tracer
from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from services.ingest.application import Ingest, TransferRefused, TransferUndecided
from services.ingest.dedupe import RecentEvents
from services.ingest.validation import InvalidEvent
from services.ingest.writes import EventSink
from tests.support.events import message

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
SOURCE = "pronto/ingest/test"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@dataclass
class FakeSink:
    """Records what it is sent; acknowledges at once unless told to hold or to fail."""

    hold: bool = False
    error: Exception | None = None
    sent: list[tuple[str, str, Envelope]] = field(default_factory=list)
    calls: int = 0

    async def send_many(
        self, topic: str, records: Sequence[tuple[str, Envelope]], receipts: Sequence[asyncio.Future[Receipt]]
    ) -> None:
        self.calls += 1
        if self.error is not None:
            raise self.error
        for (key, event), receipt in zip(records, receipts, strict=True):
            self.sent.append((topic, key, event))
            if not self.hold:
                receipt.set_result(Receipt(topic, 0, len(self.sent) - 1))


@dataclass
class World:
    sink: FakeSink
    registry: CollectorRegistry
    recent: RecentEvents[Receipt]
    ingest: Ingest

    def count(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(f"pronto_events_{name}_total", {"service": "ingest", **labels})
        return 0.0 if value is None else value


def world(sink: FakeSink | None = None, ack_timeout_s: float = 1.0) -> World:
    sink = FakeSink() if sink is None else sink
    registry = CollectorRegistry()
    recent: RecentEvents[Receipt] = RecentEvents(capacity=100)
    as_sink: EventSink = sink  # FakeSink must satisfy the Protocol ingest is written against
    ingest = Ingest(
        as_sink,
        recent,
        ServiceMetrics("ingest", registry),
        Tracer("ingest"),
        SOURCE,
        ack_timeout_s=ack_timeout_s,
        clock=lambda: NOW,
    )
    return World(sink, registry, recent, ingest)


@pytest.fixture
def w() -> World:
    return world()


def publish(
    idempotency_key: str = "", tenant: str = "", conversation_id: str = "conv-1", **fields: Any
) -> ingest_pb2.PublishRequest:
    return ingest_pb2.PublishRequest(
        tenant=tenant,
        idempotency_key=idempotency_key,
        message_received=message(conversation_id, 1, **fields),
    )


def status(**fields: Any) -> operator_pb2.SetOperatorStatusRequest:
    values: dict[str, Any] = {
        "operator_id": "op-7",
        "status": events_pb2.OPERATOR_STATUS_AWAY,
        "reason": "pausa",
    }
    return operator_pb2.SetOperatorStatusRequest(**(values | fields))


def reply(**fields: Any) -> operator_pb2.PostReplyRequest:
    values: dict[str, Any] = {"conversation_id": "conv-1", "operator_id": "op-7", "text": "Arriva domani."}
    return operator_pb2.PostReplyRequest(**(values | fields))


def trace_id(traceparent: str) -> str:
    version, trace, span, flags = traceparent.split("-")
    assert (version, len(trace), len(span), len(flags)) == ("00", 32, 16, 2), traceparent
    return trace


# ---------------------------------------------------------------- publish


async def test_a_message_is_written_to_inbound_keyed_by_its_conversation(w: World) -> None:
    outcome = await w.ingest.publish("shop-a", publish())

    ((topic, key, event),) = w.sink.sent
    assert (topic, key) == ("support.inbound.v1", "conv-1")
    assert event.payload == message("conv-1", 1)
    assert (event.tenant, event.source, event.time) == ("shop-a", SOURCE, NOW)
    assert event.id == outcome.event_id
    assert outcome.receipt == Receipt("support.inbound.v1", 0, 0)
    assert not outcome.duplicate
    assert w.count("accepted", channel="web_chat") == 1


async def test_the_callers_trace_is_continued_in_a_new_span(w: World) -> None:
    await w.ingest.publish("shop-a", publish(), traceparent=INCOMING)

    traceparent = w.sink.sent[0][2].traceparent
    assert trace_id(traceparent) == TRACE_ID
    assert traceparent != INCOMING


@pytest.mark.parametrize("incoming", ["", "not-a-traceparent", f"00-{'0' * 32}-00f067aa0ba902b7-01"])
async def test_without_a_valid_trace_a_new_one_is_started(incoming: str) -> None:
    w = world()

    await w.ingest.publish("shop-a", publish(channel_message_id="m-1"), traceparent=incoming)
    await w.ingest.publish("shop-a", publish(channel_message_id="m-2"), traceparent=incoming)

    first, second = (trace_id(event.traceparent) for _, _, event in w.sink.sent)
    assert first != second
    assert first != "0" * 32
    assert first != TRACE_ID


async def test_the_event_id_comes_from_the_idempotency_key_when_given(w: World) -> None:
    outcome = await w.ingest.publish("shop-a", publish(idempotency_key="k-42"))

    assert outcome.event_id == event_ids.from_idempotency_key("shop-a", "message", "k-42")


async def test_the_event_id_comes_from_the_channel_message_id_otherwise(w: World) -> None:
    outcome = await w.ingest.publish("shop-a", publish(channel=common_pb2.CHANNEL_WHATSAPP))

    assert outcome.event_id == event_ids.from_channel_message("shop-a", "whatsapp", "conv-1-m1")


async def test_the_same_message_for_two_tenants_is_two_events(w: World) -> None:
    first = await w.ingest.publish("shop-a", publish())
    second = await w.ingest.publish("shop-b", publish())

    assert first.event_id != second.event_id
    assert [event.tenant for _, _, event in w.sink.sent] == ["shop-a", "shop-b"]


async def test_a_duplicate_publish_is_written_once(w: World) -> None:
    first = await w.ingest.publish("shop-a", publish())
    second = await w.ingest.publish("shop-a", publish(text="the same message id, retried"))

    assert len(w.sink.sent) == 1
    assert second.duplicate
    assert (second.event_id, second.receipt) == (first.event_id, first.receipt)
    assert w.count("accepted", channel="web_chat") == 1
    assert w.count("deduplicated", channel="web_chat") == 1


async def test_concurrent_duplicates_are_written_once() -> None:
    w = world(FakeSink(hold=True))
    calls = [asyncio.create_task(w.ingest.publish("shop-a", publish())) for _ in range(3)]
    await asyncio.sleep(0)
    assert len(w.sink.sent) == 1

    topic, _, event = w.sink.sent[0]
    w.recent.claim(event.id)[0].set_result(Receipt(topic, 3, 99))
    outcomes = await asyncio.gather(*calls)

    assert [o.duplicate for o in outcomes].count(False) == 1
    assert {o.receipt for o in outcomes} == {Receipt(topic, 3, 99)}


async def test_an_invalid_message_is_refused_sends_nothing_and_is_counted(w: World) -> None:
    with pytest.raises(InvalidEvent) as refused:
        await w.ingest.publish("shop-a", publish(conversation_id=""))

    assert refused.value.problems == ["message_received.conversation_id is required"]
    assert w.sink.sent == []
    assert w.sink.calls == 0
    assert w.count("rejected", channel="web_chat", reason="invalid") == 1
    assert w.count("accepted", channel="web_chat") == 0


async def test_a_message_is_validated_against_the_ingest_clock(w: World) -> None:
    request = publish()
    request.message_received.sent_at.FromDatetime(datetime(2026, 3, 14, 9, 36, tzinfo=UTC))

    with pytest.raises(InvalidEvent, match="sent_at is more than 5 minutes in the future"):
        await w.ingest.publish("shop-a", request)


async def test_an_unknown_channel_is_counted_as_unknown(w: World) -> None:
    with pytest.raises(InvalidEvent):
        await w.ingest.publish("shop-a", publish(channel=77))

    assert w.count("rejected", channel="unknown", reason="invalid") == 1


async def test_publishing_for_another_tenant_is_forbidden_and_counted(w: World) -> None:
    with pytest.raises(PermissionDenied):
        await w.ingest.publish("shop-a", publish(tenant="shop-b"))

    assert w.sink.sent == []
    assert w.count("rejected", channel="web_chat", reason="forbidden") == 1
    assert w.count("rejected", channel="web_chat", reason="invalid") == 0


async def test_naming_the_tokens_own_tenant_is_allowed(w: World) -> None:
    await w.ingest.publish("shop-a", publish(tenant="shop-a"))

    assert w.sink.sent[0][2].tenant == "shop-a"


async def test_a_broker_down_is_unavailable_counted_and_forgotten() -> None:
    w = world(FakeSink(error=BrokerUnavailable("not connected to Kafka yet")))

    with pytest.raises(BrokerUnavailable, match="not connected to Kafka yet"):
        await w.ingest.publish("shop-a", publish())

    assert w.count("rejected", channel="web_chat", reason="unavailable") == 1
    await asyncio.sleep(0)  # the failed delivery is forgotten by its done-callback
    assert (len(w.recent), w.recent.in_flight) == (0, 0)
    w.sink.error = None
    outcome = await w.ingest.publish("shop-a", publish())
    assert not outcome.duplicate
    assert len(w.sink.sent) == 1


async def test_a_delivery_the_broker_refuses_is_unavailable() -> None:
    w = world(FakeSink(hold=True))
    task = asyncio.create_task(w.ingest.publish("shop-a", publish()))
    await asyncio.sleep(0)

    w.recent.fail(w.recent.claim(w.sink.sent[0][2].id)[0], BrokerUnavailable("Kafka refused the write: boom"))

    with pytest.raises(BrokerUnavailable, match="Kafka refused the write: boom"):
        await task
    assert w.count("rejected", channel="web_chat", reason="unavailable") == 1


async def test_a_retry_after_a_timeout_joins_the_write_still_in_flight() -> None:
    w = world(FakeSink(hold=True), ack_timeout_s=0.01)

    with pytest.raises(BrokerUnavailable, match=r"^Kafka did not acknowledge within 0\.01 s$"):
        await w.ingest.publish("shop-a", publish())
    assert w.count("rejected", channel="web_chat", reason="unavailable") == 1
    retry = asyncio.create_task(w.ingest.publish("shop-a", publish()))
    await asyncio.sleep(0)
    topic, _, event = w.sink.sent[0]
    w.recent.claim(event.id)[0].set_result(Receipt(topic, 1, 5))

    outcome = await retry

    assert len(w.sink.sent) == 1
    assert outcome.duplicate
    assert outcome.receipt == Receipt(topic, 1, 5)


# ---------------------------------------------------------------- operators


async def test_a_status_change_is_written_to_operators_keyed_by_operator(w: World) -> None:
    outcome = await w.ingest.set_operator_status("shop-a", status(), traceparent=INCOMING)

    ((topic, key, event),) = w.sink.sent
    assert (topic, key) == ("support.operators.v1", "op-7")
    assert event.payload == events_pb2.OperatorStatusChanged(
        operator_id="op-7", status=events_pb2.OPERATOR_STATUS_AWAY, reason="pausa"
    )
    assert (event.tenant, event.id) == ("shop-a", outcome.event_id)
    assert trace_id(event.traceparent) == TRACE_ID
    assert w.count("accepted", channel="operator") == 1


async def test_a_status_change_with_a_key_is_deduplicated(w: World) -> None:
    first = await w.ingest.set_operator_status("shop-a", status(idempotency_key="s-1"))
    second = await w.ingest.set_operator_status("shop-a", status(idempotency_key="s-1"))

    assert first.event_id == event_ids.from_idempotency_key("shop-a", "operator-status", "s-1")
    assert second.duplicate
    assert len(w.sink.sent) == 1


async def test_status_changes_without_a_key_are_distinct_events(w: World) -> None:
    first = await w.ingest.set_operator_status("shop-a", status())
    second = await w.ingest.set_operator_status("shop-a", status())

    assert first.event_id != second.event_id
    assert len(w.sink.sent) == 2


async def test_an_invalid_status_change_is_refused_and_counted(w: World) -> None:
    with pytest.raises(InvalidEvent, match="status is required"):
        await w.ingest.set_operator_status("shop-a", status(status=events_pb2.OPERATOR_STATUS_UNSPECIFIED))

    assert w.sink.sent == []
    assert w.count("rejected", channel="operator", reason="invalid") == 1


async def test_a_status_change_for_another_tenant_is_forbidden(w: World) -> None:
    with pytest.raises(PermissionDenied):
        await w.ingest.set_operator_status("shop-a", status(tenant="shop-b"))

    assert w.sink.sent == []
    assert w.count("rejected", channel="operator", reason="forbidden") == 1


async def test_a_reply_is_written_to_outbound_keyed_by_conversation(w: World) -> None:
    attachment = common_pb2.Attachment(filename="etichetta.pdf", size_bytes=2048)
    request = reply(attachments=[attachment], awaiting_customer=True, idempotency_key="r-1")

    outcome = await w.ingest.post_reply("shop-a", request)

    ((topic, key, event),) = w.sink.sent
    assert (topic, key) == ("support.outbound.v1", "conv-1")
    assert isinstance(event.payload, events_pb2.OperatorReplied)
    assert event.payload.operator_id == "op-7"
    assert event.payload.text == "Arriva domani."
    assert list(event.payload.attachments) == [attachment]
    assert event.payload.awaiting_customer
    assert event.payload.sent_at.ToDatetime(UTC) == NOW
    assert outcome.event_id == event_ids.from_idempotency_key("shop-a", "reply", "r-1")
    assert w.count("accepted", channel="reply") == 1


async def test_an_empty_reply_is_refused_and_counted(w: World) -> None:
    with pytest.raises(InvalidEvent, match="a reply needs content"):
        await w.ingest.post_reply("shop-a", reply(text=""))

    assert w.sink.sent == []
    assert w.count("rejected", channel="reply", reason="invalid") == 1


async def test_a_reply_for_another_tenant_is_forbidden(w: World) -> None:
    with pytest.raises(PermissionDenied):
        await w.ingest.post_reply("shop-a", reply(tenant="shop-b"))

    assert w.count("rejected", channel="reply", reason="forbidden") == 1


# ---------------------------------------------------------------- batches


async def test_a_batch_is_handed_over_once_per_topic_and_concluded_per_event(w: World) -> None:
    writes = [w.ingest.check_message("shop-a", publish(channel_message_id=f"m-{n}")) for n in range(3)]
    writes.append(writes[0])  # the same event twice in one batch

    pending = await w.ingest.begin(writes)
    outcomes = [w.ingest.conclude(p) for p in pending if not isinstance(p, BrokerUnavailable)]

    assert w.sink.calls == 1
    assert len(w.sink.sent) == 3
    assert [o.duplicate for o in outcomes] == [False, False, False, True]
    assert outcomes[3].receipt == outcomes[0].receipt


def test_channels_are_labelled_by_their_short_name() -> None:
    assert channel_label(common_pb2.CHANNEL_WEB_CHAT) == "web_chat"
    assert channel_label(common_pb2.CHANNEL_X) == "x"
    assert channel_label(common_pb2.CHANNEL_UNSPECIFIED) == "unspecified"
    assert channel_label(1234) == "unknown"


# ---------------------------------------------------------------- nothing stays in flight


async def test_a_sink_failing_unexpectedly_leaves_nothing_in_flight() -> None:
    w = world(FakeSink(error=ValueError("event is larger than a whole batch")), ack_timeout_s=0.01)
    with pytest.raises(ValueError, match="larger than a whole batch"):
        await w.ingest.publish("shop-a", publish())
    await asyncio.sleep(0)

    assert w.recent.in_flight == 0


async def test_a_publish_cancelled_while_handing_over_leaves_nothing_in_flight() -> None:
    stuck: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    class SlowSink(FakeSink):
        async def send_many(
            self,
            topic: str,
            records: Sequence[tuple[str, Envelope]],
            receipts: Sequence[asyncio.Future[Receipt]],
        ) -> None:
            await stuck

    w = world(SlowSink())
    task = asyncio.create_task(w.ingest.publish("shop-a", publish()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)

    assert w.recent.in_flight == 0


@dataclass
class FakeVerdicts:
    """Routing's answer to each request written, as ``services.ingest.verdicts.Verdicts`` gives it;
    ``broken``: the reader cannot start (no topic, no broker)."""

    answer: Any = None
    broken: Exception | None = None

    async def expect(self, request_event_id: str) -> asyncio.Future[Any]:
        if self.broken is not None:
            raise self.broken
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.answer is not None:
            future.set_result(self.answer)
        return future

    def forget(self, request_event_id: str) -> None:
        pass


def transferring(verdicts: FakeVerdicts, timeout_s: float = 0.2) -> World:
    made = world()
    made.ingest._verdicts = verdicts  # type: ignore[assignment]
    made.ingest.transfer_timeout_s = timeout_s
    return made


TRANSFER = operator_pb2.TransferConversationRequest(
    conversation_id="conv-1", operator_id="ana", to_operator_id="bea", idempotency_key="t-1"
)


async def test_a_transfer_is_written_on_the_conversations_key_and_answered_with_routings_verdict() -> None:
    moved = events_pb2.ConversationReassigned(conversation_id="conv-1", to_operator_id="bea")
    w = transferring(FakeVerdicts(moved))

    made = await w.ingest.transfer("shop-a", TRANSFER)

    assert (made.operator_id, made.queued) == ("bea", False)
    [(topic, key, event)] = w.sink.sent
    assert (topic, key) == ("support.outbound.v1", "conv-1")
    assert isinstance(event.payload, events_pb2.ConversationTransferRequested)
    assert event.id == made.outcome.event_id


async def test_routings_refusal_is_raised_with_the_request_it_wrote() -> None:
    refusal = events_pb2.ConversationTransferRefused(conversation_id="conv-1", reason="bea is away")
    w = transferring(FakeVerdicts(refusal))

    with pytest.raises(TransferRefused, match="bea is away") as refused:
        await w.ingest.transfer("shop-a", TRANSFER)

    assert refused.value.event_id == w.sink.sent[0][2].id


async def test_no_answer_in_time_is_undecided_and_no_reader_is_unavailable_before_writing() -> None:
    w = transferring(FakeVerdicts())
    with pytest.raises(TransferUndecided, match=r"has not answered within 0\.2 s"):
        await w.ingest.transfer("shop-a", TRANSFER)

    broken = transferring(FakeVerdicts(broken=LookupError("topic support.conversations.v1 does not exist")))
    with pytest.raises(BrokerUnavailable, match="cannot follow routing's answers"):
        await broken.ingest.transfer("shop-a", TRANSFER)
    assert broken.sink.sent == []  # nothing written that nobody could answer
