"""Reading what services wrote, with a plain aiokafka consumer (no consumer group)."""

from __future__ import annotations

import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Record = ConsumerRecord[bytes, bytes]


async def read_records(
    bootstrap_servers: str,
    topic: str,
    keep: Callable[[Record], bool],
    expect: int,
    timeout: float = 30.0,
    settle: float = 1.0,
) -> list[Record]:
    """Every record of ``topic`` that ``keep`` accepts, from the beginning.

    Reads until ``expect`` records were found, then ``settle`` seconds more so
    that duplicates beyond the expected count show up too; or until ``timeout``.
    The broker's reported end offsets can lag what is readable, so the count,
    not the end offset, decides when to stop.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    try:
        await consumer.topics()  # fetches the cluster metadata partitions_for_topic reads
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        assert partitions, f"topic {topic} does not exist"
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[Record] = []
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while time.monotonic() < (settle_until or deadline):
            batches = await consumer.getmany(timeout_ms=100, max_records=10_000)
            found += [r for records in batches.values() for r in records if keep(r)]
            if settle_until is None and len(found) >= expect:
                settle_until = min(deadline, time.monotonic() + settle)
        return found
    finally:
        await consumer.stop()


def header(record: Record, name: str) -> str:
    for key, value in record.headers:
        if key == name:
            return value.decode()
    raise KeyError(f"record has no header {name!r}: {[k for k, _ in record.headers]}")

