"""What the demo prints: where everything listens, a progress line every few seconds, the summary."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pronto import topics
from pronto.healthcheck import http_status
from pronto.v1 import events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.demo.figures import (
    QUEUE_LENGTH,
    compliance,
    decisions,
    first_responses,
    gauge,
    read_models,
    scrape,
)
from pronto_tools.demo.settings import (
    CONSOLE_OPERATOR_TOKEN,
    DEMO_QUERY_TOKEN,
    DEMO_SLA_POLICY,
    DEMO_SLA_TOKEN,
    DEMO_TENANT,
    DEMO_TOKEN,
    DemoOptions,
)
from pronto_tools.services import IngestService, NotifyService, QueryService, RoutingService, SlaService
from pronto_tools.simulate.customers import CHANNELS
from pronto_tools.simulate.inbox import Inbox
from pronto_tools.simulate.run import Simulation, TrafficStats


def announce(
    say: Callable[[str], None],
    broker: EmbeddedBroker,
    ingest: IngestService,
    routing: RoutingService,
    sla: SlaService,
    notify: NotifyService,
    query: QueryService,
    simulation: Simulation,
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
    say(f"  channel webhooks   {ingest.http_url}/webhooks/{DEMO_TENANT}/...   (chat, meta, telegram...)")
    say(f"  ingest metrics     {ingest.http_url}/metrics   (health: /healthz, readiness: /readyz)")
    say(f"  operator REST API  {ingest.http_url}/v1/...   (OpenAPI: {ingest.http_url}/docs)")
    say(f"  routing metrics    {routing.http_url}/metrics")
    say(f"  SLA metrics        {sla.http_url}/metrics")
    say(
        f"  SLA windows        curl -H 'authorization: Bearer {DEMO_SLA_TOKEN}' {sla.http_url}/v1/sla/windows"
    )
    say(f"  notify metrics     {notify.http_url}/metrics")
    auth = f"-H 'authorization: Bearer {DEMO_QUERY_TOKEN}'"
    say(f"  query API          curl {auth} {query.http_url}/v1/conversations")
    say(f"                     (read models; OpenAPI: {query.http_url}/docs)")
    say(f"  web console        {query.http_url}/console/")
    say(f"                     wallboard: sign in with {DEMO_QUERY_TOKEN!r}; operator view:")
    say(f"                     {CONSOLE_OPERATOR_TOKEN!r} is Sam, offline until you set them online there")
    inbox = f"http://127.0.0.1:{simulation.inbox.port}"
    say(f"  the shop's inbox   {inbox}   (receives what notify sends everyone)")
    say(f"  logs               {run_dir}")
    team = roster_of(simulation)
    speakers = ", ".join(f"{p.display_name} ({'/'.join(s.language for s in p.languages)})" for p in team)
    say(
        f"  team               {len(team)} online, "
        f"{team[0].capacities[0].max_concurrent} conversations each per channel: {speakers}"
    )
    say(f"  SLA policy         {_policy_line()}")
    until = f"for {options.duration:g} s" if options.duration else "until Ctrl-C"
    say(
        f"customers write about {options.rate:g} messages/s on every channel {until}: "
        f"{1 - simulation.options.grpc_share:.0%} as the platforms' signed webhooks, the rest over gRPC"
    )
    say("")


def _policy_line() -> str:
    chat = DEMO_SLA_POLICY["response"]["web_chat"]["minutes"] * 60  # type: ignore[index]
    return (
        f"{DEMO_SLA_POLICY['timezone']}, Italian holidays closed, open around the clock otherwise; "
        f"first response: web chat {chat:g} s, the other channels their defaults (e-mail 30 min...)"
    )


def roster_of(simulation: Simulation) -> list[events_pb2.OperatorProfileUpdated]:
    return list(simulation.team.profiles) if simulation.team else []


def ingest_health(status: int) -> str:
    """What ingest's readiness answer means, in words: its readiness is the broker's."""
    if status == 200:
        return "ingest is ready again"
    if status == 503:
        return "ingest says it cannot reach the broker: messages are refused until it can"
    if status == 0:
        return "ingest does not answer its readiness check within a second (overloaded?)"
    return f"ingest answers its readiness check with HTTP {status}"


async def report_progress(
    say: Callable[[str], None],
    services: tuple[IngestService, RoutingService, SlaService, NotifyService],
    simulation: Simulation,
    traffic: asyncio.Task[TrafficStats],
    options: DemoOptions,
    broker: EmbeddedBroker,
) -> None:
    ingest, routing, sla, _ = services
    stats, team = simulation.stats, simulation.team
    told = 0
    said_health = ingest_health(200)
    while not traffic.done():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(traffic), options.progress_every)
        if options.observe is not None:
            options.observe(simulation, broker)
        if not broker.running:
            say(
                f"the embedded broker has stopped (exit code {broker.exit_code}, its log {broker.log_path}): "
                "nothing can be accepted, routed or told any more, so the demo stops here"
            )
            stats.stopped_early = "the embedded broker stopped"
            simulation.stop.set()
            await asyncio.wait({traffic}, timeout=10)
            return
        health = ingest_health(await asyncio.to_thread(http_status, ingest.ready_url))
        if health != said_health:  # said once when it changes, not every tick
            say(health)
            said_health = health
        elapsed = time.monotonic() - simulation.started
        routing_text = await asyncio.to_thread(scrape, f"{routing.http_url}/metrics")
        sla_text = await asyncio.to_thread(scrape, f"{sla.http_url}/metrics")
        for name, text in (("routing", routing_text), ("SLA", sla_text)):
            if not text:
                say(f"{name} does not answer (its log is in the run directory)")
        made = decisions(routing_text)
        resolved = team.counts["resolved"] if team else 0
        say(
            f"[{elapsed:6.1f} s] messages in {stats.accepted} of {stats.sent} sent"
            f"  (refused {sum(stats.refused.values())}, ack p99 {stats.percentile(99) * 1000:.0f} ms)"
            f"  | assigned {made['assigned']}  queued {gauge(routing_text, QUEUE_LENGTH)}"
            f"  reassigned {made['reassigned']}  resolved {resolved}"
        )
        by_channel = first_responses(sla_text)
        total = sum(by_channel.values(), Counter())
        per_channel = " ".join(f"{c} {compliance(o)}" for c, o in sorted(by_channel.items()))
        running, at_risk = (gauge(sla_text, f"pronto_sla_{g}_clocks") for g in ("open", "at_risk"))
        say(
            f"{'':10}SLA first response {compliance(total)} in time, {total['breached']} breached"
            f" ({per_channel or 'no clocks yet'}); clocks running {running}, at risk {at_risk}"
        )
        say(f"{'':10}{simulation.inbox.line()}")
        for happening in simulation.happenings[told:]:
            say(f"{'':10}{happening}")
        told = len(simulation.happenings)


def summarise_routing(say: Callable[[str], None], simulation: Simulation, routing_text: str) -> None:
    made = decisions(routing_text)
    team = simulation.team.counts if simulation.team else Counter()
    say(
        f"  routing             {made['assigned']} assigned, {made['queued']} queued (on arrival or taken "
        f"back), {made['reassigned']} reassigned, {made['widened']} widened"
    )
    say(
        f"  operators           {team['assignments told']} assignments heard from notify, "
        f"{team['replied']} replies, {team['resolved']} resolved; "
        f"{gauge(routing_text, QUEUE_LENGTH)} waiting at the end"
    )


def summarise_sla(say: Callable[[str], None], by_channel: dict[str, Counter[str]]) -> None:
    figures = ", ".join(
        f"{channel} {compliance(outcomes)} ({outcomes['breached']} breached)"
        for channel, outcomes in sorted(by_channel.items())
    )
    say(f"  first response      in time by channel: {figures or 'no responses yet'}")


def summarise_notify(say: Callable[[str], None], inbox: Inbox) -> None:
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(inbox.by_kind.items()))
    say(f"  notify              {inbox.line()}; {kinds or 'nothing yet'}")
    if inbox.badly_signed:
        say(f"  notify              {inbox.badly_signed} webhooks with a bad signature (refused)")
    if inbox.last_customer_text:
        say(f"  last customer told  {inbox.last_customer_text}")


def summarise(
    say: Callable[[str], None], stats: TrafficStats, elapsed: float, stored: int, by_channel: dict[str, int]
) -> None:
    say("")
    say(f"Summary after {elapsed:.1f} s")
    say(f"  messages sent       {stats.sent}")
    say(f"  accepted            {stats.accepted} ({stats.accepted / max(elapsed, 1e-9):.1f}/s)")
    say(f"  refused             {dict(stats.refused) or 0}")
    p50, p99 = stats.percentile(50) * 1000, stats.percentile(99) * 1000
    say(f"  ack latency         p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    new = stats.accepted - stats.duplicates
    verdict = {
        stored == new: "  (every accepted event stored, once)",
        stored > new: "  (more than accepted: some written twice)",
        0 <= stored < new: "  (MISSING RECORDS)",
        stored < 0: "",
    }[True]
    if stored < 0:  # the broker cannot be read (it stopped): no count rather than a -1
        say(f"  records in {topics.INBOUND.name}: not counted (the broker could not be read)")
    else:
        say(f"  records in {topics.INBOUND.name}: {stored}{verdict}")
    unanswered = stats.sent - stats.accepted - sum(stats.refused.values())
    if unanswered:
        say(f"  unanswered          {unanswered} (sent, but no acknowledgement before the demo stopped)")
    customers = {k: v for k, v in sorted(by_channel.items()) if k in CHANNELS}
    say("  accepted by channel " + ", ".join(f"{k} {v}" for k, v in customers.items()))


def summarise_read_models(say: Callable[[str], None], query: QueryService) -> None:
    """The query API's view of the run, once its read models stop changing (at most 10 s)."""
    deadline = time.monotonic() + 10
    seen: dict[str, Any] = {}
    try:
        while True:
            now = read_models(query.http_url, DEMO_QUERY_TOKEN)
            if now == seen or time.monotonic() > deadline:
                break
            seen = now
            time.sleep(0.5)
    except OSError as exc:
        say(f"read models: the query API did not answer ({exc})")
        return
    statuses = ", ".join(f"{n} {s}" for s, n in seen["by_status"].items())
    met = sum(r["met"] for r in seen["report"])
    decided = met + sum(r["breached"] for r in seen["report"])
    in_time = (
        f"{met / decided:.0%} of {decided} first responses in time"
        if decided
        else "no first response decided"
    )
    say(f"read models (query API): {seen['conversations']} conversations ({statuses}); {in_time}")
