"""An event that trips an unexpected error is refused alone, with INTERNAL (issue #26).

It is refused alone in a PublishStream batch, and with INTERNAL (not grpc's UNKNOWN) from unary Publish."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from pronto.auth import TokenAuthenticator
from pronto.metrics import ServiceMetrics
from pronto.v1 import ingest_pb2
from services.ingest.grpc_api import IngestServicer
from services.ingest.writes import Write
from tests.support.events import message
from tests.unit.ingest.application_world import world

TOKEN = "token-a-0123456789abcdefgh"


def _servicer(ingest: Any) -> IngestServicer:
    return IngestServicer(
        ingest,
        TokenAuthenticator({"shop-a": SecretStr(TOKEN)}),
        ServiceMetrics("ingest", CollectorRegistry()),
        1.0,
        stream_window=4,
    )


async def test_an_event_a_check_crashes_on_is_refused_as_internal_and_the_rest_are_written() -> None:
    w = world()
    check = w.ingest.check_message

    def crashing(tenant: str, request: ingest_pb2.PublishRequest, traceparent: str = "") -> Write:
        if request.message_received.text == "boom":
            raise OverflowError("date value out of range")
        return check(tenant, request, traceparent)

    w.ingest.check_message = crashing  # type: ignore[method-assign,assignment]
    servicer = _servicer(w.ingest)
    events: list[Any] = [message("conv-1", 1), message("conv-1", 2, text="boom"), message("conv-1", 3)]
    batch = ingest_pb2.PublishStreamRequest(
        events=[
            ingest_pb2.StreamedEvent(sequence=n, request=ingest_pb2.PublishRequest(message_received=e))
            for n, e in enumerate(events, 1)
        ]
    )

    response = await servicer._settle(await servicer._begin("shop-a", batch, ""))

    assert [(a.sequence, a.code) for a in response.acks] == [
        (1, 0),
        (2, grpc.StatusCode.INTERNAL.value[0]),
        (3, 0),
    ]
    assert "OverflowError" in response.acks[1].message
    written = [event.payload for _, _, event in w.sink.sent]
    assert written == [events[0], events[2]]


class _Aborted(Exception):
    pass


class _Context:
    """What the servicer uses of a grpc.aio context: metadata in, abort out."""

    def __init__(self) -> None:
        self.aborted: tuple[grpc.StatusCode, str] | None = None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {TOKEN}"),)

    async def abort(self, code: grpc.StatusCode, message: str) -> None:
        self.aborted = (code, message)
        raise _Aborted(message)


async def test_a_unary_publish_that_trips_an_unexpected_error_is_internal_and_named() -> None:
    w = world()

    async def crashing(*_args: Any) -> Any:
        raise ValueError("year 31690708 is out of range")

    w.ingest.publish = crashing  # type: ignore[method-assign,assignment]
    servicer = _servicer(w.ingest)
    context = _Context()
    request = ingest_pb2.PublishRequest(message_received=message("conv-1", 1))

    with pytest.raises(_Aborted):
        await servicer.Publish(request, context)

    assert context.aborted == (grpc.StatusCode.INTERNAL, "the request could not be handled: ValueError")
