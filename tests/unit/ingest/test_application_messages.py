"""Checks ingest publishing messages: where they are written, traces, ids, duplicates, refusals, batches."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from pronto import event_ids
from pronto.channels import channel_name as channel_label
from pronto.envelope import Envelope
from pronto.errors import BrokerUnavailable, PermissionDenied
from pronto.kafka.producer import Receipt
from pronto.v1 import common_pb2
from services.ingest.errors import InvalidEvent
from tests.support.events import message
from tests.unit.ingest.application_world import (
    INCOMING,
    NOW,
    SOURCE,
    TRACE_ID,
    FakeSink,
    World,
    publish,
    trace_id,
    world,
)

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
