"""When the broker cannot be reached, ingest says UNAVAILABLE instead of accepting and losing events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pronto import topics
from pronto.healthcheck import http_status
from pronto.kafka.reader import header, read_records
from pronto.v1 import ingest_pb2, ingest_pb2_grpc
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.services import IngestService
from tests.plugins.ingest import bearer, start_ingest
from tests.support.events import message
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def ingest_alone(private_broker: EmbeddedBroker, tmp_path: Path) -> Iterator[IngestService]:
    service = start_ingest(
        private_broker.bootstrap_servers, tmp_path / "ingest.log", PRONTO_INGEST_ACK_TIMEOUT_S="2"
    )
    yield service
    service.stop()


async def test_an_unreachable_broker_gives_unavailable_and_the_retry_is_written_once(
    private_broker: EmbeddedBroker, ingest_alone: IngestService
) -> None:
    """Frozen, the broker keeps its records but answers nothing (like a network partition)."""
    async with grpc.aio.insecure_channel(ingest_alone.grpc_target) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        private_broker.pause()
        try:
            request = ingest_pb2.PublishRequest(message_received=message("frozen-c1", 1))
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.Publish(request, metadata=bearer("shop-a"), timeout=20)
            assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
            assert "retry" in (raised.value.details() or "")
            assert ("retry-after-ms", "1000") in tuple(raised.value.trailing_metadata() or ())
            await _not_ready(ingest_alone, channel)
            await _a_stream_is_refused_promptly(stub, "frozen-stream")
        finally:
            private_broker.resume()
        retried = await _retry_while_unavailable(stub, request, attempts=40)
    wait_until(lambda: http_status(f"{ingest_alone.http_url}/readyz") == 200, 10, "/readyz says ready again")
    # The refused attempt stayed buffered in the producer: whether the retry joined it or wrote anew,
    # the event is on Kafka exactly once.
    records = await read_records(
        private_broker.bootstrap_servers,
        topics.INBOUND.name,
        lambda r: header(r, "ce_id") == retried.event_id,
        expect=1,
    )
    assert len(records) == 1


async def test_a_stopped_broker_gives_unavailable_and_ingest_recovers(
    private_broker: EmbeddedBroker, ingest_alone: IngestService
) -> None:
    """Stopped, the embedded broker loses everything (memory only): ingest must refuse, then recover."""
    async with grpc.aio.insecure_channel(ingest_alone.grpc_target) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        private_broker.stop()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Publish(
                ingest_pb2.PublishRequest(message_received=message("stopped-c1", 1)),
                metadata=bearer("shop-a"),
                timeout=20,
            )
        assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
        await _not_ready(ingest_alone, channel)
        await _a_stream_is_refused_promptly(stub, "stopped-stream")

        private_broker.start()
        provision(private_broker.bootstrap_servers)
        after = ingest_pb2.PublishRequest(message_received=message("stopped-c2", 1))
        accepted = await _retry_while_unavailable(stub, after, attempts=40)
    wait_until(lambda: http_status(f"{ingest_alone.http_url}/readyz") == 200, 10, "/readyz says ready again")
    assert not accepted.duplicate


async def _not_ready(ingest: IngestService, channel: grpc.aio.Channel) -> None:
    wait_until(lambda: http_status(f"{ingest.http_url}/readyz") == 503, 10, "/readyz says not ready")
    health = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service="pronto.v1.IngestService")
    )
    assert health.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def _a_stream_is_refused_promptly(stub: ingest_pb2_grpc.IngestServiceStub, conversation: str) -> None:
    """Every batch of a stream is refused within the acknowledgement timeout, not one after another."""
    batches = [
        ingest_pb2.PublishStreamRequest(
            events=[
                ingest_pb2.StreamedEvent(
                    sequence=n, request=ingest_pb2.PublishRequest(message_received=message(conversation, n))
                )
            ]
        )
        for n in range(10)
    ]

    async def send() -> AsyncIterator[ingest_pb2.PublishStreamRequest]:
        for batch in batches:
            yield batch

    started = time.monotonic()
    acks = [
        a async for r in stub.PublishStream(send(), metadata=bearer("shop-a"), timeout=60) for a in r.acks
    ]
    elapsed = time.monotonic() - started
    assert {a.code for a in acks} == {grpc.StatusCode.UNAVAILABLE.value[0]}
    assert len(acks) == 10
    assert elapsed < 4, f"10 batches took {elapsed:.1f} s to be refused (acknowledgement timeout: 2 s)"


async def _retry_while_unavailable(
    stub: ingest_pb2_grpc.IngestServiceStub, request: ingest_pb2.PublishRequest, attempts: int
) -> ingest_pb2.PublishResponse:
    """What a well-behaved integrator does: retry the same request while the answer is UNAVAILABLE."""
    codes = []
    for _ in range(attempts):
        call = stub.Publish(request, metadata=bearer("shop-a"), timeout=10)
        try:
            response: ingest_pb2.PublishResponse = await call
            return response
        except grpc.aio.AioRpcError:
            codes.append(await call.code())
            await asyncio.sleep(0.2)
    raise AssertionError(f"ingest never accepted again after the broker came back; answers: {set(codes)}")
