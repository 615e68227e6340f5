"""Every Pronto service serving HTTP on a broker of its own, for tests of what any port accepts.

The tests are issue #26's: size limits, head timeouts, connection caps. It also closes a raw client's
connection."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.processes import ChildService
from pronto_tools.services import LOOPBACK, NotifyService, QueryService, RoutingService, SlaService
from tests.plugins.ingest import start_ingest


@dataclass
class Running:
    service: ChildService
    port: int


@contextlib.contextmanager
def every_http_port(logs: Path, env: Mapping[str, str] | None = None) -> Iterator[dict[str, Running]]:
    """ingest, routing, SLA, notify and query, each with ``env``, serving HTTP; stopped after."""
    extra = dict(env or {})
    with EmbeddedBroker(log_path=logs / "tansu.log") as broker:
        provision(broker.bootstrap_servers)
        common = {"PRONTO_KAFKA_IDEMPOTENT": "false", **extra}
        started: dict[str, Running] = {}
        try:
            ingest = start_ingest(broker.bootstrap_servers, logs / "ingest.log", **extra)
            started["ingest"] = Running(ingest, ingest.http_port)
            for name, kind in (
                ("routing", RoutingService),
                ("sla", SlaService),
                ("notify", NotifyService),
                ("query", QueryService),
            ):
                service = kind(broker.bootstrap_servers, logs / f"{name}.log", env=common)
                started[name] = Running(service, service.http_port)
                service.start()
            for running in started.values():
                # Serving HTTP is enough here; whether the stream processors caught up is not the point.
                running.service.ready_url = f"http://{LOOPBACK}:{running.port}/healthz"
                running.service.wait_ready(timeout=90)
            yield started
        finally:
            for running in started.values():
                running.service.stop()


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 1)
