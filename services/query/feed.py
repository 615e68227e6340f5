"""The projector's Kafka side: follow the source topics, or replay them from the start.

Every conversation's events share a partition number across the source
topics (same key, same partition count), and every operator's are in one
partition of ``support.operators.v1``, so per-document order within a topic
holds whichever projector instance reads it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from prometheus_client import CollectorRegistry, Counter, Gauge

from pronto import topics
from pronto.kafka.reader import assign_all
from services.query.projector import Outcome, Projector

log = logging.getLogger("pronto.query")
SOURCES = tuple(
    t.name for t in (topics.INBOUND, topics.CONVERSATIONS, topics.OUTBOUND, topics.SLA, topics.OPERATORS)
)
BATCH = 2_000


class FeedMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "pronto_query_events",
            "Events read by the projector: applied, duplicate (already in the read model), ignored "
            "(changes no read model) or invalid (not a Pronto event).",
            ["topic", "outcome"],
            registry=registry,
        )
        self.caught_up = Gauge(
            "pronto_query_caught_up",
            "1 once the projector has read everything there was when it started.",
            registry=registry,
        )


async def _started(consumer: AIOKafkaConsumer, stop: asyncio.Event, bootstrap_servers: str) -> bool:
    delay = 0.2
    while not stop.is_set():
        try:
            await consumer.start()
            return True
        except KafkaConnectionError as exc:
            log.warning("Kafka at %s does not answer (%s); retrying in %.1f s", bootstrap_servers, exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 5.0)
    return False


async def _assign_all(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    partitions = await assign_all(consumer, *SOURCES)
    await consumer.seek_to_beginning(*partitions)
    return partitions


class Feed:
    """Follows the source topics: as a consumer group committing after each batch (MongoDB), or, for
    a store that starts empty (memory), from the beginning at every start without a group."""

    def __init__(
        self,
        bootstrap_servers: str,
        projector: Projector,
        metrics: FeedMetrics,
        group_id: str | None,
        fetch_wait_ms: int = 100,
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._projector = projector
        self._metrics = metrics
        self._group_id = group_id
        self._fetch_wait_ms = fetch_wait_ms
        self.connected = False
        # Has read everything there was when it started: past the end offsets of that moment (memory),
        # or a fetch that found nothing new (a consumer group resuming its committed offsets).
        self.caught_up = False

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self._fetch_wait_ms,
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
        )
        if not await _started(consumer, stop, self._bootstrap_servers):
            return
        try:
            ends: dict[TopicPartition, int] = {}
            if self._group_id is None:
                ends = await consumer.end_offsets(await _assign_all(consumer))
            else:
                consumer.subscribe(list(SOURCES))
            self.connected = True
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=BATCH)
                if not self.caught_up and not batches:
                    positions = [await consumer.position(p) >= end for p, end in ends.items()]
                    self.caught_up = all(positions)
                    self._metrics.caught_up.set(int(self.caught_up))
                if not batches:
                    continue
                for records in batches.values():
                    for record in records:
                        outcome = await self._projector.apply(record)
                        self._metrics.events.labels(record.topic, outcome.value).inc()
                if self._group_id is not None:
                    await consumer.commit()
        finally:
            self.connected = False
            await consumer.stop()


@dataclass
class Replayed:
    events: int = 0
    applied: int = 0


async def replay(
    bootstrap_servers: str,
    projector: Callable[[], Projector],
    progress: Callable[[int, int], None],
    caught_up: Callable[[], Awaitable[bool]],
) -> Replayed:
    """Apply every record of the source topics, from the beginning, to ``projector()``.

    Reads until every partition has passed the end offset it had when the
    phase began, then once more (the embedded broker's end offsets lag its
    last batch); then ``caught_up()`` says whether to stop, or to go on to the
    end offsets of that moment. Traffic that keeps coming does not keep it
    from finishing: each phase has a fixed end. ``progress(done, total)`` is
    called after each batch.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    try:
        partitions = await _assign_all(consumer)
        counts = Replayed()

        async def read(ends: dict[TopicPartition, int]) -> None:
            passed = False
            while True:
                batches = await consumer.getmany(timeout_ms=100, max_records=BATCH)
                for records in batches.values():
                    for record in records:
                        outcome = await projector().apply(record)
                        counts.events += 1
                        counts.applied += outcome is Outcome.APPLIED
                progress(counts.events, max(sum(ends.values()), counts.events))
                if passed:
                    return
                passed = all([await consumer.position(p) >= end for p, end in ends.items()])

        while True:
            await read(await consumer.end_offsets(partitions))
            if await caught_up():
                return counts
    finally:
        await consumer.stop()
