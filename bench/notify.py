"""Notify benchmark: notifications/s end to end through the webhook adapter, against the events/s it consumes.

Runs the real notify service (a separate process) on a fresh embedded broker,
with every customer and operator reached by a signed webhook served by an
HTTP receiver in this process. N customers write first (notify learns who they
are); then N assignments are written as fast as the producer can. Each
assignment is two notifications (the customer's "you are talking with", the
operator's "new conversation"). Measured from the first assignment written:

- input events/s: assignments consumed and decided (their requests read back
  from support.notifications.v1);
- notifications/s: webhook requests answered by the receiver;
- their ratio: 2.0 means delivery keeps pace with what the service consumes.

Then, at a steady 100 assignments a second, each notification's latency from
its assignment being written to the receiver getting it. Beside it, in the
same run: the raw broker round trip and raw produce+consume throughput.

Targets: 2,000 notifications/s (the pipeline's rate), delivery keeping pace
(ratio 2.0 notifications per input event), p99 latency under 1 s.
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

from aiohttp import web
from aiokafka import AIOKafkaProducer

from bench.common import Meter, Report, arguments, percentile_ms, progress
from bench.raw import LINGER_MS, consumer_from_start, prepared
from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker, free_port
from pronto_tools.services import NotifyService

TENANT = "bench-shop"
SECRET = "bench-notify-secret-0123"
STEADY_RATE = 100
TARGET_RATE = 2_000
TARGET_P99_S = 1.0
# A run that stops delivering ends instead of waiting out its timeout; "delivered" says how many came.
STALL_S = 30


class Receiver:
    """Counts the webhook requests it answers, and when each conversation's arrived."""

    def __init__(self) -> None:
        self.count = 0
        self.arrived: dict[str, list[float]] = {}

    async def handle(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.count += 1
        self.arrived.setdefault(body["conversation_id"], []).append(time.perf_counter())
        return web.Response(text="ok")


async def _write(producer: AIOKafkaProducer, topic: str, conversation: str, payload: object) -> None:
    event = Envelope(str(uuid.uuid4()), "/bench", TENANT, payload, datetime.now(UTC))  # type: ignore[arg-type]
    headers, value = envelope.encode(event)
    await producer.send(topic, value, key=conversation.encode(), headers=headers)


def _message(conversation: str) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=common_pb2.CHANNEL_WEB_CHAT,
        sender=common_pb2.Sender(id=f"visitor-{conversation}", display_name="Giulia Rossi"),
        language="it",
        text="Buongiorno, dov'è il mio ordine?",
    )


def _assigned(conversation: str, n: int) -> events_pb2.ConversationAssigned:
    return events_pb2.ConversationAssigned(
        conversation_id=conversation, operator_id=f"op-{n % 50}", operator_display_name=f"Operatore {n % 50}"
    )


