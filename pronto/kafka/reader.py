"""Reading a whole topic from the beginning with a plain consumer (no group, no commits).

Used to verify what was written: by the demo's summary, the tests and the benchmarks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Record: TypeAlias = ConsumerRecord[bytes, bytes]


async def read_records(
    bootstrap_servers: str,
    topic: str,
    keep: Callable[[Record], bool] = lambda _record: True,
    expect: int = 0,
    timeout: float = 30.0,
    settle: float = 1.0,
) -> list[Record]:
    """Every record of ``topic`` that ``keep`` accepts.

    Reads until ``expect`` records were found, then ``settle`` seconds more so
    that records beyond the expected count (duplicates) show up too; or until
    ``timeout``. The count, not the end offset, decides when to stop: the
    embedded broker reports end offsets that lag what is readable.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False, fetch_max_wait_ms=50
    )
    await consumer.start()
    try:
        await consumer.topics()  # fetches the cluster metadata partitions_for_topic reads
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise LookupError(f"topic {topic} does not exist on {bootstrap_servers}")
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
            return str(value.decode())
    raise KeyError(f"record has no header {name!r}: {[k for k, _ in record.headers]}")
