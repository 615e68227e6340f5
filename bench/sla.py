"""SLA benchmark: events/s through the SLA worker, breach lateness and memory with 100,000 open clocks.

Runs the real SLA worker (a separate process) on a fresh embedded broker.
50,000 e-mail conversations are opened (a first-response and a resolution
clock each: 100,000 open clocks) by writing customer messages to
support.inbound.v1 as fast as the producer can; the rate at which their
clocks come out started on support.sla.v1 is the events/s. Then 500
web chats with a 15-second target are opened (50 a second) and never answered: each
breach is timed from its deadline to the moment it is read back (the
lateness; ticks every second), once the 100,000 clocks are open. Memory per
open clock is the worker's resident memory after the fill minus before it,
over the clocks opened.

Beside it, in the same run: the raw broker round trip and raw
produce+consume throughput (aiokafka alone).

Targets: 2,000 events/s (the pipeline's rate; ratio over it), breaches
detected within 2 s of their deadline at p99, at most 2 KiB per open clock.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer, ConsumerRecord

from bench.common import Meter, Report, arguments, percentile_ms, progress
from bench.raw import LINGER_MS, consumer_from_start, prepared
from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import SlaService

TENANT = "bench-shop"
CHAT_TARGET_S = 15
# An Italian shop open around the clock but for Italian holidays: e-mail deadlines go through the
# business calendar's arithmetic, as a real shop's do.
POLICY = {
    TENANT: {
        "timezone": "Europe/Rome",
        "country": "IT",
        "response": {"web_chat": {"minutes": CHAT_TARGET_S / 60, "business": False}},
    }
}
CHAT_RATE = 50
TARGET_RATE = 2_000
TARGET_LATENESS_S = 2.0
TARGET_BYTES_PER_CLOCK = 2048


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no VmRSS for process {pid}")


async def _send(producer: AIOKafkaProducer, conversation_id: str, channel: int) -> None:
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id,
        channel=channel,  # type: ignore[arg-type]
        sender=common_pb2.Sender(id=f"customer-{conversation_id}"),
        text="Buongiorno, dov'è il mio ordine?",
    )
    headers, value = envelope.encode(
        Envelope(str(uuid.uuid4()), "/bench", TENANT, message, datetime.now(UTC))
    )
    await producer.send(topics.INBOUND.name, value, key=conversation_id.encode(), headers=headers)


async def measure(
    bootstrap_servers: str, sla: SlaService, conversations: int, chats: int
) -> dict[str, float]:
    assert sla.process is not None
    before = _rss_bytes(sla.process.pid)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=LINGER_MS, acks="all")
    await producer.start()
    consumer = await consumer_from_start(bootstrap_servers, topics.SLA.name)
    started_clocks = 0
    lateness: list[float] = []
    meter = Meter("clocks started", 2 * conversations)

    def read(records: list[ConsumerRecord[bytes, bytes]]) -> None:
        nonlocal started_clocks
        now = time.time()
        for record in records:
            payload = envelope.decode(record.headers, record.value).payload
            if isinstance(payload, events_pb2.SlaClockStarted):
                started_clocks += 1
                meter.add()
            elif isinstance(payload, events_pb2.SlaBreached):
                lateness.append(now - payload.deadline.ToDatetime(UTC).timestamp())

    async def until(done: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                read(records)

    try:
        began = time.perf_counter()
        for index in range(conversations):
            await _send(producer, f"mail-{index:06}", common_pb2.CHANNEL_EMAIL)
        await producer.flush()
        progress(f"{conversations:,} messages written in {time.perf_counter() - began:.1f} s")
        await until(lambda: started_clocks >= meter.total, timeout=600)
        rate = conversations / (time.perf_counter() - began)
        after = _rss_bytes(sla.process.pid)
        progress(f"{started_clocks:,} clocks open; now {chats} chats left unanswered, {CHAT_RATE} a second")
        for index in range(chats):
            await _send(producer, f"chat-{index:04}", common_pb2.CHANNEL_WEB_CHAT)
            await asyncio.sleep(1 / CHAT_RATE)
        await until(lambda: len(lateness) >= chats, timeout=CHAT_TARGET_S + 120)
    finally:
        await producer.stop()
        await consumer.stop()
    return {
        "input_events_per_s": rate,
        "open_clocks": 2 * conversations,
        "breaches_detected": len(lateness),
        "breach_lateness_p50_s": percentile_ms(lateness, 50) / 1000,
        "breach_lateness_p99_s": percentile_ms(lateness, 99) / 1000,
        "bytes_per_open_clock": (after - before) / max(1, started_clocks),
        "worker_rss_mb": after / 2**20,
    }


async def main() -> None:
    args = arguments(__doc__ or "")
    conversations = 10_000 if args.quick else 50_000
    chats = 200 if args.quick else 500
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-bench-sla-"))
    report = Report("sla")
    with EmbeddedBroker(log_path=run_dir / "broker.log") as broker:
        raw = await prepared(broker, run_dir, 200, 5)
        sla = SlaService(
            broker.bootstrap_servers,
            run_dir / "sla.log",
            env={"PRONTO_SLA_POLICIES": json.dumps(POLICY), "PRONTO_LOG_LEVEL": "WARNING"},
        )
        sla.start().wait_ready(timeout=120)
        try:
            figures = await measure(broker.bootstrap_servers, sla, conversations, chats)
        finally:
            sla.stop()
    progress(
        f"SLA: {figures['input_events_per_s']:,.0f} events/s, {figures['open_clocks']:,} clocks open, "
        f"breach lateness p99 {figures['breach_lateness_p99_s']:.2f} s, "
        f"{figures['bytes_per_open_clock']:,.0f} bytes per open clock"
    )
    report.figures = {k: round(v, 3) for k, v in figures.items()} | {"conversations": conversations + chats}
    report.baseline = {k: round(v, 2) for k, v in raw.items()}
    report.ratio("events_per_s_over_2000", figures["input_events_per_s"] / TARGET_RATE, target=1.0)
    report.ratio(
        "events_per_s_over_raw_produce_consume",
        figures["input_events_per_s"] / raw["raw_produce_consume_per_s"],
        target=TARGET_RATE / 50_000,
    )
    report.ratio(
        "breach_lateness_p99_over_2s", figures["breach_lateness_p99_s"] / TARGET_LATENESS_S, target=1.0
    )
    report.ratio(
        "bytes_per_clock_over_2KiB", figures["bytes_per_open_clock"] / TARGET_BYTES_PER_CLOCK, target=1.0
    )
    report.emit()


if __name__ == "__main__":
    asyncio.run(main())
