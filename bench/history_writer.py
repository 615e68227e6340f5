"""Writes a shop's history where the services would have it, for ``bench.recovery`` to restart them on.

The history (``bench.shop_history``) is written in batches, snapshotted and committed.

``write_history`` produces every record where the services would have it: customers' messages,
operators' status and replies, routing's and SLA's decisions on their topics; routing's merge
copies on ``support.routing.v1``; SLA's ticks and the journals of SLA's and notify's direct folds
(``pronto.journal``, an entry per partition every ``JOURNAL_EVERY`` records, as batches would) on
their input topics. It keeps every partition's state as it was at ``snapshot_at`` and writes it as
the service would (``pronto.kafka.snapshots``), and commits each service's consumer group at the
end of every topic it reads, as a service that had handled it all would leave it.
"""

from __future__ import annotations

import itertools
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from bench.common import progress
from bench.shop_history import APP_IDS, DIRECT, INPUTS, READERS, SERVICES, ShopHistory
from pronto import snapshots, topics
from pronto.kafka import snapshots as kafka_snapshots


async def write_history(
    bootstrap_servers: str, history: ShopHistory, end: datetime, snapshot_at: datetime
) -> dict[str, int]:
    """Produce the history, snapshot it at ``snapshot_at``, commit at the end; returns the records
    written per topic."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, linger_ms=20, max_batch_size=1 << 20, acks=1
    )
    await producer.start()
    pending: list[Any] = []
    taken: dict[str, dict[int, Taken]] | None = None
    written: dict[str, int] = defaultdict(int)
    try:
        for at, record in itertools.chain(history.records(end), history.finish(end)):
            if taken is None and at >= snapshot_at:
                taken = _take(history)
            pending.append(
                await producer.send(
                    record.topic,
                    record.value,
                    key=record.key,
                    partition=record.partition,
                    headers=record.headers,
                )
            )
            written[record.topic] += 1
            if len(pending) >= 20_000:
                await _settle(pending)
                progress(f"history: {sum(written.values()):,} records written, shop time {at:%Y-%m-%d %H:%M}")
        await _settle(pending)
        for service in SERVICES:
            for partition, snapshot in (taken or _take(history))[service].items():
                await _snapshot(producer, history, service, partition, snapshot)
    finally:
        await producer.stop()
    await _commit(bootstrap_servers, history)
    return dict(written)


async def _settle(pending: list[Any]) -> None:
    for future in pending:
        await future
    pending.clear()


@dataclass(frozen=True)
class Taken:
    """A partition's state as it was, the input offset it covers, and the sources' (direct folds)."""

    pickled: bytes
    next_offset: int
    source_offsets: dict[str, int]
    records: int


def _take(history: ShopHistory) -> dict[str, dict[int, Taken]]:
    """Every partition's state as it is now, and the offsets it covers."""
    taken: dict[str, dict[int, Taken]] = {}
    for service in SERVICES:
        sources = [t for t, readers in READERS.items() if service in readers] if service in DIRECT else []
        taken[service] = {
            partition: Taken(
                snapshots.dump(state),
                history.offsets[INPUTS[service].name][partition],
                {topic: history.offsets[topic][partition] for topic in sources},
                history.applied[service][partition],
            )
            for partition, state in history.workers[service].partitions.items()
        }
    return taken


async def _snapshot(
    producer: AIOKafkaProducer, history: ShopHistory, service: str, partition: int, taken: Taken
) -> None:
    worker = history.workers[service]
    data = snapshots.frame(
        taken.pickled,
        processor=APP_IDS[service],
        partition=partition,
        next_offset=taken.next_offset,
        records=taken.records,
        state_version=worker.state_version,
        schema=worker.schema,
        source_offsets=taken.source_offsets,
    )

    async def send(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        await producer.send_and_wait(
            topics.SNAPSHOTS.name, value, key=key, partition=partition, headers=headers
        )

    await kafka_snapshots.write(send, APP_IDS[service], 0, str(uuid.uuid4()), data)


async def _commit(bootstrap_servers: str, history: ShopHistory) -> None:
    """Each service's group committed at the end of every topic it reads, as after handling all."""
    for service in SERVICES:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, group_id=APP_IDS[service], enable_auto_commit=False
        )
        await consumer.start()
        try:
            read = [INPUTS[service].name, *(t for t, readers in READERS.items() if service in readers)]
            offsets = {
                TopicPartition(topic, partition): OffsetAndMetadata(offset, "")
                for topic in read
                for partition, offset in history.offsets[topic].items()
            }
            consumer.assign(list(offsets))
            await consumer.commit(offsets)
        finally:
            await consumer.stop()
