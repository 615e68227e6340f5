"""Ingest's use cases wired to a fake sink for the tests, with the requests they send."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry

from pronto.envelope import Envelope
from pronto.kafka.producer import Receipt
from pronto.metrics import ServiceMetrics
from pronto.tracing import Tracer
from pronto.v1 import events_pb2, ingest_pb2, operator_pb2
from services.ingest.application import Ingest
from services.ingest.dedupe import RecentEvents
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
