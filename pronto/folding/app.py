"""The Faust app of a folding service: its agents (merge, fold), ticks, snapshots and HTTP port."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, cast

import faust
from aiokafka import TopicPartition
from fastapi import FastAPI
from faust.streams import Stream
from faust.types import TP
from prometheus_client import CollectorRegistry

from pronto import journal, snapshots, streams
from pronto.folding.metrics import ConsumerLag, SnapshotMetrics
from pronto.folding.recovery import JOURNAL_KEY, Recovery
from pronto.folding.spec import FoldSpec
from pronto.folding.worker import Headers, Out, Worker
from pronto.kafka import snapshots as kafka_snapshots
from pronto.kafka.watch import BrokerWatch
from pronto.ops import ops_router, serve_http


def batches(stream: faust.StreamT[bytes], spec: FoldSpec) -> AsyncIterator[Sequence[faust.EventT[bytes]]]:
    """The stream's records a list at a time (``Stream.take_events``, which ``StreamT`` does not
    declare): what arrived within ``batch_within_s``, at most ``batch_max``, acknowledged together
    once the list is handled."""
    return cast(Stream[bytes], stream).take_events(spec.batch_max, spec.batch_within_s)


def headers_of(event: faust.EventT[bytes]) -> Headers:
    """A record's headers as Kafka has them; Faust hands some as a dict (one value per name)."""
    headers = event.message.headers or ()
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(key), bytes(value)) for key, value in items]


