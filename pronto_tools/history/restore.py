"""``pronto history import``: an archive's records written back to a cluster, as they were exported.

Each record goes to its topic and partition with its key, value, headers and timestamp, in the order they
were exported."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path

from aiokafka import AIOKafkaProducer

from pronto.kafka.reader import assign_all, partition_reader
from pronto_tools.errors import ArchiveError
from pronto_tools.history.archive import MANIFEST, ArchivedRecord, Manifest, sha256_of

PROGRESS_EVERY = 10_000


def read_archive(directory: Path) -> Manifest:
    """The archive's manifest, once every file it names is there with the checksum it records."""
    try:
        manifest = Manifest.loads((directory / MANIFEST).read_text())
    except FileNotFoundError as exc:
        raise ArchiveError(
            f"{directory} holds no {MANIFEST}: not an archive from 'pronto history export'"
        ) from exc
    for name, part in manifest.topics.items():
        path = directory / part.file
        if not path.exists():
            raise ArchiveError(f"{path} is missing ({name}, {part.records} records)")
        if sha256_of(path) != part.sha256:
            raise ArchiveError(f"{path} does not match its checksum in {MANIFEST}: changed or damaged")
    return manifest


def records(directory: Path, manifest: Manifest, topic: str) -> Iterator[ArchivedRecord]:
    with gzip.open(directory / manifest.topics[topic].file, "rb") as file:
        for line in file:
            yield ArchivedRecord.from_line(line)


async def restore(bootstrap_servers: str, directory: Path, say: Callable[[str], None] = print) -> int:
    """Write the archive in ``directory`` to the cluster; returns the records written. Nothing is
    written unless every file checks out and every topic exists with the partitions it needs."""
    manifest = read_archive(directory)
    consumer = partition_reader(bootstrap_servers)
    await consumer.start()
    try:
        have = await assign_all(consumer, *manifest.topics)
    except LookupError as exc:
        raise ArchiveError(str(exc)) from exc
    finally:
        await consumer.stop()
    for name, part in manifest.topics.items():
        lacking = set(part.partitions) - {tp.partition for tp in have if tp.topic == name}
        if lacking:
            raise ArchiveError(
                f"{name} has no partition {sorted(lacking)} here; create it as the source had it"
            )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=20)
    await producer.start()
    written = 0
    try:
        for name in manifest.topics:
            pending = []
            count = 0
            for record in records(directory, manifest, name):
                pending.append(
                    await producer.send(
                        name,
                        record.value,
                        key=record.key,
                        partition=record.partition,
                        timestamp_ms=record.timestamp_ms,
                        headers=list(record.headers),
                    )
                )
                written, count = written + 1, count + 1
                if written % PROGRESS_EVERY == 0:
                    # Acknowledged before more are queued: a month's topic is not held as futures.
                    for future in pending:
                        await future
                    pending.clear()
                    say(f"  {written:,} records written")
            for future in pending:
                await future
            say(f"  {name}: {count:,} records")
    finally:
        await producer.stop()
    return written
