"""When the broker is gone, ingest says UNAVAILABLE instead of accepting and losing events."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from pronto import topics
from pronto.broker.embedded import EmbeddedBroker
from pronto.broker.provision import provision
from pronto.kafka.reader import header, read_records
from pronto.processes import http_status
from pronto.v1 import ingest_pb2, ingest_pb2_grpc
from tests.plugins.ingest import bearer, start_ingest
from tests.support.events import message
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration


async def test_a_stopped_broker_gives_unavailable_and_recovery_accepts_the_retry(
    private_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    ingest = start_ingest(
        private_broker.bootstrap_servers, tmp_path / "ingest.log", PRONTO_INGEST_ACK_TIMEOUT_S="2"
    )
    try:
        async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
            stub = ingest_pb2_grpc.IngestServiceStub(channel)
            before = await stub.Publish(
                ingest_pb2.PublishRequest(message_received=message("down-c1", 1)), metadata=bearer("shop-a")
            )
            private_broker.stop()

            request = ingest_pb2.PublishRequest(message_received=message("down-c1", 2))
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.Publish(request, metadata=bearer("shop-a"), timeout=20)
            assert raised.value.code() is grpc.StatusCode.UNAVAILABLE
            assert "retry" in (raised.value.details() or "")
            assert ("retry-after-ms", "1000") in tuple(raised.value.trailing_metadata() or ())

            # Tansu keeps records in memory only: a restart starts empty, so topics are provisioned again.
            private_broker.start()
            provision(private_broker.bootstrap_servers)
            retried = await _retry_while_unavailable(stub, request, attempts=40)
            assert retried.event_id != before.event_id
            # The refused attempt stayed buffered in the producer; the retry waited for that same write.
            records = await read_records(
                private_broker.bootstrap_servers,
                topics.INBOUND.name,
                lambda r: header(r, "ce_id") == retried.event_id,
                expect=1,
            )
            assert len(records) == 1
    finally:
        ingest.stop()
    wait_until(lambda: http_status(f"{ingest.http_url}/healthz") == 0, 5, "ingest stopped")


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
    raise AssertionError(f"ingest never accepted again after the broker came back; answers: {set(codes)}")