class FoldingApp(Recovery):
    """A folding service's Faust app: batches through the worker, outputs and journal entries, ticks,
    snapshots; the rebuild on assignment is ``Recovery``'s."""

    def __init__(
        self,
        spec: FoldSpec,
        worker: Worker,
        registry: CollectorRegistry,
        *,
        published: Callable[[Out], None] = lambda _out: None,
        ticked: Callable[[], None] = lambda: None,
        skipped: Callable[[], None] = lambda: None,
        replayed: Callable[[int], None] = lambda _count: None,
        also_ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self.spec = spec
        self.worker = worker
        self.registry = registry
        self._published, self._ticked, self._skipped, self._replayed = published, ticked, skipped, replayed
        self._also_ready = also_ready
        self.log = logging.getLogger(f"pronto.{spec.app_id.removeprefix('pronto-')}")
        self.app = streams.app(
            spec.app_id,
            spec.bootstrap_servers,
            fetch_wait_ms=spec.fetch_wait_ms,
            linger_ms=spec.linger_ms,
            session_timeout_s=spec.session_timeout_s,
        )
        self.input = self.app.topic(spec.input_topic)
        self.assigned_partitions: set[int] = set()
        # (topic, partition) -> the offset last handled by the merge or fold agent: the lag gauge.
        self.handled: dict[tuple[str, int], int] = {}
        registry.register(ConsumerLag(spec.app_id, self))
        # Partition -> the task rebuilding its state; the fold agent waits for it.
        self.loading: dict[int, asyncio.Task[None]] = {}
        # Partition -> the next offset its state has not applied, per topic it folds (the input topic's,
        # and in a direct fold the sources' too), and the records it has applied.
        self.positions: dict[int, dict[str, int]] = {}
        self.records: dict[int, int] = {}

        # Partition -> (monotonic time, records) of its last snapshot, and the slot the next goes to.
        self.checkpointed: dict[int, tuple[float, int]] = {}
        self.slots: dict[int, int] = {}
        self._schema = worker.schema
        self.metrics = SnapshotMetrics(registry, spec.app_id)
        self.broker = BrokerWatch(spec.bootstrap_servers)
        self._wire()

    def highwater(self, topic: str, partition: int) -> int | None:
        """The partition's end as the consumer last heard it, or None before it has."""
        try:
            value = self.app.consumer.highwater(TP(topic, partition))
        except Exception:  # the consumer is not started yet, or is between rebalances
            return None
        return int(value) if value is not None else None

    def ready(self) -> bool:
        """The broker answering, partitions assigned and their state rebuilt (and whatever else the
        service waits for)."""
        return (
            self.broker.answers
            and bool(self.assigned_partitions)
            and self._also_ready()
            and all(
                task.done() and not task.cancelled() and task.exception() is None
                for task in self.loading.values()
            )
        )

    def _wire(self) -> None:
        app, spec = self.app, self.spec

        if not spec.direct:

            @app.agent(app.topic(*spec.sources), name="merge")
            async def merge(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
                async for events in batches(stream, spec):
                    for event in events:
                        message = event.message
                        self.handled[(message.topic, message.partition)] = message.offset
                        headers = headers_of(event)
                        if not spec.wanted(headers, event.value):
                            continue
                        key = spec.rekey(message.key, headers)
                        if key is None:
                            self._skipped()
                            self.log.warning("skipping a record of %s that cannot be keyed", message.topic)
                            continue
                        await self._send(spec.input_topic, key, event.value, headers)
                    yield None

        folded = app.topic(*spec.sources, spec.input_topic) if spec.direct else self.input

        @app.agent(folded, name="fold")
        async def fold(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
            async for events in batches(stream, spec):
                if spec.direct:
                    await self._fold_direct(events)
                else:
                    for event in events:
                        await self._fold(event)
                yield None

        @app.timer(interval=spec.tick_s)  # type: ignore[untyped-decorator]
        async def tick() -> None:
            loaded = [p for p, task in self.loading.items() if task.done() and not task.cancelled()]
            for out in self.worker.ticks(loaded):
                await self._send(spec.input_topic, out.key, out.value, out.headers, out.partition)
            self._ticked()

        @app.task  # type: ignore[untyped-decorator]
        async def watch_broker() -> None:
            await self.broker.run()

        @app.task  # type: ignore[untyped-decorator]
        async def operations() -> None:
            api = FastAPI(title=f"Pronto {spec.app_id.removeprefix('pronto-')}", version="1")
            api.include_router(ops_router(self.registry, self.ready))
            for router in spec.routes:
                api.include_router(router)
            await serve_http(api, spec.http_host, spec.http_port, asyncio.Event(), spec.http_limits)

        async def assigned(app: faust.App, assigned: set[TopicPartition], **kwargs: Any) -> None:
            self._assigned(assigned)

        app.on_partitions_assigned.connect(assigned)  # type: ignore[arg-type]

    async def _fold(self, event: faust.EventT[bytes]) -> None:
        """One input record through the worker: its outputs queued on the producer, its offset noted."""
        message = event.message
        partition = message.partition
        outs = await self._apply(event)
        for out in outs:
            await self._send(out.topic or self.spec.output_topic, out.key, out.value, out.headers)
            self._published(out)
        if self._snapshot_due(partition):
            await self.snapshot(partition)

    async def _fold_direct(self, events: Sequence[faust.EventT[bytes]]) -> None:
        """A batch through the worker, then each partition's journal entry, acknowledged by the broker
        before any output of the batch is sent: whatever a restart finds published, the journal says
        in which order its causes were applied, and the restart applies them in that order again."""
        spec = self.spec
        order: dict[int, journal.Runs] = {}
        outs: list[Out] = []
        for event in events:
            message = event.message
            if not (message.topic == spec.input_topic and journal.is_entry(headers_of(event))):
                order.setdefault(message.partition, journal.Runs()).add(message.topic, message.offset)
            outs += await self._apply(event)
        sent = [
            await self.app.producer.send(
                spec.input_topic, JOURNAL_KEY, runs.encode(), partition, None, journal.HEADERS
            )
            for partition, runs in order.items()
        ]
        await asyncio.gather(*sent)
        for out in outs:
            await self._send(out.topic or spec.output_topic, out.key, out.value, out.headers)
            self._published(out)
        for partition in order:
            if self._snapshot_due(partition):
                await self.snapshot(partition)

    async def _apply(self, event: faust.EventT[bytes]) -> list[Out]:
        """The worker's outputs for one record (none for what the fold does not read), its offset noted."""
        message = event.message
        topic, partition, offset = message.topic, message.partition, message.offset
        await self._loaded(partition)
        self.handled[(topic, partition)] = offset
        self.positions[partition][topic] = max(self.positions[partition].get(topic, 0), offset + 1)
        headers = headers_of(event)
        if not self.spec.wanted(headers, event.value) or journal.is_entry(headers):
            return []
        self.records[partition] = self.records.get(partition, 0) + 1
        return self.worker.apply(partition, headers, event.value)

    async def _send(
        self, topic: str, key: bytes, value: bytes | None, headers: Headers, partition: int | None = None
    ) -> None:
        """Queue a record on the producer (it batches per partition; Faust flushes it before every
        commit, so nothing committed can be missing downstream)."""
        await self.app.producer.send(topic, key, value, partition, None, headers)

    def _assigned(self, assigned: set[TopicPartition]) -> None:
        """Keep the state of partitions still ours; start rebuilding those new to this worker."""
        mine = {tp.partition for tp in assigned if tp.topic == self.spec.input_topic}
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

    def _snapshot_due(self, partition: int) -> bool:
        # Set by the rebuild, which the fold agent awaits before a partition's first record.
        at, records = self.checkpointed[partition]
        since = self.records[partition] - records
        return since >= self.spec.snapshot_every_records or (
            since > 0 and time.monotonic() - at >= self.spec.snapshot_every_s
        )

    async def snapshot(self, partition: int) -> None:
        """Checkpoint ``partition``'s state: taken now, written once every output before it is acked."""
        state = self.worker.partitions.get(partition)
        if state is None:
            return
        started = time.monotonic()
        pickled = snapshots.dump(state)
        positions, records = dict(self.positions[partition]), self.records[partition]
        next_offset = positions.pop(self.spec.input_topic, 0)
        self.checkpointed[partition] = (started, records)
        await self.app.producer.flush()
        data = await asyncio.to_thread(
            snapshots.frame,
            pickled,
            processor=self.spec.app_id,
            partition=partition,
            next_offset=next_offset,
            records=records,
            state_version=self.worker.state_version,
            schema=self._schema,
            source_offsets=positions,
        )
        slot = self.slots.get(partition, 0)

        async def send(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
            await self.app.producer.send_and_wait(
                self.spec.snapshot_topic, key, value, partition, None, headers
            )

        await kafka_snapshots.write(send, self.spec.app_id, slot, str(uuid.uuid4()), data)
        self.slots[partition] = 1 - slot
        self.metrics.written(len(data), time.monotonic() - started)
