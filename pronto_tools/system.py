"""All five services for one shop on one broker: the one system the demo, the tests and the benchmark run.

It is what the demo, the end-to-end and fault tests and the pipeline benchmark start, so that they all run the
same system the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pronto_tools.broker.embedded import free_port, port_is_free
from pronto_tools.services import IngestService, NotifyService, QueryService, RoutingService, SlaService
from pronto_tools.simulate.inbox import Inbox

# Tansu cannot start idempotent producers (see the README); every producing service is told so.
EMBEDDED_BROKER_ENV = {"PRONTO_KAFKA_IDEMPOTENT": "false"}


def port(preferred: int) -> int:
    """``preferred`` when it is free, else any free one (the caller says which it got)."""
    return preferred if port_is_free(preferred) else free_port()


@dataclass
class TenantSetup:
    """One tenant (a shop) as every service is configured for it, as the demo and the tests set it up."""

    tenant: str
    token: str
    channel_secrets: Mapping[str, str]
    sla_policy: Mapping[str, Any]
    inbox_port: int
    timezone: str = "Europe/Rome"
    # The bearer token of the shop's query API (read models) and console wallboard.
    query_token: str = "demo-query-token"
    # Operator id -> the token they sign in to the console with.
    operator_tokens: Mapping[str, str] = field(default_factory=dict)
    notify: Mapping[str, Any] = field(default_factory=dict)  # merged over the inbox's configuration

    def notify_config(self) -> dict[str, Any]:
        return {**Inbox.shop_config(self.inbox_port, self.timezone), **self.notify}


@dataclass
class Ports:
    grpc: int = 50051
    http: int = 8080
    routing: int = 8081
    sla: int = 8082
    notify: int = 8083
    query: int = 8084

    def free(self) -> Ports:
        return Ports(
            *(port(p) for p in (self.grpc, self.http, self.routing, self.sla, self.notify, self.query))
        )


class System:
    """ingest, routing, SLA and notify as separate processes, started in order and stopped in reverse;
    with ``query`` also the read side (the demo runs it; tests of the write side leave it out)."""

    def __init__(
        self,
        bootstrap_servers: str,
        run_dir: Path,
        shop: TenantSetup,
        ports: Ports | None = None,
        env: Mapping[str, Mapping[str, str]] | None = None,
        query: bool = False,
    ) -> None:
        ports = ports or Ports(0, 0, 0, 0, 0, 0)
        extra = env or {}
        self.run_dir = run_dir

        def settings(name: str, own: dict[str, str]) -> dict[str, str]:
            return {**EMBEDDED_BROKER_ENV, **own, **extra.get(name, {})}

        self.ingest = IngestService(
            bootstrap_servers,
            run_dir / "ingest.log",
            grpc_port=ports.grpc or None,
            http_port=ports.http or None,
            env=settings(
                "ingest",
                {
                    "PRONTO_INGEST_TOKENS": json.dumps({shop.tenant: shop.token}),
                    "PRONTO_INGEST_CHANNELS": json.dumps({shop.tenant: dict(shop.channel_secrets)}),
                },
            ),
        )
        self.routing = RoutingService(
            bootstrap_servers,
            run_dir / "routing.log",
            http_port=ports.routing or None,
            env=settings("routing", {}),
        )
        self.sla = SlaService(
            bootstrap_servers,
            run_dir / "sla.log",
            http_port=ports.sla or None,
            env=settings("sla", {"PRONTO_SLA_POLICIES": json.dumps({shop.tenant: shop.sla_policy})}),
        )
        self.notify = NotifyService(
            bootstrap_servers,
            run_dir / "notify.log",
            http_port=ports.notify or None,
            env=settings(
                "notify",
                {
                    "PRONTO_NOTIFY_SHOPS": json.dumps({shop.tenant: shop.notify_config()}),
                    "PRONTO_NOTIFY_JOURNAL": str(run_dir / "notify-delivered.journal"),
                },
            ),
        )

        self.query = (
            QueryService(
                bootstrap_servers,
                run_dir / "query.log",
                http_port=ports.query or None,
                env=settings(
                    "query",
                    {
                        "PRONTO_QUERY_TOKENS": json.dumps({shop.tenant: shop.query_token}),
                        "PRONTO_QUERY_TIMEZONES": json.dumps({shop.tenant: shop.timezone}),
                        "PRONTO_QUERY_OPERATOR_TOKENS": json.dumps({shop.tenant: dict(shop.operator_tokens)}),
                        "PRONTO_QUERY_INGEST_TARGET": self.ingest.grpc_target,
                        "PRONTO_QUERY_INGEST_TOKENS": json.dumps({shop.tenant: shop.token}),
                    },
                ),
            )
            if query
            else None
        )

    @property
    def services(
        self,
    ) -> tuple[IngestService | RoutingService | SlaService | NotifyService | QueryService, ...]:
        writers = (self.ingest, self.routing, self.sla, self.notify)
        return writers if self.query is None else (*writers, self.query)

    def start(self, timeout: float = 90.0) -> System:
        try:
            for service in self.services:
                service.start()
            for service in self.services:
                service.wait_ready(timeout=timeout)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def named(self, name: str) -> IngestService | RoutingService | SlaService | NotifyService | QueryService:
        return {s.name: s for s in self.services}[name]
