"""Settings every service shares; each service extends them in its own ``settings.py``.

Every field is read from the environment variable ``PRONTO_<FIELD NAME>``
(``bootstrap_servers`` from ``PRONTO_BOOTSTRAP_SERVERS``); fields of one
service carry its name (``ingest_grpc_port`` from ``PRONTO_INGEST_GRPC_PORT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class HttpLimits:
    """What one HTTP request may send and how long its head may take, and how many connections a
    port keeps open (``pronto.http_limits``): over them, 414, 431, 413, 408 or 503 and close."""

    # The request line's target (path and query): 414.
    max_request_line_bytes: int = 8 * 1024
    # The header fields together, names and values: 431.
    max_header_bytes: int = 32 * 1024
    # Header fields: 431.
    max_headers: int = 100
    # The body, declared (Content-Length) or streamed (chunked): 413.
    max_body_bytes: int = 1024 * 1024
    # Seconds a request's head (request line and headers) may take, counted from the connection's
    # opening and again from the end of each response, however the bytes trickle in: 408 and close.
    # A real client sends its head, a few hundred bytes to a few KiB, at once (one or two TCP
    # segments); 10 s still leaves a lossy mobile link three retransmissions (1 + 2 + 4 s), while a
    # connection that stalls or drips its head holds a descriptor and up to ~40 KiB for 10 s at most.
    head_timeout_s: float = 10.0
    # Open connections of the port: beyond, a new one is answered 503 and closed at once, so
    # descriptors (Kafka, gRPC and files need theirs) and buffered heads stay bounded. Never more
    # than half the process's descriptor limit (``pronto.ops.serve_http``).
    max_connections: int = 4096
    # Open connections from one client address (0: no cap): beyond, 503 and closed at once, so one
    # address cannot take the whole port. Behind a reverse proxy or a load balancer that hides
    # client addresses every client is the proxy's: raise it (at least to the proxy's own
    # connection count) or set 0, and cap clients at the proxy.
    max_connections_per_client: int = 512


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRONTO_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    bootstrap_servers: str = "127.0.0.1:9092"
    # Idempotent producing needs InitProducerId, which the embedded broker (Tansu 0.6) cannot answer.
    kafka_idempotent: bool = True
    # Names this instance in the events' CloudEvents "source" attribute.
    instance: str = "local"
    log_level: str = "INFO"
    # Routing, SLA and notify checkpoint each partition's state after this many input records or
    # seconds (``pronto.folding``): a restart replays at most about that much. Their input topics
    # must retain well over two intervals (``pronto.topics``).
    snapshot_every_records: int = Field(50_000, ge=1)
    snapshot_every_s: float = Field(300.0, gt=0)
    # Their agents take at most this many records at once (``pronto.folding``; 1 is one by one),
    # waiting for more as long as each service's ``<service>_batch_within_ms`` says.
    stream_batch_max: int = Field(1_000, ge=1)
    # Every HTTP port (ingest, routing, SLA, notify with web chat, query with the console) refuses
    # requests over these at once, before reading the rest (issue #26).
    http_max_request_line_bytes: int = Field(8 * 1024, ge=1024)
    http_max_header_bytes: int = Field(32 * 1024, ge=1024)
    http_max_headers: int = Field(100, ge=10)
    http_max_body_bytes: int = Field(1024 * 1024, ge=1024)
    # A request's head must arrive within this many seconds (408), and connections are capped per
    # port and per client address (503, closed at once; 0 per client: no cap). See ``HttpLimits``.
    http_head_timeout_s: float = Field(10.0, gt=0)
    http_max_connections: int = Field(4096, ge=1)
    http_max_connections_per_client: int = Field(512, ge=0)

    def http_limits(self, max_body_bytes: int | None = None) -> HttpLimits:
        """The limits of this service's HTTP port; ``max_body_bytes`` if it takes larger bodies."""
        return HttpLimits(
            max_request_line_bytes=self.http_max_request_line_bytes,
            max_header_bytes=self.http_max_header_bytes,
            max_headers=self.http_max_headers,
            max_body_bytes=max(self.http_max_body_bytes, max_body_bytes or 0),
            head_timeout_s=self.http_head_timeout_s,
            max_connections=self.http_max_connections,
            max_connections_per_client=self.http_max_connections_per_client,
        )
