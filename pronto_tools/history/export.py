"""``pronto history export``: chosen topics of a cluster, for a shop and a time range, into an archive.

The archive (``pronto_tools.history.archive``) is one a person can keep and move."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import TopicPartition

from pronto.kafka.reader import assign_all, partition_reader, read_to_end
from pronto_tools.history.archive import MANIFEST, ArchivedRecord, Manifest, TopicPart, selected, sha256_of


def prepare(out: Path) -> None:
    """Create ``out`` for an archive, refusing one that holds an archive already."""
    out.mkdir(parents=True, exist_ok=True)
    if (out / MANIFEST).exists():
        raise FileExistsError(f"{out} already holds an archive ({MANIFEST}); choose an empty directory")


async def export(
    bootstrap_servers: str,
    topic_names: Sequence[str],
    out: Path,
    *,
    tenant: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    say: Callable[[str], None] = print,
) -> Manifest:
    """Write every selected record of ``topic_names``, each partition read to its end as it is when
    the export gets there (``read_to_end``), into ``out``, a directory ``prepare`` made ready."""
    manifest = Manifest(
        bootstrap_servers, datetime.now(UTC).isoformat(timespec="seconds"), tenant, since_ms, until_ms
    )
    consumer = partition_reader(bootstrap_servers)
    await consumer.start()
    try:
        partitions = await assign_all(consumer, *topic_names)
        starts = await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    for name in topic_names:
        part = manifest.topics[name] = TopicPart(f"{name}.jsonl.gz")
        with gzip.open(out / part.file, "wb") as file:
            for tp in (tp for tp in partitions if tp.topic == name):
                await _export_partition(bootstrap_servers, tp, starts[tp], file, part, manifest)
        part.sha256 = sha256_of(out / part.file)
        say(f"  {name}: {part.records:,} records")
    (out / MANIFEST).write_text(manifest.dumps())
    return manifest


async def _export_partition(
    bootstrap_servers: str,
    tp: TopicPartition,
    start: int,
    file: gzip.GzipFile,
    part: TopicPart,
    manifest: Manifest,
) -> None:
    first: int | None = None
    end = start
    async for batch in read_to_end(bootstrap_servers, tp, start=start):
        for record in batch:
            end = record.offset + 1
            archived = ArchivedRecord(
                tp.partition,
                record.offset,
                record.timestamp,
                record.key,
                record.value,
                tuple((name, bytes(value)) for name, value in record.headers),
            )
            if not selected(archived, manifest.tenant, manifest.since_ms, manifest.until_ms):
                continue
            file.write(archived.line())
            part.records += 1
            first = record.offset if first is None else first
    if first is not None:
        part.partitions[tp.partition] = [first, end]
