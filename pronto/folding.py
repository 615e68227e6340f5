"""A Faust app whose state is a deterministic fold of its input, rebuilt from a snapshot and a replay.

Routing, SLA and notify work this way:

- the fold must see one partition's records in an order that a replay can
  repeat. Two ways (``FoldSpec.direct``):
  - routing re-keys its sources by shop, so a ``merge`` agent copies every
    record of the source topics that the fold reads (``FoldSpec.wanted``) onto
    the service's own input topic; one partition's order is then fixed once;
  - SLA and notify read topics that are all keyed by conversation and have as
    many partitions as their input topic (co-partitioned): the ``fold`` agent
    reads them and the input topic together, and after each batch writes to
    the input topic, per partition, a journal entry of the order it applied
    them in (``pronto.journal``), waiting for the broker's acknowledgement
    before it sends the batch's outputs: one small record per partition and
    batch instead of a copy per record;
- the ``fold`` agent feeds the records to the worker, which returns the
  records to write to the output topic;
- both agents take their records in lists (``Stream.take_events``: what
  arrived within a few milliseconds, up to ``batch_max``), handle them in a
  plain loop and queue what they write straight on the producer, which
  batches per partition; Faust acknowledges a list once it is handled, and
  flushes the producer before every commit (so outputs and journal entries
  are written before the offsets of what caused them are committed).
  Per-partition order is the consumer's;
- a timer asks the worker for tick records, written to the input topic, so
  that time passing is part of what a replay sees;
- every ``snapshot_every_records`` records or ``snapshot_every_s`` seconds,
  the fold agent checkpoints a partition's state with the offsets it covers
  (the input topic's, and a direct fold's sources') (``pronto.snapshots``,
  written by ``pronto.kafka.snapshots``): it pickles the state between two
  records (a direct fold: after a batch, its journal entries acknowledged),
  flushes the producer so that every output of the records before it is
  acknowledged, then writes the snapshot and waits for its acknowledgement;
- when a partition is assigned, the worker loads its newest readable snapshot
  (or starts empty) and replays what follows it up to the offsets the consumer
  group committed, emitting nothing: the input topic in its order, or, for a
  direct fold, the records its journal lists, in the journal's order; a direct
  fold then applies again, emitting, what its journal lists past the commits
  (``pronto.journal``). That rebuilds the state it had at the commit, in time
  bounded by the snapshot interval, not by history. Faust then redelivers what
  follows and the worker decides again, emitting events with the same ids as
  before (consumers deduplicate). A snapshot may cover records past the
  commit: Faust redelivers them, and the worker, which remembers the ids it
  has seen, drops them. The rebuild is a task the fold agent awaits before its
  first record of the partition, because Faust may resume fetching before the
  assignment signal's handlers finish. A direct fold that finds its input
  holding copies from before journals (an upgrade) replays those once and
  checkpoints at once.

We do not use Faust tables: on the embedded broker their changelog recovery
stops short (its end offsets lag), and writing state to a changelog on every
event costs more than a snapshot now and then.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol, cast

import faust
from aiokafka import TopicPartition
from fastapi import APIRouter, FastAPI
from faust.streams import Stream
from faust.types import TP
from google.protobuf.message import Message
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from pronto import envelope, event_ids, journal, snapshots, streams, topics
from pronto.envelope import Envelope, EnvelopeError
from pronto.kafka import snapshots as kafka_snapshots
from pronto.kafka.reader import committed_offsets, read_until
from pronto.kafka.watch import BrokerWatch
from pronto.ops import ops_router, serve_http
from pronto.settings import HttpLimits
from pronto.v1 import snapshot_pb2

Headers = list[tuple[str, bytes]]
# The key of journal entries (``pronto.journal``); they go to a chosen partition.
JOURNAL_KEY = b"journal"
# Event ids a worker remembers per partition to drop redeliveries: those of the last SEEN_FOR of
# event time, and never more than SEEN_CAPACITY. Redeliveries come within seconds to minutes (the
# uncommitted tail after a restart, a merge or an upstream fold sending again after its own
# restart), so an hour is ample; a window by count alone filled up with a month of history and
# made every restart unpickle 200,000 ids per partition.
SEEN_CAPACITY = 200_000
SEEN_FOR = timedelta(hours=1)
# Event id -> its time (None in snapshots from before times were kept: forgotten by count only).
Seen = OrderedDict[str, datetime | None]


@dataclass(frozen=True)
class Out:
    """A record to write: a decision to the output topic, or a tick to the input topic."""

    key: bytes
    headers: Headers
    value: bytes
    # What the worker emitted, for the live-only side effects (metrics); None for ticks.
    emitted: Any = None
    # Ticks aimed at one partition of the input topic; None: the key decides.
    partition: int | None = None
    # Where an output goes instead of the fold's output topic (a dead letter); None: that topic.
    topic: str | None = None


class Worker(Protocol):
    """Records in, records out; its state is kept per partition of the input topic."""

    @property
    def partitions(self) -> Mapping[int, Any]: ...

    def apply(self, partition: int, headers: Headers, value: bytes | None) -> list[Out]: ...

    def replay(self, partition: int, records: Iterable[tuple[Headers, bytes | None]]) -> int: ...

    def drop(self, partitions: Iterable[int]) -> None: ...

    def ticks(self, partitions: Iterable[int]) -> list[Out]: ...

    def restore(self, partition: int, state: Any) -> None: ...

    @property
    def state_version(self) -> int: ...

    @property
    def schema(self) -> str: ...


class FoldBase:
    """What every folding worker shares: state per partition, replay, and events derived from causes."""

    partitions: dict[int, Any]
    source: str
    invalid: int
    # Names the processor in the ids it derives (``pronto.event_ids.derived``).
    processor: ClassVar[str] = ""
    # The type of one partition's state (what a snapshot holds), and a number to bump when that state
    # changes meaning in a way its fields do not show (old snapshots are then unreadable).
    state_type: ClassVar[Any] = object
    state_version: ClassVar[int] = 1
    # True while replaying: outputs are thrown away, so they are not encoded.
    replaying: bool = False

    @property
    def schema(self) -> str:
        return snapshots.fingerprint(self.state_type)

    def apply(self, partition: int, headers: Headers, value: bytes | None) -> list[Out]:
        raise NotImplementedError

    def replay(self, partition: int, records: Iterable[tuple[Headers, bytes | None]]) -> int:
        """Rebuild a partition's state from records already handled: what they emit is dropped."""
        count = 0
        self.replaying = True
        try:
            for headers, value in records:
                self.apply(partition, headers, value)
                count += 1
        finally:
            self.replaying = False
        return count

    def drop(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self.partitions.pop(partition, None)

    def restore(self, partition: int, state: Any) -> None:
        """Take a partition's state from a snapshot (a worker re-binds what configuration decides)."""
        self.partitions[partition] = state

    def first_time(self, seen: Seen, headers: Headers, value: bytes | None) -> Envelope | None:
        """The record's event, or None when it cannot be read (counted in ``invalid``) or its id
        was seen already (a redelivery)."""
        try:
            event = envelope.decode(headers, value)
        except EnvelopeError as exc:
            self.invalid += 1
            logging.getLogger(f"pronto.{self.processor}").warning("skipping a record it cannot read: %s", exc)
            return None
        if event.id in seen:
            return None
        seen[event.id] = event.time
        cutoff = event.time - SEEN_FOR
        while seen:
            oldest = next(iter(seen.values()))
            if len(seen) <= SEEN_CAPACITY and (oldest is None or oldest >= cutoff):
                break
            seen.popitem(last=False)
        return event

    def derived(
        self,
        cause: Envelope,
        index: int,
        key: str,
        tenant: str,
        payload: Message,
        emitted: Any,
        time: datetime | None = None,
    ) -> Out:
        """The ``index``-th event caused by ``cause``: its id and time derive from it, so a replay
        or a redelivery emits exactly the same event. ``time``: a time the fold itself keeps
        (instead of the cause's), equally the same on a replay."""
        if self.replaying:
            return Out(key.encode(), [], b"", emitted)
        event = Envelope(
            event_ids.derived(self.processor, cause.id, index),
            self.source,
            tenant,
            payload,
            time or cause.time,
            cause.traceparent,
        )
        headers, value = envelope.encode(event)
        return Out(key.encode(), headers, value, emitted)


@dataclass
class FoldSpec:
    app_id: str
    bootstrap_servers: str
    sources: tuple[str, ...]
    input_topic: str
    output_topic: str
    # The input record's key from a source record (its key and headers); None skips the record.
    rekey: Callable[[bytes | None, Headers], bytes | None]
    tick_s: float
    http_host: str
    http_port: int
    fetch_wait_ms: int = 20
    # Records each agent takes at once, and how long it waits for more before taking fewer.
    batch_max: int = 1_000
    batch_within_s: float = 0.01
    linger_ms: int = 5
    session_timeout_s: float = 3.0
    # Extra HTTP routes beside /metrics, /healthz and /readyz.
    routes: list[APIRouter] = field(default_factory=list)
    # A partition's state is checkpointed after this many records or seconds, whichever comes first
    # (seconds counted only while records arrive). Input topics must retain well over two intervals.
    snapshot_every_records: int = 50_000
    snapshot_every_s: float = 300.0
    snapshot_topic: str = topics.SNAPSHOTS.name
    # Whether the fold reads a source record (its headers and value) at all: the merge does not copy
    # what the worker would answer with nothing and no change of state.
    wanted: Callable[[Headers, bytes | None], bool] = lambda _headers, _value: True
    # What one request to the HTTP port may send (``pronto.http_limits``).
    http_limits: HttpLimits = field(default_factory=HttpLimits)
    # True: the sources are co-partitioned with the input topic (same key, same partitions) and the
    # fold reads them itself, writing the order it applied them in as a journal (``pronto.journal``)
    # instead of a merge agent copying them; ``rekey`` is then not used. False: a merge agent copies
    # (and re-keys) every wanted source record onto the input topic.
    direct: bool = False


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


class ConsumerLag(Collector):
    """Records not yet handled per partition: the newest offset the consumer saw fetched (its
    highwater) minus the one last handled. The embedded broker's highwater lags a little (see the
    README), so there it reads a little low."""

    def __init__(self, group: str, folding: FoldingApp) -> None:
        self.group, self.folding = group, folding

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "pronto_consumer_lag_records",
            "Records fetched but not yet handled, per consumer group, topic and partition.",
            labels=["group", "topic", "partition"],
        )
        for (topic, partition), offset in sorted(self.folding.handled.items()):
            highwater = self.folding.highwater(topic, partition)
            if highwater is not None:
                lag.add_metric([self.group, topic, str(partition)], max(0, highwater - offset - 1))
        yield lag


