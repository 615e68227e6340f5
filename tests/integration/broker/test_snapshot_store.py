"""Which snapshot a restart loads, on the real broker (``pronto.kafka.snapshots.newest``)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer

from pronto import snapshots, topics
from pronto.kafka import snapshots as kafka_snapshots
from pronto_tools.broker.embedded import EmbeddedBroker

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


@contextlib.asynccontextmanager
async def store(broker: EmbeddedBroker, processor: str) -> AsyncIterator[Store]:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    try:
        yield Store(producer, processor)
    finally:
        await producer.stop()


@dataclass
class Store:
    """Writes records and snapshots of one processor to the snapshot topic's partition."""

    producer: AIOKafkaProducer
    processor: str

    async def send(self, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        await self.producer.send_and_wait(
            topics.SNAPSHOTS.name, value, key=key, partition=PARTITION, headers=headers
        )

    async def write(self, slot: int, next_offset: int, state_version: int = 1) -> None:
        data = snapshots.encode(
            {"applied": next_offset},
            processor=self.processor,
            partition=PARTITION,
            next_offset=next_offset,
            records=next_offset,
            state_version=state_version,
            schema="test",
        )
        await kafka_snapshots.write(self.send, self.processor, slot, str(uuid.uuid4()), data)


async def test_the_snapshot_covering_most_wins_and_malformed_chunks_are_reported(
    broker: EmbeddedBroker,
) -> None:
    processor = f"pronto-test-{uuid.uuid4()}"
    async with store(broker, processor) as written:
        await written.write(0, 100)
        # A chunk nobody can place, one without headers, and one whose key names no slot.
        await written.send(f"{processor}/1/0".encode(), b"?", [("snapshot", b"x"), ("chunk", b"two/three")])
        await written.send(f"{processor}/1/0".encode(), b"?", [])
        await written.send(f"{processor}/".encode(), b"?", [("snapshot", b"y"), ("chunk", b"0/1")])
        # A worker that lost the partition writes one more, older than its successor's.
        await written.write(1, 50)
    reported: list[str] = []

    assert await newest(broker, processor, reported) == (100, {"applied": 100}, 0)
    assert len(reported) == 3
    assert all("malformed" in reason for reason in reported)


async def test_an_unreadable_newest_falls_back_to_the_one_before(broker: EmbeddedBroker) -> None:
    processor = f"pronto-test-{uuid.uuid4()}"
    async with store(broker, processor) as written:
        await written.write(0, 10)
        await written.write(1, 20, state_version=2)  # from a version this code does not read
    reported: list[str] = []

    assert await newest(broker, processor, reported) == (10, {"applied": 10}, 0)
    assert len(reported) == 1
