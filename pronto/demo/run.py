"""``pronto demo``: the embedded broker, the services and demo traffic, with live progress.

Everything runs on loopback. It stops by itself after ``--duration`` seconds
(with a summary), or on Ctrl-C, stopping the services before the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import statistics
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from pronto import topics
from pronto.broker.embedded import EmbeddedBroker, free_port, port_is_free
from pronto.broker.provision import provision
from pronto.demo.inbox import DemoInbox
from pronto.demo.messages import MessageFactory
from pronto.demo.team import MEMBERS, ON_A_BREAK, DemoTeam
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import read_records
from pronto.processes import http_status
from pronto.services import IngestService, NotifyService, RoutingService, SlaService
from pronto.v1 import events_pb2, ingest_pb2
from services.ingest.grpc_api import MAX_STREAM_BATCH
from services.ingest.settings import DEVELOPMENT_TOKENS

DEMO_TENANT = next(iter(DEVELOPMENT_TOKENS))
DEMO_SLA_TOKEN = "demo-sla-token"
TEAM_NAMES = [name for _, name, _, _ in MEMBERS]
# The demo shop is Italian: open every day around the clock, closed on Italian public holidays (so a
# demo run at night still shows clocks moving). Its operators answer in seconds, not minutes, so its
# chat target is five seconds (instead of a minute) for some answers to come late; the rest are the
# defaults (e-mail 30 minutes...).
DEMO_SLA_POLICY = {
    "timezone": "Europe/Rome",
    "country": "IT",
    "hours": {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "response": {"web_chat": {"minutes": 5 / 60, "business": False}},
}
DEMO_TOKEN = DEVELOPMENT_TOKENS[DEMO_TENANT].get_secret_value()


@dataclass
class DemoOptions:
    duration: float | None = None
    rate: float = 50.0
    seed: int = 1
    broker_port: int = 9092
    grpc_port: int = 50051
    http_port: int = 8080
    routing_http_port: int = 8081
    sla_http_port: int = 8082
    notify_http_port: int = 8083
    inbox_port: int = 8090
    progress_every: float = 2.0


@dataclass
class TrafficStats:
    sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(q) - 1]


def _port(preferred: int) -> int:
    return preferred if port_is_free(preferred) else free_port()


def accepted_by_channel(metrics_text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "pronto_events_accepted":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    counts[sample.labels["channel"]] = int(sample.value)
    return counts


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:
        return str(response.read().decode())


TICK_S = 0.02


async def _paced(
    factory: MessageFactory, rate: float, stop: asyncio.Event, stats: TrafficStats, sent_at: dict[int, float]
) -> AsyncIterator[ingest_pb2.PublishStreamRequest]:
    """At every tick, one batch with the messages that fell due since the last one."""
    started = time.monotonic()
    sequence = 0
    while not stop.is_set():
        due = int((time.monotonic() - started) * rate)
        batch = ingest_pb2.PublishStreamRequest()
        while sequence < due and len(batch.events) < MAX_STREAM_BATCH:
            sequence += 1
            batch.events.add(
                sequence=sequence, request=ingest_pb2.PublishRequest(message_received=factory.next())
            )
            sent_at[sequence] = time.perf_counter()
        if batch.events:
            stats.sent += len(batch.events)
            yield batch
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK_S)


async def drive_traffic(
    client: ProntoClient, options: DemoOptions, stop: asyncio.Event, stats: TrafficStats
) -> None:
    """Send demo messages over one gRPC stream until ``stop``; count what ingest answered."""
    sent_at: dict[int, float] = {}
    requests = _paced(MessageFactory(seed=options.seed), options.rate, stop, stats, sent_at)
    async for response in client.publish_stream(requests):
        for ack in response.acks:
            stats.latencies.append(time.perf_counter() - sent_at.pop(ack.sequence))
            if ack.code == 0:
                stats.accepted += 1
                stats.duplicates += ack.duplicate
            else:
                stats.refused[ack.message.split(":")[0]] += 1


async def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> TrafficStats:
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-demo-"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Ctrl-C, kill, and a closed terminal all stop it the same way: services first, then the broker.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)

    broker = EmbeddedBroker(port=_port(options.broker_port), log_path=run_dir / "broker.log")
    say(f"starting the embedded broker (Tansu) on {broker.bootstrap_servers} ...")
    broker.start()
    stats = TrafficStats()
    ingest = IngestService(
        broker.bootstrap_servers,
        run_dir / "ingest.log",
        grpc_port=_port(options.grpc_port),
        http_port=_port(options.http_port),
        env={"PRONTO_KAFKA_IDEMPOTENT": "false", "PRONTO_ENVIRONMENT": "development"},
    )
    routing = RoutingService(
        broker.bootstrap_servers,
        run_dir / "routing.log",
        http_port=_port(options.routing_http_port),
        env={"PRONTO_ROUTING_WIDEN_AFTER_S": "[20, 40, 60]"},
    )
    sla = SlaService(
        broker.bootstrap_servers,
        run_dir / "sla.log",
        http_port=_port(options.sla_http_port),
        env={"PRONTO_SLA_POLICIES": json.dumps({DEMO_TENANT: DEMO_SLA_POLICY})},
    )
    inbox = DemoInbox()
    await inbox.start(_port(options.inbox_port))
    notify = NotifyService(
        broker.bootstrap_servers,
        run_dir / "notify.log",
        http_port=_port(options.notify_http_port),
        env={
            "PRONTO_KAFKA_IDEMPOTENT": "false",
            "PRONTO_NOTIFY_SHOPS": json.dumps({DEMO_TENANT: inbox.shop_config("Europe/Rome")}),
            "PRONTO_NOTIFY_JOURNAL": str(run_dir / "notify-delivered.journal"),
        },
    )
    services = (ingest, routing, sla, notify)
    try:
        provision(broker.bootstrap_servers, log=lambda line: say(f"  topic {line}"))
        say("starting ingest, routing, SLA and notify ...")
        for service in services:
            service.start()
        for service in services:
            service.wait_ready(timeout=60)
        _announce(say, broker, ingest, routing, sla, notify, inbox, run_dir, options)
        started = time.monotonic()
        async with ProntoClient(ingest.grpc_target, DEMO_TOKEN) as client:
            team = DemoTeam(client, seed=options.seed)
            await team.come_online()
            working = asyncio.create_task(team.work(broker.bootstrap_servers, stop))
            breaks = asyncio.create_task(_a_break(team, options, stop, say))
            traffic = asyncio.create_task(drive_traffic(client, options, stop, stats))
            await _report_progress(say, services, team, inbox, stats, stop, started, options)
            stop.set()
            await asyncio.wait({working, breaks}, timeout=10)
            # The stream ends once ingest answered what was sent; with the broker gone that is bounded by
            # ingest's acknowledgement timeout, so a short wait is enough before giving up on the rest.
            done, _ = await asyncio.wait({traffic}, timeout=15)
            if not done:
                traffic.cancel()
                say("some messages were still unanswered when the demo stopped")
            await inbox.settle(say, team.counts["ConversationAssigned"])
        elapsed = time.monotonic() - started
        try:
            stored = len(
                await read_records(
                    broker.bootstrap_servers,
                    topics.INBOUND.name,
                    expect=stats.accepted,
                    timeout=10,
                    settle=0.5,
                )
            )
        except Exception as exc:  # the broker may be what failed; the summary still says what is known
            say(f"could not count the stored records: {exc}")
            stored = -1
        _summarise(say, stats, elapsed, stored, accepted_by_channel(_scrape(f"{ingest.http_url}/metrics")))
        _summarise_routing(say, team, queue_length(_scrape(f"{routing.http_url}/metrics")))
        _summarise_sla(say, first_responses(_scrape(f"{sla.http_url}/metrics")))
        _summarise_notify(say, inbox)
    finally:
        say("stopping the services and the broker ...")
        for service in reversed(services):
            service.stop()
        await inbox.stop()
        broker.stop()
        say(f"stopped. Logs are in {run_dir}")
    return stats


def _announce(
    say: Callable[[str], None],
    broker: EmbeddedBroker,
    ingest: IngestService,
    routing: RoutingService,
    sla: SlaService,
    notify: NotifyService,
    inbox: DemoInbox,
    run_dir: Path,
    options: DemoOptions,
) -> None:
    say("")
    say("Pronto is running:")
    kcat = f"scripts/kcat -b {broker.bootstrap_servers} -L"
    say(f"  Kafka (embedded)   {broker.bootstrap_servers}   e.g. {kcat}")
    say(f"  ingest gRPC        {ingest.grpc_target}   tenant {DEMO_TENANT!r}, token {DEMO_TOKEN!r}")
    if ingest.grpc_port != options.grpc_port or ingest.http_port != options.http_port:
        say(
            f"  (ports {options.grpc_port}/{options.http_port} were taken; for the CLI: "
            f"export PRONTO_INGEST_TARGET={ingest.grpc_target})"
        )
    say(f"  ingest metrics     {ingest.http_url}/metrics   (health: /healthz, readiness: /readyz)")
    say(f"  operator REST API  {ingest.http_url}/v1/...   (OpenAPI: {ingest.http_url}/docs)")
    say(f"  routing metrics    {routing.http_url}/metrics")
    say(f"  SLA metrics        {sla.http_url}/metrics")
    say(
        f"  SLA windows        curl -H 'authorization: Bearer {DEMO_SLA_TOKEN}' {sla.http_url}/v1/sla/windows"
    )
    say(f"  notify metrics     {notify.http_url}/metrics")
    say(f"  the shop's inbox   http://127.0.0.1:{inbox.port}   (receives what notify sends everyone)")
    say(f"  logs               {run_dir}")
    say(f"  team               {len(TEAM_NAMES)} operators online: {', '.join(TEAM_NAMES)}")
    until = f"for {options.duration:g} s" if options.duration else "until Ctrl-C"
    say(f"sending about {options.rate:g} customer messages/s over gRPC {until}")
    say("")


async def _a_break(
    team: DemoTeam, options: DemoOptions, stop: asyncio.Event, say: Callable[[str], None]
) -> None:
    """One operator goes away for a while: their open conversations go to colleagues."""
    total = options.duration or 90.0
    for at_fraction, status, reason in (
        (0.4, events_pb2.OPERATOR_STATUS_AWAY, "coffee break"),
        (0.7, events_pb2.OPERATOR_STATUS_ONLINE, "back from the break"),
    ):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                stop.wait(), max(0.0, total * at_fraction - (time.monotonic() - team.started))
            )
            return
        await team.status(ON_A_BREAK, status, reason)
        say(f"{ON_A_BREAK}: {reason}")


def queue_length(metrics_text: str) -> int:
    return int(
        sum(
            sample.value
            for family in text_string_to_metric_families(metrics_text)
            if family.name == "pronto_routing_queue_length"
            for sample in family.samples
        )
    )


def first_responses(metrics_text: str) -> dict[str, Counter[str]]:
    """Channel -> first-response outcomes (met, missed, breached...) from the SLA service's metrics."""
    by_channel: dict[str, Counter[str]] = {}
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "pronto_sla_outcomes":
            for sample in family.samples:
                labels = sample.labels
                if sample.name.endswith("_total") and labels["metric"] == "first_response":
                    by_channel.setdefault(labels["channel"], Counter())[labels["outcome"]] += int(
                        sample.value
                    )
    return by_channel