class FoldingApp:
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

    async def _replay(self, partition: int) -> None:
        spec, servers = self.spec, self.spec.bootstrap_servers
        started = time.monotonic()
        found = await kafka_snapshots.newest(
            servers,
            spec.snapshot_topic,
            partition,
            spec.app_id,
            state_version=self.worker.state_version,
            schema=self._schema,
            unreadable=lambda reason: self._unreadable(partition, reason),
        )
        folded = (*spec.sources, spec.input_topic) if spec.direct else (spec.input_topic,)
        tps = {topic: TopicPartition(topic, partition) for topic in folded}
        committed = {
            tp.topic: o
            for tp, o in (await committed_offsets(servers, spec.app_id, list(tps.values()))).items()
        }
        self.worker.drop([partition])
        start: dict[str, int] = {}
        records = 0
        if found is not None:
            self.worker.restore(partition, found.state)
            start = {spec.input_topic: found.frame.next_offset, **found.frame.source_offsets}
            records = found.frame.records
            self.slots[partition] = 1 - found.slot
        reached: dict[str, int] = {}
        if spec.direct:
            count, legacy, reached = await self._replay_journal(partition, start, committed)
        else:
            count, legacy = (
                await self._replay_input(partition, start.get(spec.input_topic, 0), committed),
                False,
            )
        self.positions[partition] = {t: max(start.get(t, 0), committed[t], reached.get(t, 0)) for t in folded}
        self.records[partition] = records + count
        self.checkpointed[partition] = (time.monotonic(), records + count)
        if legacy:
            # Copies from before direct folds: checkpoint now, so that no later replay needs them.
            await self.snapshot(partition)
        self._replayed(count)
        self.metrics.restored(time.monotonic() - started, count)
        self.log.info(
            "partition %d: %s, replayed %d records up to offsets %s in %.2f s",
            partition,
            f"snapshot of offset {start.get(spec.input_topic, 0)} loaded" if found else "no snapshot",
            count,
            committed,
            time.monotonic() - started,
        )

    async def _replay_input(self, partition: int, start: int, committed: Mapping[str, int]) -> int:
        """Replay the input topic from ``start`` to the group's commit, in its order."""
        tp = TopicPartition(self.spec.input_topic, partition)
        count = 0
        async for batch in read_until(self.spec.bootstrap_servers, tp, committed[tp.topic], start=start):
            if count == 0 and batch[0].offset > start:
                self._history_lost(partition, start, batch[0].offset)
            records = ((list(r.headers), r.value) for r in batch)
            count += self.worker.replay(partition, records)
        return count

    async def _replay_journal(
        self, partition: int, start: Mapping[str, int], committed: Mapping[str, int]
    ) -> tuple[int, bool, dict[str, int]]:
        """Apply what the journal lists after the snapshot, in its order: silently up to the group's
        commits, emitting again past them (``pronto.journal``). Returns the records applied, whether
        the input held copies from before direct folds, and the next offset reached per topic."""
        spec, servers = self.spec, self.spec.bootstrap_servers
        # Written first: its offset bounds the entries to read (the embedded broker's reported end lags).
        resumed = await self.app.producer.send_and_wait(
            spec.input_topic, JOURNAL_KEY, journal.resumed(committed), partition, None, journal.HEADERS
        )
        entries: list[snapshot_pb2.FoldJournal] = []
        inputs: dict[int, tuple[Headers, bytes | None]] = {}
        input_tp = TopicPartition(spec.input_topic, partition)
        async for batch in read_until(
            servers, input_tp, resumed.offset, start=start.get(spec.input_topic, 0)
        ):
            for record in batch:
                headers = list(record.headers)
                if journal.is_entry(headers):
                    entries.append(journal.decode(record.value))
                else:
                    inputs[record.offset] = (headers, record.value)
        # A snapshot of a direct fold names its sources' offsets; none, and no journal: an upgrade.
        if not start.keys() - {spec.input_topic} and not any(e.runs for e in entries):
            copies = [r for o, r in sorted(inputs.items()) if o < committed[spec.input_topic]]
            if copies:
                self.log.warning(
                    "partition %d: replaying %d records copied before direct folds", partition, len(copies)
                )
                return self.worker.replay(partition, copies), True, {}
        order = journal.replay_order(entries, start)
        found: dict[str, dict[int, tuple[Headers, bytes | None]]] = {spec.input_topic: inputs}
        reached: dict[str, int] = {}
        for topic in spec.sources:
            offsets = [o for t, o in order if t == topic]
            if not offsets:
                continue
            reached[topic] = max(offsets) + 1
            kept = found[topic] = {}
            tp = TopicPartition(topic, partition)
            async for batch in read_until(servers, tp, reached[topic], start=min(offsets)):
                kept.update((r.offset, (list(r.headers), r.value)) for r in batch)
        kept_order = [(t, o) for t, o in order if o in found.get(t, {})]
        if len(kept_order) < len(order):
            lost = [o for t, o in order if o not in found.get(t, {})]
            self._history_lost(partition, min(lost), max(lost) + 1)
        silent = journal.committed_prefix(kept_order, committed)
        records = [found[t][o] for t, o in kept_order]
        count = self.worker.replay(partition, (r for r in records[:silent] if spec.wanted(*r)))
        again = [r for r in records[silent:] if spec.wanted(*r)]
        if again:
            self.log.info("partition %d: applying %d records past the commit again", partition, len(again))
        for headers, value in again:
            for out in self.worker.apply(partition, headers, value):
                await self._send(out.topic or spec.output_topic, out.key, out.value, out.headers)
                self._published(out)
        return count + len(again), False, reached

    def _unreadable(self, partition: int, reason: str) -> None:
        self.metrics.unreadable.inc()
        self.log.error(
            "partition %d: a snapshot cannot be read, trying the one before: %s", partition, reason
        )

    def _history_lost(self, partition: int, start: int, first: int) -> None:
        self.metrics.history_lost.inc()
        self.log.error(
            "partition %d: input offsets %d to %d are no longer retained; the state is rebuilt without "
            "them (retention shorter than the snapshot interval, or no readable snapshot)",
            partition,
            start,
            first - 1,
        )


