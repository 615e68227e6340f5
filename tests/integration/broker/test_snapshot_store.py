"""Which snapshot a restart loads, on the real broker (``pronto.kafka.snapshots.newest``)."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer

from pronto import snapshots, topics
from pronto.broker.embedded import EmbeddedBroker
from pronto.kafka import snapshots as kafka_snapshots

pytestmark = pytest.mark.integration

PARTITION = 3


async def newest(broker: EmbeddedBroker, processor: str, reported: list[str]) -> object:
    found = await kafka_snapshots.newest(
        broker.bootstrap_servers,
        topics.SNAPSHOTS.name,
        PARTITION,
        processor,
        state_version=1,
        schema="test",
        unreadable=reported.append,
        timeout_s=20,
    )
    return None if found is None else (found.frame.next_offset, found.state, found.slot)


async def test_the_snapshot_covering_most_wins_and_malformed_chunks_are_reported(
    broker: EmbeddedBroker,
) -> None:
    processor = f"pronto-test-{uuid.uuid4()}"
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()

    async def send(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        await producer.send_and_wait(
            topics.SNAPSHOTS.name, value, key=key, partition=PARTITION, headers=headers
        )

    async def write(slot: int, next_offset: int) -> None:
        data = snapshots.encode(
            {"applied": next_offset},
            processor=processor,
            partition=PARTITION,
            next_offset=next_offset,
            records=next_offset,
            state_version=1,
            schema="test",
        )
        await kafka_snapshots.write(send, processor, slot, str(uuid.uuid4()), data)

    try:
        await write(0, 100)
        # A chunk nobody can place, one without headers, and one whose key names no slot.
        await send(f"{processor}/1/0".encode(), b"?", [("snapshot", b"x"), ("chunk", b"two/three")])
        await send(f"{processor}/1/0".encode(), b"?", [])
        await send(f"{processor}/".encode(), b"?", [("snapshot", b"y"), ("chunk", b"0/1")])
        # A worker that lost the partition writes one more, older than its successor's.
        await write(1, 50)
        reported: list[str] = []

        assert await newest(broker, processor, reported) == (100, {"applied": 100}, 0)
        assert len(reported) == 3
        assert all("malformed" in reason for reason in reported)
    finally:
        await producer.stop()


async def test_an_unreadable_newest_falls_back_to_the_one_before(broker: EmbeddedBroker) -> None:
    processor = f"pronto-test-{uuid.uuid4()}"
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()

    async def send(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        await producer.send_and_wait(
            topics.SNAPSHOTS.name, value, key=key, partition=PARTITION, headers=headers
        )

    try:
        older = snapshots.encode(
            {"applied": 10},
            processor=processor,
            partition=PARTITION,
            next_offset=10,
            records=10,
            state_version=1,
            schema="test",
        )
        await kafka_snapshots.write(send, processor, 0, str(uuid.uuid4()), older)
        newer = snapshots.encode(
            {"applied": 20},
            processor=processor,
            partition=PARTITION,
            next_offset=20,
            records=20,
            state_version=2,  # from a version this code does not read
            schema="test",
        )
        await kafka_snapshots.write(send, processor, 1, str(uuid.uuid4()), newer)
        reported: list[str] = []

        assert await newest(broker, processor, reported) == (10, {"applied": 10}, 0)
        assert len(reported) == 1
    finally:
        await producer.stop()
