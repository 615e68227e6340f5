"""Producing Pronto events with aiokafka: acks from all replicas, idempotent, bounded waits.

An event is acknowledged to its sender only after the broker acknowledged the
write. When the broker does not answer within ``ack_timeout_s`` the caller
gets ``BrokerUnavailable`` and must retry with the same event id; the record
may still be written later, which downstream processors absorb by
deduplicating on the event id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.structs import RecordMetadata

from pronto import envelope
from pronto.envelope import Envelope
from pronto.errors import BrokerIncompatible, BrokerUnavailable
from pronto.metrics import ServiceMetrics

_PARTITIONER = DefaultPartitioner()
# Larger batches than aiokafka's 16 KiB default: a stream batch of 100 events is about 40 KiB.
MAX_BATCH_BYTES = 512 * 1024


@dataclass(frozen=True)
class Receipt:
    topic: str
    partition: int
    offset: int


class EventProducer:
    """The one way services write events to Kafka."""

    def __init__(
        self,
        bootstrap_servers: str,
        client_id: str,
        metrics: ServiceMetrics,
        ack_timeout_s: float = 5.0,
        linger_ms: int = 2,
        idempotent: bool = True,
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._metrics = metrics
        self._ack_timeout_s = ack_timeout_s
        self._linger_ms = linger_ms
        self._idempotent = idempotent
        self._producer: AIOKafkaProducer | None = None
        # Whether the last check reached the broker; writes fail fast while it did not.
        self.reachable = False

    @property
    def started(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=self._idempotent,
            linger_ms=self._linger_ms,
            request_timeout_ms=int(self._ack_timeout_s * 1000),
            max_batch_size=MAX_BATCH_BYTES,
        )
        try:
            await producer.start()
        except KafkaConnectionError as exc:
            await producer.stop()
            raise BrokerUnavailable(f"cannot connect to Kafka at {self._bootstrap_servers}: {exc}") from exc
        except KafkaError as exc:
            await producer.stop()
            if self._idempotent:
                raise BrokerIncompatible(
                    f"the broker at {self._bootstrap_servers} refused an idempotent producer ({exc}); "
                    "the embedded broker cannot do it: set PRONTO_KAFKA_IDEMPOTENT=false for it"
                ) from exc
            raise BrokerUnavailable(f"Kafka at {self._bootstrap_servers} failed: {exc}") from exc
        self._producer = producer
        self.reachable = True

    async def check_broker(self, timeout_s: float = 2.0) -> bool:
        """Ask the broker for its metadata; remember and return whether it answered in time."""
        if self._producer is None:
            return False
        try:
            answered = await asyncio.wait_for(self._producer.client.force_metadata_update(), timeout_s)
        except (TimeoutError, KafkaError):
            answered = False
        self.reachable = bool(answered)
        return self.reachable

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def send_many(
        self, topic: str, records: Sequence[tuple[str, Envelope]], receipts: Sequence[asyncio.Future[Receipt]]
    ) -> None:
        """Hand ``(key, event)`` records to the producer; each receipt resolves with the broker's ack.

        The caller passes the futures to complete (``receipts[i]`` for
        ``records[i]``), so that it can hand them out before the write starts.

        Records are grouped into one batch per partition (the same murmur2
        partitioning as any Kafka client, so keys land where ``send`` would
        put them): per record this costs a fraction of ``send``.
        """
        if self._producer is None:
            raise BrokerUnavailable("not connected to Kafka yet")
        if not self.reachable:
            raise BrokerUnavailable("Kafka is unreachable (the last check got no answer)")
        try:
            # Bounded by request_timeout_ms (= ack_timeout_s) when the metadata is missing.
            partitions = sorted(await self._producer.partitions_for(topic))
        except KafkaError as exc:
            raise BrokerUnavailable(f"Kafka did not describe topic {topic}: {exc}") from exc
        open_batches: dict[int, _PartitionBatch] = {}
        full: list[_PartitionBatch] = []
        for index, (key, event) in enumerate(records):
            key_bytes = key.encode()
            headers, value = envelope.encode(event)
            partition = _PARTITIONER(key_bytes, partitions, partitions)
            batch = open_batches.get(partition)
            if batch is None or not batch.append(index, key_bytes, value, headers):
                if batch is not None:
                    full.append(batch)
                batch = open_batches[partition] = _PartitionBatch(partition, self._producer.create_batch())
                if not batch.append(index, key_bytes, value, headers):
                    raise ValueError(
                        f"event {event.id} is larger than a whole batch ({MAX_BATCH_BYTES} bytes)"
                    )
        started = time.perf_counter()
        for batch in (*full, *open_batches.values()):
            try:
                delivery = await self._producer.send_batch(batch.builder, topic, partition=batch.partition)
            except KafkaError as exc:
                _fail(receipts, batch.members, BrokerUnavailable(f"Kafka refused the write: {exc}"))
                continue
            delivery.add_done_callback(partial(self._acknowledged, topic, started, batch, receipts))

    def _acknowledged(
        self,
        topic: str,
        started: float,
        batch: _PartitionBatch,
        receipts: Sequence[asyncio.Future[Receipt]],
        done: asyncio.Future[RecordMetadata],
    ) -> None:
        if done.cancelled() or done.exception() is not None:
            reason = "cancelled" if done.cancelled() else done.exception()
            _fail(receipts, batch.members, BrokerUnavailable(f"Kafka refused the write: {reason}"))
            return
        base = done.result().offset
        self._metrics.produced(topic, time.perf_counter() - started)
        for position, index in enumerate(batch.members):
            if not receipts[index].done():
                receipts[index].set_result(Receipt(topic, batch.partition, base + position))


def _fail(receipts: Sequence[asyncio.Future[Receipt]], members: list[int], error: Exception) -> None:
    for index in members:
        if not receipts[index].done():
            receipts[index].set_exception(error)


class _PartitionBatch:
    """Records bound for one partition, in one aiokafka batch, remembering whose they are."""

    def __init__(self, partition: int, builder: BatchBuilder) -> None:
        self.partition = partition
        self.builder = builder
        self.members: list[int] = []

    def append(self, index: int, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> bool:
        if self.builder.append(timestamp=None, key=key, value=value, headers=headers) is None:
            return False
        self.members.append(index)
        return True
