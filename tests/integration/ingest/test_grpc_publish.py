"""gRPC ingest against the real broker: what integrators send arrives exactly once, or not at all."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pronto import envelope, topics
from pronto.kafka.reader import header, read_records
from pronto.v1 import events_pb2, ingest_pb2, ingest_pb2_grpc
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from tests.plugins.ingest import bearer
from tests.support.events import message
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration


def of_run(prefix: str):  # type: ignore[no-untyped-def]
    return lambda record: record.key is not None and record.key.decode().startswith(prefix)


@pytest.fixture
async def stub(ingest: IngestService) -> AsyncIterator[ingest_pb2_grpc.IngestServiceStub]:
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        yield ingest_pb2_grpc.IngestServiceStub(channel)


def stream_of(*batches: list[ingest_pb2.StreamedEvent]) -> AsyncIterator[ingest_pb2.PublishStreamRequest]:
    async def send() -> AsyncIterator[ingest_pb2.PublishStreamRequest]:
        for events in batches:
            yield ingest_pb2.PublishStreamRequest(events=events)

    return send()


async def acks_of(
    stub: ingest_pb2_grpc.IngestServiceStub, *batches: list[ingest_pb2.StreamedEvent], tenant: str = "shop-a"
) -> list[ingest_pb2.EventAck]:
    responses = stub.PublishStream(stream_of(*batches), metadata=bearer(tenant))
    return [ack async for response in responses for ack in response.acks]


async def test_a_stream_of_1000_events_arrives_exactly_once_with_cloudevents_headers(
    stub: ingest_pb2_grpc.IngestServiceStub, broker: EmbeddedBroker
) -> None:
    run = f"run-{uuid.uuid4().hex[:8]}"
    conversations = [f"{run}-c{i}" for i in range(50)]
    events = [
        ingest_pb2.StreamedEvent(
            sequence=n, request=ingest_pb2.PublishRequest(message_received=message(conversations[n % 50], n))
        )
        for n in range(1000)
    ]
    # Batches of every size a client may send, one event alone included.
    sizes = [1, 9, 90, 400, 500]
    batches = [events[sum(sizes[:i]) : sum(sizes[: i + 1])] for i in range(len(sizes))]

    acks = await acks_of(stub, *batches)

    assert sorted(a.sequence for a in acks) == list(range(1000))
    assert {a.code for a in acks} == {0}, [a.message for a in acks if a.code]
    assert not any(a.duplicate for a in acks)
    records = await read_records(broker.bootstrap_servers, topics.INBOUND.name, of_run(run), expect=1000)
    ids = Counter(header(r, "ce_id") for r in records)
    assert len(ids) == 1000, "every event arrived"
    assert set(ids.values()) == {1}, "no event arrived twice"
    assert set(ids) == {a.event_id for a in acks}
    for record in records:
        event = envelope.decode(record.headers, record.value)
        assert header(record, "ce_specversion") == "1.0"
        assert header(record, "ce_type") == "pronto.v1.MessageReceived"
        assert header(record, "content-type") == "application/protobuf"
        assert header(record, "ce_source").startswith("/pronto/ingest/")
        assert header(record, "ce_traceparent").startswith("00-")
        assert event.tenant == "shop-a"
        assert abs(event.time - datetime.now(UTC)) < timedelta(minutes=1)
        assert isinstance(event.payload, events_pb2.MessageReceived)
        assert record.key == event.payload.conversation_id.encode()
    per_conversation: dict[str, int] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        payload = envelope.decode(record.headers, record.value).payload
        assert isinstance(payload, events_pb2.MessageReceived)
        n = int(payload.channel_message_id.rsplit("-m", 1)[1])
        assert n > per_conversation.get(payload.conversation_id, -1), "per-conversation order kept"
        per_conversation[payload.conversation_id] = n


async def test_the_same_event_published_twice_yields_one_record(
    stub: ingest_pb2_grpc.IngestServiceStub, broker: EmbeddedBroker
) -> None:
    run = f"dup-{uuid.uuid4().hex[:8]}"
    by_channel_id = ingest_pb2.PublishRequest(message_received=message(f"{run}-c1", 1))
    by_key = ingest_pb2.PublishRequest(
        idempotency_key=f"{run}-key", message_received=message(f"{run}-c2", 2, channel_message_id="")
    )

    first = await stub.Publish(by_channel_id, metadata=bearer("shop-a"))
    again = await stub.Publish(by_channel_id, metadata=bearer("shop-a"))
    concurrent = await asyncio.gather(*(stub.Publish(by_key, metadata=bearer("shop-a")) for _ in range(5)))

    assert (first.duplicate, again.duplicate) == (False, True)
    assert first.event_id == again.event_id
    assert (first.partition, first.offset) == (
        again.partition,
        again.offset,
    )
    assert len({r.event_id for r in concurrent}) == 1
    assert sorted(r.duplicate for r in concurrent) == [False, True, True, True, True]
    records = await read_records(broker.bootstrap_servers, topics.INBOUND.name, of_run(run), expect=2)
    assert sorted(header(r, "ce_id") for r in records) == sorted([first.event_id, concurrent[0].event_id])


async def test_same_channel_message_for_two_tenants_are_two_events(
    stub: ingest_pb2_grpc.IngestServiceStub,
) -> None:
    run = f"tenants-{uuid.uuid4().hex[:8]}"
    request = ingest_pb2.PublishRequest(message_received=message(f"{run}-c1", 1))
    a = await stub.Publish(request, metadata=bearer("shop-a"))
    b = await stub.Publish(request, metadata=bearer("shop-b"))
    assert a.event_id != b.event_id
    assert not b.duplicate


MALFORMED = {
    "no conversation id": (
        lambda run: {"message_received": message("", 1, text=run)},
        "message_received.conversation_id is required",
    ),
    "no channel": (
        lambda run: {"message_received": message(run, 1, channel=0)},
        "message_received.channel is required",
    ),
    "bad language": (
        lambda run: {"message_received": message(run, 1, language="italiano!")},
        "message_received.language 'italiano!' is not a BCP 47 tag",
    ),
    "no stable id": (
        lambda run: {"message_received": message(run, 1, channel_message_id="")},
        "idempotency_key or message_received.channel_message_id is required",
    ),
    "no event": (lambda run: {"idempotency_key": run}, "event is required"),
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_event_gets_invalid_argument_and_publishes_nothing(
    stub: ingest_pb2_grpc.IngestServiceStub,
    broker: EmbeddedBroker,
    case: tuple[Callable[[str], dict[str, Any]], str],
) -> None:
    build, named_field = case
    run = f"bad-{uuid.uuid4().hex[:8]}"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Publish(ingest_pb2.PublishRequest(**build(run)), metadata=bearer("shop-a"))
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert named_field in (raised.value.details() or "")
    written = await read_records(
        broker.bootstrap_servers, topics.INBOUND.name, lambda r: run.encode() in r.value, expect=1, timeout=2
    )
    assert written == []


async def test_invalid_events_in_a_stream_are_refused_one_by_one(
    stub: ingest_pb2_grpc.IngestServiceStub,
) -> None:
    run = f"mixed-{uuid.uuid4().hex[:8]}"
    good = ingest_pb2.PublishRequest(message_received=message(f"{run}-c1", 1))
    empty = ingest_pb2.PublishRequest(message_received=message(f"{run}-c1", 2, text=""))
    foreign = ingest_pb2.PublishRequest(tenant="shop-b", message_received=message(f"{run}-c1", 3))

    acks = await acks_of(
        stub,
        [
            ingest_pb2.StreamedEvent(sequence=1, request=good),
            ingest_pb2.StreamedEvent(sequence=2, request=empty),
        ],
        [
            ingest_pb2.StreamedEvent(sequence=3, request=foreign),
            ingest_pb2.StreamedEvent(sequence=4, request=good),
        ],
    )

    by_sequence = {a.sequence: a for a in acks}
    assert by_sequence[1].code == grpc.StatusCode.OK.value[0]
    assert by_sequence[2].code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "needs content" in by_sequence[2].message
    assert by_sequence[3].code == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert by_sequence[4].code == grpc.StatusCode.OK.value[0]
    assert by_sequence[4].duplicate, "the same message again within one stream is recognised"
    assert by_sequence[4].event_id == by_sequence[1].event_id


async def test_an_oversized_stream_batch_is_refused_and_the_call_ends(
    stub: ingest_pb2_grpc.IngestServiceStub, ingest: IngestService
) -> None:
    request = ingest_pb2.PublishRequest(message_received=message("big-c1", 1))
    batch = [ingest_pb2.StreamedEvent(sequence=n, request=request) for n in range(1001)]
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await acks_of(stub, batch)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "at most 1000 events" in (raised.value.details() or "")
    wait_until(lambda: streams_in_flight(ingest) == 0, 5, "no PublishStream handler left running")


def streams_in_flight(ingest: IngestService) -> float:
    with urllib.request.urlopen(f"{ingest.http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "pronto_requests_in_flight"
                and sample.labels.get("api") == "grpc.PublishStream"
            ):
                return float(sample.value)
    return 0.0


async def test_a_token_cannot_publish_for_another_tenant(stub: ingest_pb2_grpc.IngestServiceStub) -> None:
    request = ingest_pb2.PublishRequest(tenant="shop-b", message_received=message("perm-c1", 1))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Publish(request, metadata=bearer("shop-a"))
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize(
    "metadata", [(), (("authorization", "Bearer nope"),), (("authorization", "Basic x"),)]
)
async def test_without_a_valid_token_nothing_is_published(
    stub: ingest_pb2_grpc.IngestServiceStub, metadata: tuple[tuple[str, str], ...]
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Publish(
            ingest_pb2.PublishRequest(message_received=message("auth-c1", 1)), metadata=metadata
        )
    assert raised.value.code() is grpc.StatusCode.UNAUTHENTICATED
