"""How to start each service as a process: its module, environment and readiness URL."""

from __future__ import annotations

from pathlib import Path

from pronto_tools.broker.embedded import free_port
from pronto_tools.processes import ChildService

LOOPBACK = "127.0.0.1"


class IngestService(ChildService):
    def __init__(
        self,
        bootstrap_servers: str,
        log_path: Path,
        grpc_port: int | None = None,
        http_port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.grpc_port = grpc_port or free_port()
        self.http_port = http_port or free_port()
        super().__init__(
            "ingest",
            "services.ingest.main",
            {
                "PRONTO_BOOTSTRAP_SERVERS": bootstrap_servers,
                "PRONTO_INGEST_GRPC_PORT": str(self.grpc_port),
                "PRONTO_INGEST_HTTP_PORT": str(self.http_port),
                **(env or {}),
            },
            log_path,
            ready_url=f"http://{LOOPBACK}:{self.http_port}/readyz",
        )

    @property
    def grpc_target(self) -> str:
        return f"{LOOPBACK}:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"


class _StreamService(ChildService):
    """A stream processor with one HTTP port (/metrics, /healthz, /readyz and its queries)."""

    name = ""

    def __init__(
        self,
        bootstrap_servers: str,
        log_path: Path,
        http_port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.http_port = http_port or free_port()
        super().__init__(
            self.name,
            f"services.{self.name}.main",
            {
                "PRONTO_BOOTSTRAP_SERVERS": bootstrap_servers,
                f"PRONTO_{self.name.upper()}_HTTP_PORT": str(self.http_port),
                **(env or {}),
            },
            log_path,
            ready_url=f"http://{LOOPBACK}:{self.http_port}/readyz",
        )

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self.http_port}"


class RoutingService(_StreamService):
    name = "routing"


class SlaService(_StreamService):
    name = "sla"


class NotifyService(_StreamService):
    name = "notify"


class QueryService(_StreamService):
    """The read side: projections into the read models and the query API (``services/query``)."""

    name = "query"
