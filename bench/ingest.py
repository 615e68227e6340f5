"""Ingest benchmark: events/s over one gRPC PublishStream against the raw aiokafka producer.

Both run in this process against a fresh embedded broker; ingest runs as its
own process, as in production. The stream keeps a fixed number of events in
flight (closed loop), so the acknowledgement latency is measured at that load.

    python -m bench.ingest [--quick]

Targets: gRPC events/s at least 50% of the raw producer's, with p99
acknowledgement latency under 50 ms. The web chat webhook (signed JSON over
HTTP, one message per request, answered after the broker's ack) is measured
with 32 keep-alive connections against 2,000 requests/s at p99 under 50 ms,
the rate the whole pipeline is to sustain.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.common import Meter, Report, arguments, percentile_ms, progress
from bench.http_load import LoadResult, run_load
from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.grpc_client import ProntoClient
from pronto.topics import TopicSpec
from pronto.v1 import ingest_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.services import IngestService
from pronto_tools.simulate.customers import Customers
from services.ingest.settings import DEVELOPMENT_TOKENS

IN_FLIGHT = 500
# Events per stream message; each event is still acknowledged on its own.
BATCH = 100
P99_TARGET_MS = 50.0


RAW_TOPIC = TopicSpec("bench.raw.v1", topics.INBOUND.partitions, "conversation id")


async def raw_producer_rate(bootstrap_servers: str, count: int) -> float:
    """The ceiling: aiokafka sending the same records (acks=all), no gRPC, no validation.

    It writes to a topic of its own, shaped like the inbound topic, so that
    neither measurement pays for the records of the other (the embedded
    broker slows down as partitions grow).
    """
    customers = Customers(seed=99)
    records = []
    for n in range(count):
        message = customers.next(time.time()).as_event()
        event = Envelope(f"raw-{n}", "/bench", "demo-shop", message, datetime.now(UTC), "")
        records.append((message.conversation_id.encode(), *envelope.encode(event)))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=2)
    await producer.start()
    meter = Meter("raw aiokafka producer", count)
    try:
        window = asyncio.Semaphore(IN_FLIGHT * 8)

        def done(_: object) -> None:
            window.release()
            meter.add()

        started = time.perf_counter()
        futures = []
        for key, headers, value in records:
            await window.acquire()
            future = await producer.send(RAW_TOPIC.name, value, key=key, headers=headers)
            future.add_done_callback(done)
            futures.append(future)
        await asyncio.gather(*futures)
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def grpc_stream(target: str, token: str, count: int, seed: int) -> tuple[float, list[float], int, int]:
    """Events/s, acknowledgement latencies, failures and duplicates over one PublishStream.

    IN_FLIGHT events are kept outstanding. Each ``seed`` makes other message ids, so that no
    event of a run is a duplicate of an earlier run's (which ingest would answer from memory).
    """
    customers = Customers(seed=seed)
    batches = []
    for first in range(0, count, BATCH):
        batch = ingest_pb2.PublishStreamRequest()
        for n in range(first, min(first + BATCH, count)):
            batch.events.add(
                sequence=n,
                request=ingest_pb2.PublishRequest(message_received=customers.next(time.time()).as_event()),
            )
        batches.append(batch)
    window = asyncio.Semaphore(IN_FLIGHT // BATCH)
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    failures = duplicates = 0
    meter = Meter("gRPC PublishStream", count)

    async def send() -> AsyncIterator[ingest_pb2.PublishStreamRequest]:
        for batch in batches:
            await window.acquire()
            sent_at[batch.events[0].sequence] = time.perf_counter()
            yield batch

    async with ProntoClient(target, token) as client:
        started = time.perf_counter()
        async for response in client.publish_stream(send()):
            latency = time.perf_counter() - sent_at.pop(response.acks[0].sequence)
            latencies += [latency] * len(response.acks)
            failures += sum(ack.code != 0 for ack in response.acks)
            duplicates += sum(ack.duplicate for ack in response.acks)
            window.release()
            meter.add(len(response.acks))
        elapsed = time.perf_counter() - started
    return count / elapsed, latencies, failures, duplicates


SHOP_KEY = "bench-shop-key"
HTTP_CONNECTIONS = 32
HTTP_TARGET_RATE = 2_000.0


async def chat_webhook_load(port: int, duration_s: float) -> LoadResult:
    """Signed web chat messages, each with its own id, posted as fast as 32 connections allow."""
    counter = itertools.count()

    def request() -> bytes:
        n = next(counter)
        body = json.dumps(
            {
                "session_id": f"bench-session-{n % 5_000}",
                "message_id": f"bench-{n}",
                "text": "Buongiorno, il mio ordine non è ancora arrivato. Potete verificare?",
                "visitor": {"id": f"bench-visitor-{n % 5_000}", "name": "Giulia Rossi"},
            }
        ).encode()
        signature = "sha256=" + hmac.new(SHOP_KEY.encode(), body, hashlib.sha256).hexdigest()
        head = (
            "POST /webhooks/bench-shop/chat HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\n"
            f"X-Pronto-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body

    return await run_load("127.0.0.1", port, request, HTTP_CONNECTIONS, duration_s, "chat webhook")


async def main() -> None:
    args = arguments(__doc__ or "")
    count = 20_000 if args.quick else 100_000
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-bench-ingest-"))
    report = Report("ingest")
    with EmbeddedBroker(log_path=run_dir / "broker.log") as broker:
        provision(broker.bootstrap_servers, (*topics.ALL, RAW_TOPIC))
        progress(f"broker on {broker.bootstrap_servers}; {count:,} events per measurement; logs in {run_dir}")
        raw = await raw_producer_rate(broker.bootstrap_servers, count)
        progress(f"raw producer: {raw:,.0f} events/s")
        ingest = IngestService(
            broker.bootstrap_servers,
            run_dir / "ingest.log",
            env={
                "PRONTO_KAFKA_IDEMPOTENT": "false",
                "PRONTO_INGEST_CHANNELS": json.dumps({"bench-shop": {"shop_key": SHOP_KEY}}),
            },
        )
        ingest.start().wait_ready()
        try:
            token = DEVELOPMENT_TOKENS["demo-shop"].get_secret_value()
            await grpc_stream(ingest.grpc_target, token, min(count, 5_000), seed=8)  # warm-up
            rate, latencies, failures, duplicates = await grpc_stream(
                ingest.grpc_target, token, count, seed=7
            )
            http = await chat_webhook_load(ingest.http_port, 5 if args.quick else 15)
        finally:
            ingest.stop()
    p50, p99 = percentile_ms(latencies, 50), percentile_ms(latencies, 99)
    progress(f"gRPC stream: {rate:,.0f} events/s, ack p50 {p50:.1f} ms, p99 {p99:.1f} ms, {failures} failed")
    report.figures = {
        "grpc_stream_events_per_s": round(rate),
        "grpc_ack_p50_ms": round(p50, 2),
        "grpc_ack_p99_ms": round(p99, 2),
        "grpc_failed_events": failures,
        "grpc_duplicate_acks": duplicates,
        "in_flight": IN_FLIGHT,
        "batch": BATCH,
        "events": count,
    }
    http_p50, http_p99 = percentile_ms(http.latencies, 50), percentile_ms(http.latencies, 99)
    progress(f"chat webhook: {http.rate:,.0f} requests/s, p50 {http_p50:.1f} ms, p99 {http_p99:.1f} ms")
    progress(f"chat webhook answers by status: {dict(http.statuses)}")
    report.figures |= {
        "http_chat_requests_per_s": round(http.rate),
        "http_chat_p50_ms": round(http_p50, 2),
        "http_chat_p99_ms": round(http_p99, 2),
        "http_chat_non_200": sum(n for status, n in http.statuses.items() if status != 200),
        "http_connections": HTTP_CONNECTIONS,
    }
    report.baseline = {"raw_producer_events_per_s": round(raw)}
    report.ratio("http_chat_over_2000_requests_per_s", http.rate / HTTP_TARGET_RATE, target=1.0)
    report.ratio("http_chat_p99_over_50ms", http_p99 / P99_TARGET_MS, target=1.0)
    report.ratio("grpc_over_raw_events_per_s", rate / raw, target=0.5)
    report.ratio("grpc_ack_p99_over_50ms", p99 / P99_TARGET_MS, target=1.0)
    report.emit()


if __name__ == "__main__":
    asyncio.run(main())
