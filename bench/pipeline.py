"""Pipeline benchmark: messages/s through ingest, routing, SLA and notify; webhook-to-assignment latency.

Runs the whole system as in production (four service processes, pronto_tools.system) on a fresh
embedded broker, with a team of ten operators online who have room for every conversation
(and do not answer during the run, so that only customers' messages flow):

1. Latency on the fresh system: the traffic simulator sends customers' messages as the platforms'
   signed webhooks at 50/s for 30 s (10 s with --quick); for each message that started a
   conversation, the time from ingest answering the webhook to routing's assignment event being
   read back from Kafka.
2. Sustained throughput: N customer messages (new customers and some follow-ups, all channels
   and languages) published over gRPC as fast as ingest takes them; measured from the first one
   sent until the last stage finished: every conversation assigned (routing), its first-response
   clock started (SLA) and its customer told who answers (notify, over a signed webhook to an HTTP
   server in this process). messages/s = N / that time; each stage's own finish time is reported.
   What each message cost: CPU milliseconds per service (``/proc``; ``cpu_ms_per_message`` sums
   the four services, the broker's is reported beside), and the records written on all topics
   per message (their end offsets before and after).
3. The latency again, once notify's backlog is sent, with the N messages' history in the broker.

``BENCH_ENV`` (JSON, service -> variables) adds settings to the services, for comparing them:
``BENCH_ENV='{"sla": {"PRONTO_SLA_BATCH_WITHIN_MS": "10"}}'``.

Beside them, in the same run: the raw broker (aiokafka alone) round trip and produce+consume
throughput at the start, and again at the end with the services stopped (the embedded broker
slows down as its memory fills). Targets: 2,000 messages/s sustained, p99 latency under 250 ms,
at most 2.0 CPU ms and 6 records written per message.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.common import Meter, Report, arguments, percentile_ms, progress
from bench.raw import consumer_from_start, prepared, raw_baseline
from pronto import envelope, topics
from pronto.grpc_client import ProntoClient
from pronto.v1 import events_pb2, ingest_pb2
from pronto_tools.broker.embedded import EmbeddedBroker, free_port
from pronto_tools.simulate.customers import CHANNELS, Customers
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS, Simulation, SimulationOptions
from pronto_tools.system import System, TenantSetup

TENANT = "bench-shop"
TOKEN = "bench-token-0123456789abcdef"
TARGET_RATE = 2_000.0
TARGET_P99_MS = 250.0
# Issue #27's targets: across ingest, routing, SLA and notify (the broker reported apart), and on
# all topics together.
TARGET_CPU_MS_PER_MESSAGE = 2.0
TARGET_RECORDS_PER_MESSAGE = 6.0
OPERATORS = 10
CAPACITY = 1_000  # per operator and channel: nobody waits in a queue
NEVER_S = (3_600.0, 3_600.0)  # the team does not answer during the run
BATCH = 100
WINDOW = 10  # batches in flight on the stream
STALL_S = 60
# Steady webhooks for the latency: a rate this machine's pipeline sustains (notify, the slowest stage,
# told about 93 new conversations a second in the full run, see the README), so that the
# latency measured is not a growing queue's.
LATENCY_RATE = 50.0
# Open around the clock with four-hour targets: nobody answers during the run, and a storm of warnings
# and breaches (each a notification) would be another benchmark's load. Warnings seen are reported.
SHOP_POLICY = {
    "timezone": "Europe/Rome",
    "response": {c: {"minutes": 240, "business": False} for c in CHANNELS},
}


class Stages:
    """When each conversation was assigned and its clock started, read back from Kafka as it happens."""

    def __init__(self) -> None:
        self.assigned: dict[str, float] = {}  # trigger (message) event id -> when read
        self.assigned_conversations: set[str] = set()
        self.clocks: set[str] = set()
        self.warned = 0

    async def follow(self, bootstrap_servers: str) -> None:
        consumers = [
            await consumer_from_start(bootstrap_servers, topics.CONVERSATIONS.name),
            await consumer_from_start(bootstrap_servers, topics.SLA.name),
        ]
        try:
            while True:
                for consumer in consumers:
                    for records in (await consumer.getmany(timeout_ms=10, max_records=5_000)).values():
                        now = time.perf_counter()
                        for record in records:
                            self._saw(envelope.decode(record.headers, record.value).payload, now)
        finally:
            for consumer in consumers:
                await consumer.stop()

    def _saw(self, payload: object, now: float) -> None:
        if isinstance(payload, events_pb2.ConversationAssigned):
            self.assigned.setdefault(payload.trigger_event_id, now)
            self.assigned_conversations.add(payload.conversation_id)
        elif (
            isinstance(payload, events_pb2.SlaClockStarted)
            and payload.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
        ):
            self.clocks.add(payload.conversation_id)
        elif isinstance(payload, events_pb2.SlaWarning | events_pb2.SlaBreached):
            self.warned += 1


async def _publish(target: str, messages: list[events_pb2.MessageReceived]) -> float:
    """All of them over one PublishStream, WINDOW batches in flight; returns when the last was acked."""
    window = asyncio.Semaphore(WINDOW)
    meter = Meter("published over gRPC", len(messages))

    async def batches() -> AsyncIterator[ingest_pb2.PublishStreamRequest]:
        for first in range(0, len(messages), BATCH):
            await window.acquire()
            batch = ingest_pb2.PublishStreamRequest()
            for n in range(first, min(first + BATCH, len(messages))):
                batch.events.add(sequence=n, request=ingest_pb2.PublishRequest(message_received=messages[n]))
            yield batch

    refused = 0
    async with ProntoClient(target, TOKEN) as client:
        async for response in client.publish_stream(batches()):
            refused += sum(ack.code != 0 for ack in response.acks)
            meter.add(len(response.acks))
            window.release()
    if refused:
        raise RuntimeError(f"ingest refused {refused} messages")
    return time.perf_counter()


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(system: System, broker: EmbeddedBroker) -> dict[str, float]:
    used = {s.name: cpu_s(s.process.pid) for s in system.services if s.process is not None}
    if broker.pid is not None:
        used["broker"] = cpu_s(broker.pid)
    return used


async def records_in_topics(bootstrap_servers: str) -> dict[str, int]:
    """Records the broker holds on each Pronto topic (the sum of its partitions' end offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers)
    await consumer.start()
    try:
        await consumer.topics()
        partitions = [
            TopicPartition(t.name, p) for t in topics.ALL for p in consumer.partitions_for_topic(t.name) or ()
        ]
        held: dict[str, int] = {}
        for tp, end in (await consumer.end_offsets(partitions)).items():
            held[tp.topic] = held.get(tp.topic, 0) + end
        return held
    finally:
        await consumer.stop()


async def throughput(
    system: System, broker: EmbeddedBroker, simulation: Simulation, stages: Stages, count: int
) -> dict[str, float]:
    """The N messages as fast as the system takes them, and what each one cost: CPU per service
    (from /proc) and records written on all topics (end offsets before and after, read once the
    system is quiet again: the embedded broker's end offsets lag a little)."""
    customers = Customers(seed=4242)
    messages = [customers.next(time.time()).as_event() for _ in range(count)]
    conversations = {m.conversation_id for m in messages}
    told_before = simulation.inbox.by_kind["assigned"]
    progress(
        f"throughput: {count:,} messages, {len(conversations):,} conversations, as fast as ingest takes them"
    )
    records_before = await records_in_topics(broker.bootstrap_servers)
    cpu_before = cpu_now(system, broker)
    started = time.perf_counter()
    published = asyncio.create_task(_publish(system.ingest.grpc_target, messages))
    done: dict[str, float] = {}
    last: tuple[int, ...] = ()
    last_change, last_said = time.monotonic(), 0.0
    while len(done) < 3 or not published.done():
        await asyncio.sleep(0.02)
        if published.done() and published.exception() is not None:
            raise RuntimeError("publishing failed") from published.exception()
        now = {
            "routing": len(stages.assigned_conversations & conversations),
            "sla": len(stages.clocks & conversations),
            "notify": simulation.inbox.by_kind["assigned"] - told_before,
        }
        for stage, finished in now.items():
            if finished >= len(conversations):
                done.setdefault(stage, time.perf_counter())
        if tuple(now.values()) != last:
            last, last_change = tuple(now.values()), time.monotonic()
        elif time.monotonic() - last_change > STALL_S:
            raise TimeoutError(f"no progress for {STALL_S} s: {now} of {len(conversations):,}")
        if time.monotonic() - last_said >= 1:
            last_said = time.monotonic()
            progress("  " + "  ".join(f"{k} {v:,}" for k, v in now.items()) + f" of {len(conversations):,}")
    ingest_done = await published
    cpu_after = cpu_now(system, broker)
    await _quiet(simulation)
    records_after = await records_in_topics(broker.bootstrap_servers)
    cpu_ms = {
        f"cpu_ms_per_message_{name}": (cpu_after[name] - cpu_before[name]) * 1000 / count
        for name in cpu_after
    }
    progress("  CPU ms per message: " + ", ".join(f"{k[19:]} {v:.2f}" for k, v in cpu_ms.items()))
    written = {t: (records_after[t] - records_before.get(t, 0)) / count for t in records_after}
    progress("  records written per message: " + ", ".join(f"{t} {n:.2f}" for t, n in written.items() if n))
    return {
        **cpu_ms,
        "cpu_ms_per_message": sum(v for k, v in cpu_ms.items() if not k.endswith(("broker", "query"))),
        "records_written_per_message": sum(written.values()),
        "messages": count,
        "conversations": len(conversations),
        "sustained_messages_per_s": count / (max(done.values()) - started),
        "ingest_accepted_per_s": count / (ingest_done - started),
        **{f"{stage}_done_s": at - started for stage, at in done.items()},
    }


async def _quiet(simulation: Simulation, at_most_s: float = 60.0) -> None:
    """Until notify sent nothing for two seconds: its backlog does not weigh on the latency measured."""
    deadline = time.monotonic() + at_most_s
    before = -1
    while time.monotonic() < deadline and (now := simulation.inbox.by_recipient.total()) != before:
        before = now
        await asyncio.sleep(2)


async def latency(simulation: Simulation, stages: Stages, label: str) -> dict[str, float]:
    """Webhook accepted -> assignment read back, for the messages that started a conversation."""
    o = simulation.options
    accepted: dict[str, float] = {}
    simulation.on_accepted = lambda event_id, at: accepted.__setitem__(event_id, at)
    progress(f"latency {label}: webhooks at {o.rate:g}/s for {o.duration:g} s, every channel")
    await simulation.run()
    await asyncio.sleep(3)  # the last assignments
    measured = [stages.assigned[e] - t for e, t in accepted.items() if e in stages.assigned]
    progress(
        f"  {len(measured):,} assignments measured of {len(accepted):,} messages accepted: "
        f"p50 {percentile_ms(measured, 50):.0f} ms, p99 {percentile_ms(measured, 99):.0f} ms"
    )
    return {
        f"{label}_assignments_measured": float(len(measured)),
        f"{label}_accepted_to_assigned_p50_ms": percentile_ms(measured, 50),
        f"{label}_accepted_to_assigned_p99_ms": percentile_ms(measured, 99),
        f"{label}_webhook_ack_p99_ms": simulation.stats.percentile(99) * 1000,
    }


def service_env() -> dict[str, dict[str, str]]:
    """Routing never reassigns for silence (the team does not answer), and ``BENCH_ENV``'s settings."""
    env: dict[str, dict[str, str]] = {"routing": {"PRONTO_ROUTING_REPLY_WITHIN_S": "{}"}}
    for service, variables in json.loads(os.environ.get("BENCH_ENV", "{}")).items():
        env.setdefault(service, {}).update({name: str(value) for name, value in variables.items()})
    return env


async def main() -> None:
    args = arguments(__doc__ or "")
    count, seconds = (3_000, 10.0) if args.quick else (20_000, 30.0)
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-bench-pipeline-"))
    report = Report("pipeline")
    with EmbeddedBroker(log_path=run_dir / "broker.log") as broker:
        raw = await prepared(broker, run_dir, 200, 5 if args.quick else 10)
        options = SimulationOptions(
            grpc_target="",
            http_url="",
            tenant=TENANT,
            token=TOKEN,
            channel_secrets=DEMO_CHANNEL_SECRETS,
            rate=LATENCY_RATE,
            duration=seconds,
            operators=OPERATORS,
            capacity=CAPACITY,
            grpc_share=0.0,
            handling_s=NEVER_S,
            inbox_port=free_port(),
            a_break=False,
        )
        simulation = Simulation(options)
        shop = TenantSetup(
            TENANT,
            TOKEN,
            DEMO_CHANNEL_SECRETS,
            SHOP_POLICY,
            options.inbox_port,
            notify={"limit_count": 1_000_000},
        )
        system = System(broker.bootstrap_servers, run_dir, shop, env=service_env())
        progress("starting ingest, routing, SLA and notify ...")
        system.start()
        options.grpc_target, options.http_url = system.ingest.grpc_target, system.ingest.http_url
        stages = Stages()
        following = asyncio.create_task(stages.follow(broker.bootstrap_servers))
        try:
            async with simulation:
                figures = await latency(simulation, stages, "fresh")
                figures.update(await throughput(system, broker, simulation, stages, count))
                figures.update(await latency(simulation, stages, "after_load"))
            figures["sla_warnings_and_breaches"] = float(stages.warned)
        finally:
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
            system.stop()
        # The broker alone again, the services stopped as at the start: what its memory now costs.
        after = await raw_baseline(broker.bootstrap_servers, 200, 5, 5_000)
        progress(f"raw round trip after the load: p99 {after['raw_round_trip_p99_ms']:.1f} ms")
    report.figures = {k: round(v, 3) for k, v in figures.items()}
    report.baseline = {k: round(v, 3) for k, v in raw.items()}
    report.baseline.update({f"after_load_{k}": round(v, 3) for k, v in after.items()})
    rate_achieved = figures["sustained_messages_per_s"]
    report.ratio("sustained_vs_target", rate_achieved / TARGET_RATE, 1.0)
    # The same rate over what the broker alone moves: the target asks for TARGET_RATE / raw of it.
    raw_rate = raw["raw_produce_consume_per_s"]
    report.ratio("sustained_vs_raw", rate_achieved / raw_rate, round(TARGET_RATE / raw_rate, 3))
    report.ratio(
        "cpu_ms_per_message_vs_target", figures["cpu_ms_per_message"] / TARGET_CPU_MS_PER_MESSAGE, 1.0
    )
    report.ratio(
        "records_written_per_message_vs_target",
        figures["records_written_per_message"] / TARGET_RECORDS_PER_MESSAGE,
        1.0,
    )
    for label, broker_alone in (("fresh", raw), ("after_load", after)):
        p99 = figures[f"{label}_accepted_to_assigned_p99_ms"]
        report.ratio(f"{label}_p99_vs_target", p99 / TARGET_P99_MS, 1.0)
        round_trip = broker_alone["raw_round_trip_p99_ms"]
        report.ratio(f"{label}_p99_vs_raw_round_trip", p99 / round_trip, round(TARGET_P99_MS / round_trip, 3))
    progress(f"logs in {run_dir}")
    report.emit()


if __name__ == "__main__":
    asyncio.run(main())
