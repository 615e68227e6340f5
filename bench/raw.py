"""The raw broker baseline every stream benchmark measures in its own run: aiokafka alone."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.common import percentile_ms, progress
from pronto import topics
from pronto.topics import TopicSpec
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision

RAW_TOPIC = TopicSpec("bench.raw.v1", topics.INBOUND.partitions, "conversation id")
LINGER_MS = 5


async def prepared(broker: EmbeddedBroker, run_dir: Path, rate: int, seconds: float) -> dict[str, float]:
    """A fresh broker made ready for a benchmark: every topic provisioned (the raw one too), and the
    raw baseline measured and said."""
    provision(broker.bootstrap_servers, (*topics.ALL, RAW_TOPIC))
    progress(f"broker on {broker.bootstrap_servers}; logs in {run_dir}")
    raw = await raw_baseline(broker.bootstrap_servers, rate, seconds, 20_000)
    progress(
        f"raw round trip p50 {raw['raw_round_trip_p50_ms']:.1f} ms, "
        f"p99 {raw['raw_round_trip_p99_ms']:.1f} ms; "
        f"raw produce+consume {raw['raw_produce_consume_per_s']:,.0f}/s"
    )
    return raw


async def consumer_from_start(bootstrap_servers: str, topic: str) -> AIOKafkaConsumer:
    """A started consumer (no group) on every partition of ``topic``, from its beginning."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, fetch_max_wait_ms=20)
    await consumer.start()
    await consumer.topics()
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer


async def raw_baseline(bootstrap_servers: str, rate: int, seconds: float, bulk: int) -> dict[str, float]:
    """aiokafka produce -> consume round trip at ``rate``, and the throughput of ``bulk`` records."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=LINGER_MS, acks="all")
    await producer.start()
    consumer = await consumer_from_start(bootstrap_servers, RAW_TOPIC.name)
    sent: dict[bytes, float] = {}
    latencies: list[float] = []

    def arrived(key: bytes) -> bool:
        if key in sent:
            latencies.append(time.perf_counter() - sent.pop(key))
            return True
        return False

    async def read(wanted: int) -> None:
        deadline = time.monotonic() + 60
        while len(latencies) < wanted and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                for record in records:
                    arrived(record.key or b"")

    try:
        count = int(rate * seconds)
        reader = asyncio.create_task(read(count))
        for n in range(count):
            key = f"raw-{n}".encode()
            sent[key] = time.perf_counter()
            await producer.send(RAW_TOPIC.name, b"x" * 300, key=key)
            await asyncio.sleep(1 / rate)
        await reader
        p50, p99 = percentile_ms(latencies, 50), percentile_ms(latencies, 99)
        latencies.clear()
        started = time.perf_counter()
        reader = asyncio.create_task(read(bulk))
        for n in range(bulk):
            key = f"bulk-{n}".encode()
            sent[key] = started
            await producer.send(RAW_TOPIC.name, b"x" * 300, key=key)
        await reader
        throughput = len(latencies) / (time.perf_counter() - started)
    finally:
        await producer.stop()
        await consumer.stop()
    return {
        "raw_round_trip_p50_ms": p50,
        "raw_round_trip_p99_ms": p99,
        "raw_produce_consume_per_s": throughput,
    }
