"""Ingest's writes to the broker: each checked write begun in a batch per topic, then settled."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from pronto import event_ids
from pronto.envelope import Envelope
from pronto.errors import BrokerUnavailable, PermissionDenied
from pronto.kafka.producer import Receipt
from pronto.metrics import ServiceMetrics
from pronto.tracing import Tracer
from services.ingest.dedupe import RecentEvents
from services.ingest.errors import InvalidEvent

T = TypeVar("T")
# What a single write can fail with, before or after reaching the broker.
Refusal = InvalidEvent | PermissionDenied | BrokerUnavailable


class EventSink(Protocol):
    """Where events go: ``EventProducer`` in production."""

    async def send_many(
        self, topic: str, records: Sequence[tuple[str, Envelope]], receipts: Sequence[asyncio.Future[Receipt]]
    ) -> None: ...


@dataclass(frozen=True)
class Write:
    """A checked event, ready to be handed to the broker."""

    topic: str
    key: str
    label: str
    event: Envelope
    # Kept for someone to look at, not accepted: counted as rejected ("dead_lettered").
    dead_letter: bool = False


@dataclass(frozen=True)
class Pending:
    """A write handed to the broker, not yet settled."""

    event_id: str
    label: str
    delivery: asyncio.Future[Receipt]
    duplicate: bool
    dead_letter: bool = False


@dataclass(frozen=True)
class Outcome:
    event_id: str
    duplicate: bool
    receipt: Receipt


class Writer:
    """Begins and settles writes, and names, wraps and checks the events of ``Ingest``'s use cases."""

    def __init__(
        self,
        sink: EventSink,
        recent: RecentEvents[Receipt],
        metrics: ServiceMetrics,
        tracer: Tracer,
        source: str,
        ack_timeout_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._sink = sink
        self._recent = recent
        self._metrics = metrics
        self._tracer = tracer
        self._source = source
        self.ack_timeout_s = ack_timeout_s
        self._clock = clock

    async def begin(self, writes: Sequence[Write]) -> list[Pending | BrokerUnavailable]:
        """Hand the writes to the broker, one batch per topic; retries of in-flight ids join them."""
        results: list[Pending | BrokerUnavailable] = []
        new: dict[str, list[tuple[int, Write, asyncio.Future[Receipt]]]] = defaultdict(list)
        for index, write in enumerate(writes):
            delivery, duplicate = self._recent.claim(write.event.id)
            results.append(Pending(write.event.id, write.label, delivery, duplicate, write.dead_letter))
            if not duplicate:
                new[write.topic].append((index, write, delivery))
        for topic, claimed in new.items():
            records = [(write.key, write.event) for _, write, _ in claimed]
            try:
                await self._sink.send_many(topic, records, [delivery for _, _, delivery in claimed])
            except BrokerUnavailable as exc:
                for index, write, delivery in claimed:
                    self._recent.fail(delivery, exc)
                    self._metrics.rejected(write.label, "unavailable")
                    results[index] = exc
            except BaseException as exc:
                # Cancelled (a deadline) or a bug: no claim may stay in flight, or its retries would hang.
                failure = exc if isinstance(exc, Exception) else BrokerUnavailable("the write was cancelled")
                for _, _, delivery in claimed:
                    self._recent.fail(delivery, failure)
                raise
        return results

    async def settle(self, begun: Sequence[Pending | BrokerUnavailable]) -> list[Outcome | BrokerUnavailable]:
        """Wait once for all of ``begun`` (at most the acknowledgement timeout), then conclude each."""
        deliveries = [p.delivery for p in begun if isinstance(p, Pending)]
        if deliveries:
            await asyncio.wait(deliveries, timeout=self.ack_timeout_s)
        settled: list[Outcome | BrokerUnavailable] = []
        for pending in begun:
            try:
                settled.append(pending if isinstance(pending, BrokerUnavailable) else self.conclude(pending))
            except BrokerUnavailable as exc:
                settled.append(exc)
        return settled

    def conclude(self, pending: Pending) -> Outcome:
        """The outcome of a write its caller waited for; UNAVAILABLE unless the broker acknowledged it.

        A write still in flight goes on: a retry with the same event id joins it instead of writing again.
        """
        delivery = pending.delivery
        if not delivery.done() or delivery.cancelled() or delivery.exception() is not None:
            self._metrics.rejected(pending.label, "unavailable")
            if delivery.done() and not delivery.cancelled():
                raise BrokerUnavailable(str(delivery.exception()))
            raise BrokerUnavailable(f"Kafka did not acknowledge within {self.ack_timeout_s:g} s")
        if pending.duplicate:
            self._metrics.deduplicated(pending.label)
        elif pending.dead_letter:
            self._metrics.rejected(pending.label, "dead_lettered")
        else:
            self._metrics.accepted(pending.label)
        return Outcome(event_id=pending.event_id, duplicate=pending.duplicate, receipt=delivery.result())

    async def _one(self, write: Write) -> Outcome:
        (result,) = await self.settle(await self.begin([write]))
        if isinstance(result, BrokerUnavailable):
            raise result
        return result

    def _envelope(self, tenant: str, event_id: str, payload: Message, traceparent: str) -> Envelope:
        return Envelope(
            id=event_id,
            source=self._source,
            tenant=tenant,
            payload=payload,
            time=self._clock(),
            traceparent=self._tracer.child_traceparent(traceparent),
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