def _compliance(outcomes: Counter[str]) -> str:
    answered = outcomes["met"] + outcomes["breached"]
    return f"{outcomes['met'] / answered:.0%}" if answered else "-"


async def _report_progress(
    say: Callable[[str], None],
    services: tuple[IngestService, RoutingService, SlaService, NotifyService],
    team: DemoTeam,
    inbox: DemoInbox,
    stats: TrafficStats,
    stop: asyncio.Event,
    started: float,
    options: DemoOptions,
) -> None:
    while not stop.is_set():
        remaining = (
            (started + options.duration - time.monotonic()) if options.duration else options.progress_every
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, min(options.progress_every, remaining)))
        ingest, routing, sla, _ = services
        if http_status(ingest.ready_url) != 200:
            say("ingest is not ready (broker unreachable?)")
        elapsed = time.monotonic() - started
        queued = queue_length(await asyncio.to_thread(_scrape, f"{routing.http_url}/metrics"))
        say(
            f"[{elapsed:6.1f} s] sent {stats.sent}  accepted {stats.accepted}"
            f"  refused {sum(stats.refused.values())}  ack p99 {stats.percentile(99) * 1000:.1f} ms"
            f"  | assigned {team.counts['ConversationAssigned']}  waiting {queued}"
            f"  reassigned {team.counts['ConversationReassigned']}  resolved {team.counts['resolved']}"
        )
        sla_text = await asyncio.to_thread(_scrape, f"{sla.http_url}/metrics")
        total = sum(first_responses(sla_text).values(), Counter())
        say(
            f"{'':10}SLA first response: {_compliance(total)} in time, {total['breached']} breached"
            f"  | {inbox.line()}"
        )
        if options.duration and elapsed >= options.duration:
            return


