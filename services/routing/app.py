"""The routing service as a Faust app: two agents, a timer, and recovery by replay.

- ``rekey`` reads what changes routing (customer messages, operator profiles and
  status, replies and resolutions) and re-keys it by tenant onto
  ``support.routing.v1``, so that one partition, one worker, decides for a shop
  and its capacity is never double-booked.
- ``decide`` folds that stream into the shops' state (``Worker``) and writes
  the decisions to ``support.conversations.v1``, keyed by conversation.
- A timer writes ``RoutingTick`` events into the same stream, so that time
  passing is part of what a replay sees.
- On partition assignment, the worker replays each new partition from its start
  up to the offset its group committed, silently: that rebuilds the state it had
  when the last commit was made. Faust then redelivers what follows the commit,
  and the worker decides again, emitting events with the same ids as before
  (consumers deduplicate). Faust flushes the producer before every commit, so
  nothing before the commit can be missing downstream. The integration test
  checks exactly this: after a SIGKILL, the decisions topic holds what a fold
  of the whole input gives, no more, no less.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka import TopicPartition
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from pronto import streams, topics
from pronto.kafka.reader import committed_offset, read_until
from pronto.ops import ops_router, serve_http
from pronto.v1 import events_pb2
from services.routing.metrics import RoutingMetrics
from services.routing.settings import RoutingSettings
from services.routing.translate import channel_name
from services.routing.worker import Out, Worker

log = logging.getLogger("pronto.routing")
APP_ID = "pronto-routing"
KINDS = {
    events_pb2.ConversationAssigned: "assigned",
    events_pb2.ConversationQueued: "queued",
    events_pb2.ConversationReassigned: "reassigned",
    events_pb2.ConversationWidened: "widened",
    events_pb2.QueuePositionChanged: "position",
}


def _headers(event: faust.EventT[bytes]) -> list[tuple[str, bytes]]:
    """A record's headers as Kafka has them; Faust hands some as a dict (one value per name)."""
    headers = event.message.headers or ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(key), bytes(value)) for key, value in items]


class Routing:
    """The app, its worker and what tells whether it is ready."""

    def __init__(self, settings: RoutingSettings) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()
        self.metrics = RoutingMetrics(self.registry)
        self.worker = Worker(settings.policy(), self.metrics, f"/pronto/routing/{settings.instance}")
        self.app = streams.app(
            APP_ID,
            settings.bootstrap_servers,
            fetch_wait_ms=settings.routing_fetch_wait_ms,
            linger_ms=settings.routing_linger_ms,
            session_timeout_s=settings.routing_session_timeout_s,
        )
        self.routing_topic = self.app.topic(topics.ROUTING.name)
        self.conversations = self.app.topic(topics.CONVERSATIONS.name)
        self.assigned_partitions: set[int] = set()
        # Partition -> the task rebuilding its shops; the agent waits for it.
        self.loading: dict[int, asyncio.Task[None]] = {}
        self._wire()

    def ready(self) -> bool:
        """Partitions assigned and their state rebuilt."""
        return bool(self.assigned_partitions) and all(
            task.done() and not task.cancelled() and task.exception() is None
            for task in self.loading.values()
        )

    def _wire(self) -> None:
        app = self.app
        sources = app.topic(topics.INBOUND.name, topics.OPERATORS.name, topics.OUTBOUND.name)

        @app.agent(sources, name="rekey")
        async def rekey(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
            async for event in stream.events():
                headers = _headers(event)
                tenant = dict(headers).get("ce_tenant", b"")
                if not tenant:
                    self.metrics.invalid()
                    log.warning("skipping a record without a ce_tenant header on %s", event.message.topic)
                    continue
                await self.routing_topic.send(key=tenant, value=event.value, headers=headers)
                yield None

        @app.agent(self.routing_topic, name="decide")
        async def decide(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
            async for event in stream.events():
                await self._loaded(event.message.partition)
                out = self.worker.apply(event.message.partition, _headers(event), event.value)
                await self._publish(out)
                yield None

        @app.timer(interval=self.settings.routing_tick_s)  # type: ignore[untyped-decorator]
        async def tick() -> None:
            for record in self.worker.ticks():
                await self.routing_topic.send(key=record.key, value=record.value, headers=record.headers)
            self.metrics.observe(self.worker.partitions.values(), datetime.now(UTC))

        @app.task  # type: ignore[untyped-decorator]
        async def operations() -> None:
            api = FastAPI(title="Pronto routing", version="1")
            api.include_router(ops_router(self.registry, self.ready))
            await serve_http(
                api, self.settings.routing_http_host, self.settings.routing_http_port, asyncio.Event()
            )

        async def assigned(app: faust.App, assigned: set[TopicPartition], **kwargs: Any) -> None:
            await self._assigned(assigned)

        app.on_partitions_assigned.connect(assigned)  # type: ignore[arg-type]

    async def _publish(self, out: list[Out]) -> None:
        now = time.time()
        for record in out:
            await self.conversations.send(key=record.key, value=record.value, headers=record.headers)
            if record.emitted is None:
                continue
            payload = record.emitted.payload
            self.metrics.decided(KINDS.get(type(payload), "other"))
            if isinstance(payload, events_pb2.ConversationAssigned) and record.emitted.received_at:
                self.metrics.assigned(
                    channel_name(payload.channel), now - record.emitted.received_at.timestamp()
                )

    async def _assigned(self, assigned: set[TopicPartition]) -> None:
        """Keep the shops of partitions still ours; start rebuilding those new to this worker.

        The rebuild runs as a task the agent awaits before its first event of the partition:
        Faust may resume fetching before this signal's handlers finish.
        """
        mine = {tp.partition for tp in assigned if tp.topic == topics.ROUTING.name}
        for partition in set(self.loading) - mine:
            self.loading.pop(partition).cancel()
        self.worker.drop(set(self.worker.partitions) - mine)
        for partition in mine - set(self.loading):
            self.loading[partition] = asyncio.create_task(self._replay(partition))
        self.assigned_partitions = mine

    async def _loaded(self, partition: int) -> None:
        task = self.loading.get(partition)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self.loading[partition] = asyncio.create_task(self._replay(partition))
        await asyncio.shield(task)

    async def _replay(self, partition: int) -> None:
        tp = TopicPartition(topics.ROUTING.name, partition)
        servers = self.settings.bootstrap_servers
        end = await committed_offset(servers, APP_ID, tp)
        self.worker.drop([partition])
        started = time.monotonic()
        count = 0
        async for records in read_until(servers, tp, end):
            count += self.worker.replay(partition, ((r.headers, r.value) for r in records))
        self.metrics.replayed(count)
        if count:
            log.info(
                "partition %d: replayed %d records up to offset %d in %.2f s",
                partition,
                count,
                end,
                time.monotonic() - started,
            )