class SnapshotMetrics:
    """What checkpoints cost and whether restarts could use them."""

    def __init__(self, registry: CollectorRegistry, group: str) -> None:
        labels = {"group": group}
        self._written = Counter(
            "pronto_snapshots_written", "Partition snapshots written.", ["group"], registry=registry
        ).labels(**labels)
        self._bytes = Gauge(
            "pronto_snapshot_last_bytes", "Size of the last snapshot written.", ["group"], registry=registry
        ).labels(**labels)
        self._seconds = Gauge(
            "pronto_snapshot_last_seconds",
            "Time the last snapshot took, from taking the state to the broker's acknowledgement.",
            ["group"],
            registry=registry,
        ).labels(**labels)
        self.unreadable = Counter(
            "pronto_snapshots_unreadable",
            "Snapshots that could not be read at a restart (corrupt, or of another schema).",
            ["group"],
            registry=registry,
        ).labels(**labels)
        self.history_lost = Counter(
            "pronto_snapshot_history_gaps",
            "Restarts that found input records deleted between the snapshot and the first kept record.",
            ["group"],
            registry=registry,
        ).labels(**labels)
        self._restore_seconds = Gauge(
            "pronto_restore_last_seconds",
            "Time the last partition took to load its snapshot and replay what follows it.",
            ["group"],
            registry=registry,
        ).labels(**labels)
        self._restored_records = Gauge(
            "pronto_restore_last_replayed_records",
            "Input records the last partition replayed after its snapshot.",
            ["group"],
            registry=registry,
        ).labels(**labels)

    def written(self, size: int, seconds: float) -> None:
        self._written.inc()
        self._bytes.set(size)
        self._seconds.set(seconds)

    def restored(self, seconds: float, records: int) -> None:
        self._restore_seconds.set(seconds)
        self._restored_records.set(records)