async def measure(
    bootstrap_servers: str, receiver: Receiver, conversations: int, steady: int
) -> dict[str, float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=LINGER_MS, acks="all")
    await producer.start()
    consumer = await consumer_from_start(bootstrap_servers, topics.NOTIFICATIONS.name)
    requested = 0
    last_requested = 0.0

    async def until(done: Callable[[], bool], timeout: float) -> None:
        nonlocal requested, last_requested
        deadline = time.monotonic() + timeout
        meter = Meter("notifications delivered", 2 * conversations)
        progressed, last = time.monotonic(), receiver.count
        while not done() and time.monotonic() < deadline:
            if receiver.count != last:
                progressed, last = time.monotonic(), receiver.count
            elif time.monotonic() - progressed > STALL_S:
                progress(f"nothing delivered for {STALL_S} s: stopping with {receiver.count:,} delivered")
                return
            for records in (await consumer.getmany(timeout_ms=50)).values():
                for record in records:
                    if envelope.decode(record.headers, record.value).type.endswith("NotificationRequested"):
                        requested += 1
                        last_requested = time.perf_counter()
            meter.add(min(receiver.count, meter.total) - meter.done)

    try:
        names = [f"bench-{n:06}" for n in range(conversations)]
        for name in names:
            await _write(producer, topics.INBOUND.name, name, _message(name))
        await producer.flush()
        progress(f"{conversations:,} customers wrote; now {conversations:,} assignments as fast as they go")
        await asyncio.sleep(3)
        began = time.perf_counter()
        for n, name in enumerate(names):
            await _write(producer, topics.CONVERSATIONS.name, name, _assigned(name, n))
        await producer.flush()
        await until(lambda: receiver.count >= 2 * conversations, timeout=600)
        delivered_s = time.perf_counter() - began
        decided_s = last_requested - began

        progress(f"now {steady} more at a steady {STEADY_RATE} a second, each timed")
        steady_names = [f"steady-{n:05}" for n in range(steady)]
        for name in steady_names:
            await _write(producer, topics.INBOUND.name, name, _message(name))
        await producer.flush()
        await asyncio.sleep(3)
        written: dict[str, float] = {}
        for n, name in enumerate(steady_names):
            await _write(producer, topics.CONVERSATIONS.name, name, _assigned(name, n))
            written[name] = time.perf_counter()
            await asyncio.sleep(1 / STEADY_RATE)
        total = 2 * (conversations + steady)
        await until(lambda: receiver.count >= total, timeout=120)
    finally:
        await producer.stop()
        await consumer.stop()
    latencies = [t - written[name] for name in steady_names for t in receiver.arrived.get(name, [])]
    return {
        "input_events_per_s": conversations / decided_s,
        "notifications_per_s": 2 * conversations / delivered_s,
        "delivered": receiver.count,
        "latency_p50_s": percentile_ms(latencies, 50) / 1000,
        "latency_p99_s": percentile_ms(latencies, 99) / 1000,
    }


async def main() -> None:
    args = arguments(__doc__ or "")
    conversations = 3_000 if args.quick else 20_000
    steady = 500 if args.quick else 2_000
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-bench-notify-"))
    report = Report("notify")
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    hook = {"url": f"http://127.0.0.1:{port}/hook", "secret": SECRET}
    shop = {"customer_webhooks": {"*": hook}, "operator_default": {"webhook": hook}, "limit_count": 10**9}
    try:
        with EmbeddedBroker(log_path=run_dir / "broker.log") as broker:
            raw = await prepared(broker, run_dir, 200, 5)
            notify = NotifyService(
                broker.bootstrap_servers,
                run_dir / "notify.log",
                env={
                    "PRONTO_KAFKA_IDEMPOTENT": "false",
                    "PRONTO_NOTIFY_SHOPS": json.dumps({TENANT: shop}),
                    "PRONTO_NOTIFY_JOURNAL": str(run_dir / "journal"),
                    "PRONTO_LOG_LEVEL": "WARNING",
                },
            )
            notify.start().wait_ready(timeout=120)
            try:
                figures = await measure(broker.bootstrap_servers, receiver, conversations, steady)
            finally:
                notify.stop()
    finally:
        await runner.cleanup()
    progress(
        f"notify: {figures['notifications_per_s']:,.0f} notifications/s for "
        f"{figures['input_events_per_s']:,.0f} input events/s; latency p99 {figures['latency_p99_s']:.3f} s"
    )
    report.figures = {k: round(v, 3) for k, v in figures.items()} | {"conversations": conversations + steady}
    report.baseline = {k: round(v, 2) for k, v in raw.items()}
    report.ratio("notifications_per_s_over_2000", figures["notifications_per_s"] / TARGET_RATE, target=1.0)
    report.ratio(
        "notifications_per_input_event_per_s",
        figures["notifications_per_s"] / figures["input_events_per_s"],
        target=2.0,
    )
    report.ratio(
        "notifications_per_s_over_raw_produce_consume",
        figures["notifications_per_s"] / raw["raw_produce_consume_per_s"],
        target=TARGET_RATE / 50_000,
    )
    report.ratio("latency_p99_over_1s", figures["latency_p99_s"] / TARGET_P99_S, target=1.0)
    report.emit()


if __name__ == "__main__":
    asyncio.run(main())
