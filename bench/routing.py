"""Routing benchmark: decisions/s and assignment latency with 1,000 operators and 10,000 open conversations.

Runs the real routing worker (a separate process) on a fresh embedded broker.
1,000 operators come online (5 languages, chat and e-mail capacity), then
10,000 customer messages are written to support.inbound.v1 as fast as the
producer can: the rate at which assignments come out of
support.conversations.v1 is the decisions/s. With those 10,000 conversations
open, more messages arrive at a steady rate and each one's latency is timed
from its write to its ConversationAssigned read back (p50, p99): two Faust
hops, the re-keying by tenant and the decision.

Beside it, in the same run: the raw broker round trip (aiokafka produce ->
consume, same rate, same linger) and the raw produce+consume throughput.

Targets: 2,000 decisions/s and p99 under 250 ms (the whole pipeline's targets,
which routing alone must meet); p99 within 10x the raw round trip (DESIGN.md
measured one Faust hop at 3-4x the raw p99; routing is two).

First, apart from Faust and the broker, the pure decision (issue #20): one
shop's routing state in this process with the same 1,000 operators and 10,000
open conversations, then conversations decided one at a time, each timed
alone: the decision read from the index (``TenantRouting.decide``, target p99
at most 0.2 ms), the whole arrival with its bookkeeping (``arrive``, the index
kept up to date), and the scan the index replaced over the same state.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from google.protobuf.message import Message

from bench.common import Meter, Report, arguments, percentile_ms, progress
from bench.raw import LINGER_MS, consumer_from_start, prepared
from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import RoutingService
from services.routing.domain.decision import FALLBACK_LANGUAGE, Assign, Level, decide
from services.routing.domain.model import Conversation, Operator, Status
from services.routing.domain.tenant import TenantRouting

TENANT = "bench-shop"
LANGUAGES = ("it", "pl", "en", "de", "es")
TARGET_RATE = 2_000
TARGET_P99_MS = 250.0
TARGET_PURE_P99_MS = 0.2


def _message(conversation_id: str, index: int) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation_id,
        channel=common_pb2.CHANNEL_WEB_CHAT if index % 2 else common_pb2.CHANNEL_EMAIL,
        channel_message_id=conversation_id,
        sender=common_pb2.Sender(id=f"customer-{conversation_id}"),
        text="Buongiorno, dov'è il mio ordine?",
        language=LANGUAGES[index % len(LANGUAGES)],
    )


def _operators(count: int) -> list[Message]:
    """`count` operators online, plus one Japanese speaker who never comes online.

    The offline "ja-desk" makes Japanese servable in principle, so a Japanese customer waits in
    the queue for them (routing only skips widening steps nobody could ever serve): the backlog
    phase measures queueing, not an immediate fallback to English.
    """
    events: list[Message] = [
        events_pb2.OperatorProfileUpdated(
            operator_id="ja-desk",
            display_name="Japanese desk (offline)",
            languages=[events_pb2.LanguageSkill(language="ja", proficiency=5)],
            capacities=[
                events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=5),
                events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_EMAIL, max_concurrent=5),
            ],
        )
    ]
    for n in range(count):
        operator_id = f"op-{n:04}"
        languages = {LANGUAGES[n % len(LANGUAGES)], "en"}
        events.append(
            events_pb2.OperatorProfileUpdated(
                operator_id=operator_id,
                display_name=f"Operator {n}",
                languages=[
                    events_pb2.LanguageSkill(language=lang, proficiency=4) for lang in sorted(languages)
                ],
                capacities=[
                    events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=10),
                    events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_EMAIL, max_concurrent=20),
                ],
            )
        )
        events.append(
            events_pb2.OperatorStatusChanged(
                operator_id=operator_id, status=events_pb2.OPERATOR_STATUS_ONLINE
            )
        )
    return events


def _pure_conversation(index: int, now: datetime) -> Conversation:
    return Conversation(
        id=f"pure-{index:06}",
        channel="web_chat" if index % 2 else "email",
        language=LANGUAGES[index % len(LANGUAGES)],
        customer_id=f"customer-{index}",
        waiting_since=now,
    )


def _scan(shop: TenantRouting, conversation: Conversation, now: datetime) -> object:
    """The decision as it was made before the index: every speaker of the language, scanned."""
    ids = dict(shop.speakers.get(conversation.language, {}))
    if conversation.level >= Level.FALLBACK_LANGUAGE:
        ids |= shop.speakers.get(FALLBACK_LANGUAGE, {})
    return decide(conversation, [shop.operators[i] for i in ids], now, True, shop.rules)


def pure(operators: int, fill: int, timed: int) -> dict[str, float]:
    """One shop's decisions in this process, no Faust, no broker: each timed alone (ms)."""
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    shop = TenantRouting()
    for n in range(operators):
        shop.operator_changed(
            Operator(
                id=f"op-{n:04}",
                display_name=f"Operator {n}",
                languages={LANGUAGES[n % len(LANGUAGES)]: 4, "en": 4},
                topics=frozenset(),
                capacities={"web_chat": 10, "email": 20},
                status=Status.ONLINE,
            ),
            now,
        )
    for index in range(fill):
        shop.arrive(_pure_conversation(index, now), now + timedelta(milliseconds=index))
    progress(f"pure: {operators:,} operators, {len(shop.assigned):,} open conversations")

    decisions: list[float] = []
    # The same decisions in this thread's CPU time: what the machine's other processes (it is
    # shared) add to the wall clock by taking the CPU mid-decision is left out.
    cpu: list[float] = []
    arrivals: list[float] = []
    scans: list[float] = []
    considered: list[int] = []
    clock, thread_clock = time.perf_counter, time.thread_time
    gc.collect()
    for index in range(fill, fill + timed):
        moment = now + timedelta(milliseconds=index)
        conversation = _pure_conversation(index, moment)
        started, started_cpu = clock(), thread_clock()
        decision = shop.decide(conversation, moment)
        cpu.append(thread_clock() - started_cpu)
        decisions.append(clock() - started)
        started = clock()
        _scan(shop, conversation, moment)
        scans.append(clock() - started)
        started = clock()
        shop.arrive(conversation, moment)
        arrivals.append(clock() - started)
        assert isinstance(decision, Assign), decision
        considered.append(decision.considered)
        # Keep the number of open conversations: the oldest one is resolved (not timed).
        shop.finished(f"pure-{index - fill:06}", moment)
    figures = {
        "pure_decision_p50_ms": percentile_ms(decisions, 50),
        "pure_decision_p99_ms": percentile_ms(decisions, 99),
        "pure_decision_mean_ms": statistics.fmean(decisions) * 1000,
        "pure_decision_cpu_p99_ms": percentile_ms(cpu, 99),
        "pure_arrival_p99_ms": percentile_ms(arrivals, 99),
        "pure_arrival_mean_ms": statistics.fmean(arrivals) * 1000,
        "pure_scan_p99_ms": percentile_ms(scans, 99),
        "pure_scan_mean_ms": statistics.fmean(scans) * 1000,
        "pure_considered_mean": statistics.fmean(considered),
        "pure_decisions_timed": timed,
        "pure_open_conversations": len(shop.assigned),
    }
    progress(
        "pure: decision p50 {pure_decision_p50_ms:.4f} ms, p99 {pure_decision_p99_ms:.4f} ms "
        "(CPU time p99 {pure_decision_cpu_p99_ms:.4f} ms); arrival p99 {pure_arrival_p99_ms:.4f} ms; "
        "the old scan p99 {pure_scan_p99_ms:.4f} ms".format(**figures)
    )
    return figures


