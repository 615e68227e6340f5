"""``pronto demo``: the embedded broker, the services and demo traffic, with live progress.

Everything runs on loopback. It stops by itself after ``--duration`` seconds
(with a summary), or on Ctrl-C, stopping the services before the broker.
"""

from __future__ import annotations

import asyncio
import json
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pronto import topics
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import read_records
from pronto.v1 import operator_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.demo.figures import (
    accepted_by_channel,
    assigned,
    first_responses,
    scrape,
)
from pronto_tools.demo.history import keep_history
from pronto_tools.demo.report import (
    announce,
    report_progress,
    summarise,
    summarise_notify,
    summarise_read_models,
    summarise_routing,
    summarise_sla,
)
from pronto_tools.demo.settings import (
    CONSOLE_OPERATOR,
    CONSOLE_OPERATOR_TOKEN,
    DEMO_SLA_POLICY,
    DEMO_TENANT,
    DEMO_TOKEN,
    DEMO_WIDEN_AFTER_S,
    DemoOptions,
)
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS, Simulation, SimulationOptions, TrafficStats
from pronto_tools.system import Ports, System, TenantSetup, port


async def run_demo(options: DemoOptions, say: Callable[[str], None] = print) -> TrafficStats:
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-demo-"))
    loop = asyncio.get_running_loop()
    interrupted = asyncio.Event()
    # Ctrl-C, kill, and a closed terminal all stop it the same way: services first, then the broker.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, interrupted.set)

    broker = EmbeddedBroker(port=port(options.broker_port), log_path=run_dir / "broker.log")
    say(f"starting the embedded broker (Tansu) on {broker.bootstrap_servers} ...")
    broker.start()
    system, shop = demo_system(broker.bootstrap_servers, run_dir, options)
    ingest, routing, sla, notify = services = system.ingest, system.routing, system.sla, system.notify
    query = system.query
    assert query is not None
    simulation = demo_simulation(system, shop, options)
    try:
        provision(broker.bootstrap_servers, log=lambda line: say(f"  topic {line}"))
        say("starting ingest, routing, SLA, notify and query ...")
        system.start()
        async with ProntoClient(ingest.grpc_target, DEMO_TOKEN) as client:
            await client.operators.UpdateOperatorProfile(
                operator_pb2.UpdateOperatorProfileRequest(profile=CONSOLE_OPERATOR), metadata=client.metadata
            )
        async with simulation:
            announce(say, broker, ingest, routing, sla, notify, query, simulation, run_dir, options)
            interrupted_task = asyncio.create_task(_stop_when(interrupted, simulation.stop))
            traffic = asyncio.create_task(simulation.run())
            await report_progress(say, services, simulation, traffic, options, broker)
            interrupted_task.cancel()
            if not interrupted.is_set() and broker.running:
                await simulation.inbox.settle(say, assigned(scrape(f"{routing.http_url}/metrics")))
        stats = simulation.stats
        elapsed = time.monotonic() - simulation.started
        stored = await _stored(broker, stats.accepted - stats.duplicates, say) if broker.running else -1
        summarise(say, stats, elapsed, stored, accepted_by_channel(scrape(f"{ingest.http_url}/metrics")))
        summarise_routing(say, simulation, scrape(f"{routing.http_url}/metrics"))
        summarise_sla(say, first_responses(scrape(f"{sla.http_url}/metrics")))
        summarise_notify(say, simulation.inbox)
        summarise_read_models(say, query)
        if broker.running:
            await keep_history(broker.bootstrap_servers, run_dir, say)
    finally:
        say("stopping the services and the broker ...")
        system.stop()
        broker.stop()
        say(f"stopped. Logs are in {run_dir}")
    return simulation.stats


def demo_system(bootstrap_servers: str, run_dir: Path, options: DemoOptions) -> tuple[System, TenantSetup]:
    """The demo's services (not started yet) and its shop (policy, channel secrets, console operator),
    on the ports of ``options`` or, where taken, free ones."""
    shop = TenantSetup(
        DEMO_TENANT,
        DEMO_TOKEN,
        DEMO_CHANNEL_SECRETS,
        DEMO_SLA_POLICY,
        port(options.inbox_port),
        operator_tokens={CONSOLE_OPERATOR.operator_id: CONSOLE_OPERATOR_TOKEN},
    )
    wanted = Ports(
        options.grpc_port,
        options.http_port,
        options.routing_http_port,
        options.sla_http_port,
        options.notify_http_port,
        options.query_http_port,
    )
    system = System(
        bootstrap_servers,
        run_dir,
        shop,
        wanted.free(),
        env={"routing": {"PRONTO_ROUTING_WIDEN_AFTER_S": json.dumps(DEMO_WIDEN_AFTER_S)}},
        query=True,
    )
    return system, shop


def demo_simulation(system: System, shop: TenantSetup, options: DemoOptions) -> Simulation:
    """The demo's traffic and team against ``system`` (tests/e2e/test_demo_sizing.py runs it too)."""
    return Simulation(
        SimulationOptions(
            grpc_target=system.ingest.grpc_target,
            http_url=system.ingest.http_url,
            tenant=DEMO_TENANT,
            token=DEMO_TOKEN,
            channel_secrets=DEMO_CHANNEL_SECRETS,
            rate=options.rate,
            duration=options.duration,
            seed=options.seed,
            inbox_port=shop.inbox_port,
        )
    )


async def _stop_when(interrupted: asyncio.Event, stop: asyncio.Event) -> None:
    await interrupted.wait()
    stop.set()


async def _stored(broker: EmbeddedBroker, accepted: int, say: Callable[[str], None]) -> int:
    """Customer messages on the inbound topic (webhooks may carry more than one event: at least)."""
    try:
        return len(
            await read_records(
                broker.bootstrap_servers, topics.INBOUND.name, expect=accepted, timeout=10, settle=0.5
            )
        )
    except Exception as exc:  # the broker may be what failed; the summary still says what is known
        say(f"could not count the stored records: {exc}")
        return -1
