"""Snapshots on Kafka: written in chunks to ``support.snapshots.v1``, the newest readable one found.

The topic has as many partitions as the services' input topics: the snapshot
of input partition ``p`` lives in partition ``p``, keyed
``<processor>/<slot>/<chunk>``. Each processor alternates between two slots,
so a compacted topic always keeps its two newest snapshots: when the newest
cannot be read, the one before it still can (input topics retain more than
two snapshot intervals). Chunks keep each record far below the broker's
record size limit.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import TopicPartition

from pronto import snapshots
from pronto.errors import SnapshotError
from pronto.kafka.reader import partition_reader
from pronto.v1 import snapshot_pb2

Send = Callable[[bytes, bytes, list[tuple[str, bytes]]], Awaitable[None]]
# Complete snapshots of one processor kept in memory while its partition is read, newest last.
KEEP = 3


@dataclass(frozen=True)
class Found:
    """A readable snapshot: its frame (offsets, counts) and the state it holds."""

    frame: snapshot_pb2.PartitionSnapshot
    state: object
    # The slot it was written to: the next snapshot goes to the other one, so this one stays.
    slot: int


def key(processor: str, slot: int, chunk: int) -> bytes:
    return f"{processor}/{slot}/{chunk}".encode()


async def write(send: Send, processor: str, slot: int, snapshot_id: str, data: bytes) -> int:
    """Write one snapshot as chunks, each acknowledged before the next; return the chunk count."""
    pieces = snapshots.chunks(data)
    for index, piece in enumerate(pieces):
        headers = [("snapshot", snapshot_id.encode()), ("chunk", f"{index}/{len(pieces)}".encode())]
        await send(key(processor, slot, index), piece, headers)
    return len(pieces)


async def newest(
    bootstrap_servers: str,
    topic: str,
    partition: int,
    processor: str,
    *,
    state_version: int,
    schema: str,
    unreadable: Callable[[str], None],
    timeout_s: float = 60.0,
) -> Found | None:
    """The newest snapshot of ``processor`` for ``partition`` that can be read, or None.

    Newest by the input offset it covers, not by its place in the log: a worker that lost its
    partition may still write one more snapshot, older than its successor's. Each one that cannot
    be read (corrupt, unknown schema, malformed chunks) is reported through ``unreadable`` with
    the reason, and the one before it is tried.
    """
    tp = TopicPartition(topic, partition)
    frames: list[tuple[int, snapshot_pb2.PartitionSnapshot]] = []
    for slot, data in await _complete(bootstrap_servers, tp, processor, timeout_s, unreadable):
        try:
            frame = snapshots.read_header(data)
            if frame.processor != processor or frame.partition != partition:
                raise SnapshotError(f"{frame.processor}'s partition {frame.partition} under this key")
        except SnapshotError as exc:
            unreadable(str(exc))
            continue
        frames.append((slot, frame))
    # Of two covering the same offset, the one written later comes first.
    ordered = sorted(enumerate(frames), key=lambda found: (found[1][1].next_offset, found[0]), reverse=True)
    for _, (slot, frame) in ordered:
        try:
            state = await asyncio.to_thread(
                snapshots.decode, frame, state_version=state_version, schema=schema
            )
        except SnapshotError as exc:
            unreadable(str(exc))
            continue
        return Found(frame, state, slot)
    return None


async def _complete(
    bootstrap_servers: str,
    tp: TopicPartition,
    processor: str,
    timeout_s: float,
    unreadable: Callable[[str], None],
) -> list[tuple[int, bytes]]:
    """The slots and bytes of the whole snapshots of ``processor`` in ``tp``, newest last (at most
    ``KEEP``). A chunk whose key or headers do not say where it belongs is reported and skipped."""
    consumer = partition_reader(bootstrap_servers)
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        prefix = f"{processor}/".encode()
        parts: dict[bytes, dict[int, bytes]] = {}
        complete: list[tuple[int, bytes]] = []
        deadline = time.monotonic() + timeout_s
        while await consumer.position(tp) < end:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading the snapshots in {tp} took over {timeout_s:.0f} s")
            batch = (await consumer.getmany(tp, timeout_ms=200, max_records=1_000)).get(tp, [])
            for record in batch:
                key = record.key or b""
                if not key.startswith(prefix):
                    continue
                headers = dict(record.headers)
                try:
                    slot = int(key.split(b"/")[-2])
                    index_text, _, count_text = headers["chunk"].decode().partition("/")
                    index, count = int(index_text), int(count_text)
                    if not 0 <= index < count:
                        raise ValueError(f"chunk {index} of {count}")
                    snapshot_id = headers["snapshot"]
                except (KeyError, ValueError, IndexError, UnicodeDecodeError) as exc:
                    unreadable(f"a snapshot chunk at offset {record.offset} of {tp} is malformed: {exc!r}")
                    continue
                pieces = parts.setdefault(snapshot_id, {})
                pieces[index] = record.value or b""
                if len(pieces) == count:
                    complete.append((slot, b"".join(pieces[i] for i in range(count))))
                    complete = complete[-KEEP:]
                    del parts[snapshot_id]
        return complete
    finally:
        await consumer.stop()