async def _send(producer: AIOKafkaProducer, topic: str, key: str, payload: Message) -> None:
    event = Envelope(str(uuid.uuid4()), "/bench", TENANT, payload, datetime.now(UTC))
    headers, value = envelope.encode(event)
    await producer.send(topic, value, key=key.encode(), headers=headers)


async def _collect(
    consumer: AIOKafkaConsumer, wanted: int, on_record: Callable[[bytes, Envelope], bool], timeout: float
) -> int:
    """Read until ``on_record`` accepted ``wanted`` records or ``timeout`` passed; returns how many."""
    found = 0
    deadline = time.monotonic() + timeout
    while found < wanted and time.monotonic() < deadline:
        for records in (await consumer.getmany(timeout_ms=100)).values():
            for record in records:
                if on_record(record.key or b"", envelope.decode(record.headers, record.value)):
                    found += 1
    return found


def _metrics_text(base_url: str) -> str:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as response:
        return str(response.read().decode())


async def wait_online(routing: RoutingService, operators: int, timeout: float = 120) -> None:
    """Until routing's own metrics count every operator online."""
    deadline = time.monotonic() + timeout
    line = f'pronto_routing_operators_online{{tenant="{TENANT}"}} {float(operators)}'
    while time.monotonic() < deadline:
        if line in await asyncio.to_thread(_metrics_text, routing.http_url):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"routing did not count {operators} operators online within {timeout:.0f} s")


