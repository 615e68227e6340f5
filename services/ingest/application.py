"""Ingest's use cases: check, name, deduplicate and write one event.

Entry points (gRPC servicers, HTTP routes) authenticate the caller, then call
one method here; every method answers only after the broker acknowledged the
write, or raises a domain error the entry point translates.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from pronto import event_ids, topics
from pronto.envelope import Envelope
from pronto.kafka.producer import BrokerUnavailable, Receipt
from pronto.metrics import ServiceMetrics
from pronto.tracing import Tracer
from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from services.ingest import validation
from services.ingest.auth import PermissionDenied, resolve_tenant
from services.ingest.dedupe import RecentEvents
from services.ingest.validation import InvalidEvent

T = TypeVar("T")


class EventSink(Protocol):
    """Where events go: ``EventProducer`` in production."""

    async def send(self, topic: str, key: str, event: Envelope) -> asyncio.Future[Receipt]: ...

    async def wait_for_ack(self, receipt: asyncio.Future[Receipt]) -> Receipt: ...


@dataclass(frozen=True)
class Outcome:
    event_id: str
    duplicate: bool
    receipt: Receipt


def channel_label(channel: int) -> str:
    """The channel as metrics and logs show it: 'email', 'web_chat'..."""
    try:
        return common_pb2.Channel.Name(channel).removeprefix("CHANNEL_").lower()
    except ValueError:
        return "unknown"


class Ingest:
    def __init__(
        self,
        sink: EventSink,
        recent: RecentEvents[Receipt],
        metrics: ServiceMetrics,
        tracer: Tracer,
        source: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sink = sink
        self._recent = recent
        self._metrics = metrics
        self._tracer = tracer
        self._source = source
        self._clock = clock

    async def publish(
        self, token_tenant: str, request: ingest_pb2.PublishRequest, traceparent: str = ""
    ) -> Outcome:
        message = request.message_received
        label = channel_label(message.channel)
        tenant = self._checked(label, lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked(label, lambda: validation.check(validation.publish_problems(request, self._clock())))
        if request.idempotency_key:
            event_id = event_ids.from_idempotency_key(tenant, "message", request.idempotency_key)
        else:
            event_id = event_ids.from_channel_message(tenant, label, message.channel_message_id)
        return await self._write(
            tenant, event_id, topics.INBOUND.name, message.conversation_id, message, label, traceparent
        )

    async def set_operator_status(
        self, token_tenant: str, request: operator_pb2.SetOperatorStatusRequest, traceparent: str = ""
    ) -> Outcome:
        tenant = self._checked("operator", lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked("operator", lambda: validation.check(validation.status_problems(request)))
        payload = events_pb2.OperatorStatusChanged(
            operator_id=request.operator_id, status=request.status, reason=request.reason
        )
        event_id = self._event_id(tenant, "operator-status", request.idempotency_key)
        return await self._write(
            tenant, event_id, topics.OPERATORS.name, request.operator_id, payload, "operator", traceparent
        )

    async def post_reply(
        self, token_tenant: str, request: operator_pb2.PostReplyRequest, traceparent: str = ""
    ) -> Outcome:
        tenant = self._checked("reply", lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked("reply", lambda: validation.check(validation.reply_problems(request)))
        payload = events_pb2.OperatorReplied(
            conversation_id=request.conversation_id,
            operator_id=request.operator_id,
            text=request.text,
            attachments=request.attachments,
            awaiting_customer=request.awaiting_customer,
        )
        payload.sent_at.FromDatetime(self._clock())
        event_id = self._event_id(tenant, "reply", request.idempotency_key)
        return await self._write(
            tenant, event_id, topics.OUTBOUND.name, request.conversation_id, payload, "reply", traceparent
        )

    @staticmethod
    def _event_id(tenant: str, kind: str, idempotency_key: str) -> str:
        if idempotency_key:
            return event_ids.from_idempotency_key(tenant, kind, idempotency_key)
        return str(uuid.uuid4())

    def _checked(self, label: str, check: Callable[[], T]) -> T:
        try:
            return check()
        except InvalidEvent:
            self._metrics.rejected(label, "invalid")
            raise
        except PermissionDenied:
            self._metrics.rejected(label, "forbidden")
            raise

    async def _write(
        self, tenant: str, event_id: str, topic: str, key: str, payload: Message, label: str, traceparent: str
    ) -> Outcome:
        event = Envelope(
            id=event_id,
            source=self._source,
            tenant=tenant,
            payload=payload,
            time=self._clock(),
            traceparent=self._tracer.child_traceparent(f"ingest {payload.DESCRIPTOR.name}", traceparent),
        )
        try:
            receipt, duplicate = await self._recent.once(
                event_id, lambda: self._sink.send(topic, key, event), self._sink.wait_for_ack
            )
        except BrokerUnavailable:
            self._metrics.rejected(label, "unavailable")
            raise
        if duplicate:
            self._metrics.deduplicated(label)
        else:
            self._metrics.accepted(label)
        return Outcome(event_id=event_id, duplicate=duplicate, receipt=receipt)