def _summarise_routing(say: Callable[[str], None], team: DemoTeam, waiting: int) -> None:
    counts = team.counts
    say(
        f"  routing             {counts['ConversationAssigned']} assigned, "
        f"{counts['ConversationQueued']} queued (on arrival or taken back), "
        f"{counts['ConversationReassigned']} reassigned, {counts['ConversationWidened']} widened"
    )
    say(f"  operators           {counts['resolved']} conversations resolved; {waiting} waiting at the end")


def _summarise_sla(say: Callable[[str], None], by_channel: dict[str, Counter[str]]) -> None:
    figures = ", ".join(
        f"{channel} {_compliance(outcomes)} ({outcomes['breached']} breached)"
        for channel, outcomes in sorted(by_channel.items())
    )
    say(f"  first response      in time by channel: {figures or 'no responses yet'}")


def _summarise_notify(say: Callable[[str], None], inbox: DemoInbox) -> None:
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(inbox.by_kind.items()))
    say(f"  notify              {inbox.line()}; {kinds or 'nothing yet'}")
    if inbox.badly_signed:
        say(f"  notify              {inbox.badly_signed} webhooks with a bad signature (refused)")
    if inbox.last_customer_text:
        say(f"  last customer told  {inbox.last_customer_text}")


def _summarise(
    say: Callable[[str], None], stats: TrafficStats, elapsed: float, stored: int, by_channel: dict[str, int]
) -> None:
    say("")
    say(f"Summary after {elapsed:.1f} s")
    say(f"  messages sent       {stats.sent}")
    say(f"  accepted            {stats.accepted} ({stats.accepted / max(elapsed, 1e-9):.1f}/s)")
    say(f"  refused             {dict(stats.refused) or 0}")
    p50, p99 = stats.percentile(50) * 1000, stats.percentile(99) * 1000
    say(f"  ack latency         p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    verdict = {
        stored == stats.accepted: "  (every accepted event stored, once)",
        stored > stats.accepted: "  (more than accepted: some written twice)",
        0 <= stored < stats.accepted: "  (MISSING RECORDS)",
        stored < 0: "  (not counted)",
    }[True]
    say(f"  records in {topics.INBOUND.name}: {stored}{verdict}")
    unanswered = stats.sent - stats.accepted - sum(stats.refused.values())
    if unanswered:
        say(f"  unanswered          {unanswered} (sent, but no acknowledgement before the demo stopped)")
    say("  accepted by channel " + ", ".join(f"{k} {v}" for k, v in sorted(by_channel.items())))