async def measure(
    bootstrap_servers: str,
    routing: RoutingService,
    operators: int,
    fill: int,
    timed: int,
    rate: int,
    backlog: int,
) -> dict[str, float]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=LINGER_MS, acks="all")
    await producer.start()
    consumer = await consumer_from_start(bootstrap_servers, topics.CONVERSATIONS.name)
    try:
        for payload in _operators(operators):
            await _send(producer, topics.OPERATORS.name, payload.operator_id, payload)  # type: ignore[attr-defined]
        await producer.flush()
        await wait_online(routing, operators)
        progress(f"{operators:,} operators online")

        sent: dict[str, float] = {}
        latencies: list[float] = []
        unassigned: list[str] = []

        def assigned(_key: bytes, event: Envelope) -> bool:
            payload = event.payload
            if isinstance(payload, events_pb2.ConversationQueued):
                unassigned.append(payload.conversation_id)
            if isinstance(payload, events_pb2.ConversationAssigned) and payload.conversation_id in sent:
                latencies.append(time.perf_counter() - sent.pop(payload.conversation_id))
                meter.add()
                return True
            return False

        ids = (f"conv-{n:06}" for n in itertools.count())
        meter = Meter("fill: assignments", fill)
        started = time.perf_counter()
        for index in range(fill):
            conversation_id = next(ids)
            sent[conversation_id] = time.perf_counter()
            await _send(producer, topics.INBOUND.name, conversation_id, _message(conversation_id, index))
        await producer.flush()
        done = await _collect(consumer, fill, assigned, timeout=300)
        elapsed = time.perf_counter() - started
        decisions = done / elapsed
        progress(
            f"fill: {done:,} assignments in {elapsed:.1f} s = {decisions:,.0f}/s ({len(unassigned)} queued)"
        )

        latencies.clear()
        meter = Meter("timed: assignments", timed)
        reader = asyncio.create_task(_collect(consumer, timed, assigned, timeout=120))
        for index in range(timed):
            conversation_id = next(ids)
            sent[conversation_id] = time.perf_counter()
            await _send(producer, topics.INBOUND.name, conversation_id, _message(conversation_id, index))
            await asyncio.sleep(1 / rate)
        await reader

        # A backlog: customers writing Japanese wait for the offline ja-desk (widening comes after minutes).
        queued_before = len(unassigned)
        started = time.perf_counter()
        for index in range(backlog):
            conversation_id = next(ids)
            message = _message(conversation_id, index)
            message.language = "ja"
            await _send(producer, topics.INBOUND.name, conversation_id, message)
        await producer.flush()
        meter = Meter("backlog: queued", backlog)

        def queued(_key: bytes, event: Envelope) -> bool:
            if isinstance(event.payload, events_pb2.ConversationQueued):
                unassigned.append(event.payload.conversation_id)
                meter.add()
                return True
            return False

        await _collect(consumer, backlog, queued, timeout=300)
        queued_rate = (len(unassigned) - queued_before) / (time.perf_counter() - started)
        progress(f"backlog: {len(unassigned) - queued_before:,} queued at {queued_rate:,.0f}/s")
    finally:
        await producer.stop()
        await consumer.stop()
    return {
        "queue_decisions_per_s": queued_rate,
        "backlog": len(unassigned) - queued_before,
        "decisions_per_s": decisions,
        "fill_assigned": done,
        "timed_assigned": len(latencies),
        "assign_p50_ms": percentile_ms(latencies, 50),
        "assign_p99_ms": percentile_ms(latencies, 99),
        "queued_instead": queued_before,
    }


async def main() -> None:
    args = arguments(__doc__ or "")
    operators = 1_000
    fill = 3_000 if args.quick else 10_000
    timed, rate = (600, 100) if args.quick else (2_000, 100)
    backlog = 1_000 if args.quick else 5_000
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-bench-routing-"))
    report = Report("routing")
    # The pure decision with 10,000 open conversations even with --quick: it takes seconds.
    decisions = pure(operators, 10_000, 2_000 if args.quick else 10_000)
    with EmbeddedBroker(log_path=run_dir / "broker.log") as broker:
        raw = await prepared(broker, run_dir, rate, timed / rate / 2)
        routing = RoutingService(
            broker.bootstrap_servers,
            run_dir / "routing.log",
            env={"PRONTO_ROUTING_REPLY_WITHIN_S": "{}", "PRONTO_LOG_LEVEL": "WARNING"},
        )
        routing.start().wait_ready(timeout=120)
        try:
            figures = await measure(broker.bootstrap_servers, routing, operators, fill, timed, rate, backlog)
        finally:
            routing.stop()
    progress(
        f"routing: {figures['decisions_per_s']:,.0f} decisions/s; at {rate}/s with {fill:,} open: "
        f"p50 {figures['assign_p50_ms']:.1f} ms, p99 {figures['assign_p99_ms']:.1f} ms"
    )
    report.figures = (
        {k: round(v, 2) for k, v in figures.items()}
        | {k: round(v, 4) for k, v in decisions.items()}
        | {"operators": operators, "open_conversations": fill, "timed_rate_per_s": rate}
    )
    report.baseline = {k: round(v, 2) for k, v in raw.items()}
    report.ratio("decisions_per_s_over_2000", figures["decisions_per_s"] / TARGET_RATE, target=1.0)
    report.ratio(
        "queue_decisions_per_s_over_2000", figures["queue_decisions_per_s"] / TARGET_RATE, target=1.0
    )
    report.ratio("assign_p99_over_250ms", figures["assign_p99_ms"] / TARGET_P99_MS, target=1.0)
    report.ratio(
        "pure_decision_p99_over_0.2ms", decisions["pure_decision_p99_ms"] / TARGET_PURE_P99_MS, target=1.0
    )
    report.ratio(
        "pure_decision_cpu_p99_over_0.2ms",
        decisions["pure_decision_cpu_p99_ms"] / TARGET_PURE_P99_MS,
        target=1.0,
    )
    report.ratio(
        "assign_p99_over_raw_p99", figures["assign_p99_ms"] / raw["raw_round_trip_p99_ms"], target=10.0
    )
    report.emit()


if __name__ == "__main__":
    asyncio.run(main())
