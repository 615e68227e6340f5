"""Reading a whole topic from the beginning with a plain consumer (no group, no commits).

Used to verify what was written (the demo's summary, the tests, the benchmarks), and by
the routing worker to replay its input up to where its consumer group resumes.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

Record: TypeAlias = ConsumerRecord[bytes, bytes]


async def assign_all(consumer: AIOKafkaConsumer, *names: str) -> list[TopicPartition]:
    """Assigns ``consumer`` every partition of the topics ``names`` (no group) and returns them;
    LookupError naming the topics the cluster does not have."""
    await consumer.topics()  # fetches the cluster metadata partitions_for_topic reads
    partitions = [
        TopicPartition(name, p) for name in names for p in sorted(consumer.partitions_for_topic(name) or ())
    ]
    missing = [name for name in names if not any(p.topic == name for p in partitions)]
    if missing:
        raise LookupError(f"topics {', '.join(missing)} do not exist: run 'pronto topics' first")
    consumer.assign(partitions)
    return partitions


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
        partitions = await assign_all(consumer, topic)
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


async def committed_offsets(
    bootstrap_servers: str, group_id: str, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """Where ``group_id`` will resume reading each partition: 0 where it never committed."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        return {tp: await consumer.committed(tp) or 0 for tp in partitions}
    finally:
        await consumer.stop()


def partition_reader(bootstrap_servers: str) -> AIOKafkaConsumer:
    """A consumer for reading assigned partitions through once: no group, no commits, short fetch
    waits, large fetches, and the oldest record kept when asked for one no longer there."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        auto_offset_reset="earliest",
    )


@contextlib.asynccontextmanager
async def _positioned(
    bootstrap_servers: str, partition: TopicPartition, start: int
) -> AsyncIterator[AIOKafkaConsumer]:
    """A reader of ``partition`` at offset ``start`` (or the oldest kept, if later)."""
    consumer = partition_reader(bootstrap_servers)
    await consumer.start()
    try:
        consumer.assign([partition])
        if start > 0:
            consumer.seek(partition, start)
        else:
            await consumer.seek_to_beginning(partition)
        yield consumer
    finally:
        await consumer.stop()


async def _batches(
    consumer: AIOKafkaConsumer, partition: TopicPartition, end: int, stalled_after: float
) -> AsyncIterator[list[Record]]:
    """Batches as fetched until the position reaches ``end``; TimeoutError when none came for
    ``stalled_after`` seconds."""
    last_progress = time.monotonic()
    while (position := await consumer.position(partition)) < end:
        if time.monotonic() - last_progress > stalled_after:
            raise TimeoutError(
                f"{partition} gave no record for {stalled_after:.0f} s at offset {position} of {end}"
            )
        batch = (await consumer.getmany(partition, timeout_ms=200, max_records=5_000)).get(partition, [])
        if batch:
            last_progress = time.monotonic()
            yield batch


async def read_until(
    bootstrap_servers: str,
    partition: TopicPartition,
    end: int,
    stalled_after: float = 60.0,
    start: int = 0,
) -> AsyncIterator[list[Record]]:
    """The records of ``partition`` from offset ``start`` (or the oldest kept, if later) up to
    offset ``end`` (excluded), in batches.

    ``end`` is an offset known to exist (a committed one), not the broker's
    reported end, which lags on the embedded broker. However long the partition,
    it gives up only when no record came for ``stalled_after`` seconds.
    """
    if end <= start:
        return
    async with _positioned(bootstrap_servers, partition, start) as consumer:
        async for batch in _batches(consumer, partition, end, stalled_after):
            if kept := [r for r in batch if r.offset < end]:
                yield kept


async def read_to_end(
    bootstrap_servers: str,
    partition: TopicPartition,
    start: int = 0,
    stalled_after: float = 60.0,
) -> AsyncIterator[list[Record]]:
    """The records of ``partition`` from offset ``start`` (or the oldest kept, if later) to its end as
    the broker reports it when the reading starts, in batches, with every record of the last batch.

    The embedded broker reports the start of its newest batch plus one as the end; a fetch returns
    whole batches, so taking once more what was fetched past that end gets the newest batch whole
    (``read_until`` stops at a given offset instead); records written meanwhile may come too.
    Gives up when no record came for ``stalled_after`` seconds before the end.
    """
    async with _positioned(bootstrap_servers, partition, start) as consumer:
        reported = (await consumer.end_offsets([partition]))[partition]
        async for batch in _batches(consumer, partition, reported, stalled_after):
            yield batch
        # The rest of the batch the reported end falls in: fetched already, or one short fetch away.
        while batch := (await consumer.getmany(partition, timeout_ms=50, max_records=5_000)).get(
            partition, []
        ):
            yield batch
