"""Checks that an archive exported and imported into a fresh broker gives every record back byte for byte.

Every topic's records come back with their key, value, headers, timestamp, partition and order; a shop and
a time range select what they say, and a damaged archive writes nothing. Two real embedded brokers, the
real CLI."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from pronto import topics
from pronto.kafka.reader import read_records
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.cli import main

pytestmark = pytest.mark.integration

T0_MS = int(datetime(2026, 11, 30, tzinfo=UTC).timestamp() * 1000)
Row = tuple[int, int, bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]


@pytest.fixture
def source(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_path=tmp_path / "source.log") as broker:
        provision(broker.bootstrap_servers)
        yield broker


@pytest.fixture
def target(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(log_path=tmp_path / "target.log") as broker:
        provision(broker.bootstrap_servers)
        yield broker


def _records(topic: str, count: int) -> list[tuple[int, bytes | None, bytes, int, list[tuple[str, bytes]]]]:
    """Partition, key, value, timestamp and headers: binary values, repeated and empty headers, no key."""
    partitions = topics.by_name(topic).partitions
    return [
        (
            n % partitions,
            None if n % 7 == 0 else f"key-{n % 5}".encode(),
            bytes([n % 256, 0, 255]) + topic.encode() + n.to_bytes(4, "big"),
            T0_MS + n * 1000,
            [("ce_tenant", b"shop-a" if n % 2 else b"shop-b"), ("bin", bytes(range(n % 9))), ("bin", b"")],
        )
        for n in range(count)
    ]


async def _produce(servers: str, per_topic: dict[str, int]) -> None:
    """Each topic's records sent together, so that a partition's newest batch holds several (the
    embedded broker reports its start plus one as the partition's end: an export stopping there
    missed the rest of that batch)."""
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=50)
    await producer.start()
    try:
        for topic, count in per_topic.items():
            sent = [
                await producer.send(
                    topic, value, key=key, partition=partition, timestamp_ms=timestamp, headers=headers
                )
                for partition, key, value, timestamp, headers in _records(topic, count)
            ]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _rows(servers: str, topic: str, expect: int) -> dict[int, list[Row]]:
    rows: dict[int, list[Row]] = {}
    for r in await read_records(servers, topic, expect=expect, timeout=30, settle=0.3):
        rows.setdefault(r.partition, []).append(
            (r.offset, r.timestamp, r.key, r.value, tuple((k, bytes(v)) for k, v in r.headers))
        )
    return {p: sorted(found) for p, found in rows.items()}


def _without_offsets(rows: dict[int, list[Row]]) -> dict[int, list[tuple[object, ...]]]:
    return {p: [row[1:] for row in found] for p, found in rows.items()}


def _cli(*args: str) -> int:
    with pytest.raises(SystemExit) as ended:
        main(list(args))
    return int(ended.value.code or 0)


def test_every_topic_comes_back_byte_for_byte(
    source: EmbeddedBroker, target: EmbeddedBroker, tmp_path: Path
) -> None:
    per_topic = {spec.name: 12 + 3 * spec.partitions for spec in topics.ALL}
    asyncio.run(_produce(source.bootstrap_servers, per_topic))
    archive = tmp_path / "archive"

    assert (
        _cli(
            "history",
            "export",
            "--bootstrap-servers",
            source.bootstrap_servers,
            "--out",
            str(archive),
            "--topics",
            ",".join(per_topic),
        )
        == 0
    )
    assert _cli("history", "import", str(archive), "--bootstrap-servers", target.bootstrap_servers) == 0

    manifest = json.loads((archive / "manifest.json").read_text())
    for topic, count in per_topic.items():
        before = asyncio.run(_rows(source.bootstrap_servers, topic, count))
        after = asyncio.run(_rows(target.bootstrap_servers, topic, count))
        assert sum(map(len, before.values())) == count, topic
        assert _without_offsets(after) == _without_offsets(before), topic
        assert manifest["topics"][topic]["records"] == count
        spans = manifest["topics"][topic]["partitions"]
        assert {int(p): span for p, span in spans.items()} == {
            p: [found[0][0], found[-1][0] + 1] for p, found in before.items()
        }


def test_a_shop_and_a_time_range_choose_the_records(source: EmbeddedBroker, tmp_path: Path) -> None:
    topic = topics.INBOUND.name
    asyncio.run(_produce(source.bootstrap_servers, {topic: 40}))
    archive = tmp_path / "shop-a"

    code = _cli(
        "history", "export", "--bootstrap-servers", source.bootstrap_servers, "--out", str(archive),
        "--topics", topic, "--tenant", "shop-a", "--since", "2026-11-30T00:00:10+00:00", "--until",
        "2026-11-30T00:00:30Z",
    )  # fmt: skip

    assert code == 0
    with gzip.open(archive / f"{topic}.jsonl.gz") as file:
        kept = [json.loads(line) for line in file]
    wanted = [n for n in range(40) if n % 2 and 10 <= n < 30]  # shop-a, seconds 10 to 29
    assert sorted(row["t"] for row in kept) == [T0_MS + n * 1000 for n in wanted]


def test_a_damaged_archive_writes_nothing(
    source: EmbeddedBroker, target: EmbeddedBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = topics.OUTBOUND.name
    asyncio.run(_produce(source.bootstrap_servers, {topic: 10}))
    archive = tmp_path / "archive"
    assert (
        _cli(
            "history",
            "export",
            "--bootstrap-servers",
            source.bootstrap_servers,
            "--out",
            str(archive),
            "--topics",
            topic,
        )
        == 0
    )
    data = bytearray((archive / f"{topic}.jsonl.gz").read_bytes())
    data[-9] ^= 0xFF
    (archive / f"{topic}.jsonl.gz").write_bytes(bytes(data))

    assert _cli("history", "import", str(archive), "--bootstrap-servers", target.bootstrap_servers) == 1

    assert "does not match its checksum" in capsys.readouterr().err
    assert asyncio.run(read_records(target.bootstrap_servers, topic, timeout=1, settle=0)) == []


def test_an_archive_is_never_written_over(source: EmbeddedBroker, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    args = ("history", "export", "--bootstrap-servers", source.bootstrap_servers, "--out", str(archive))

    assert _cli(*args, "--topics", topics.SLA.name) == 0
    assert _cli(*args, "--topics", topics.SLA.name) == 1
