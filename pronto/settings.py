"""Settings every service shares; each service extends them in its own ``settings.py``.

Every field is read from the environment variable ``PRONTO_<FIELD NAME>``
(``bootstrap_servers`` from ``PRONTO_BOOTSTRAP_SERVERS``); fields of one
service carry its name (``ingest_grpc_port`` from ``PRONTO_INGEST_GRPC_PORT``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
