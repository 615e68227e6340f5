"""A real ingest process (its gRPC and HTTP servers on loopback) against the session broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pronto.broker.embedded import EmbeddedBroker
from pronto.services import IngestService

TOKENS = {"shop-a": "token-a-0123456789abcdefgh", "shop-b": "token-b-0123456789abcdefgh"}


def bearer(tenant: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {TOKENS[tenant]}"),)


def start_ingest(bootstrap_servers: str, log_path: Path, **env: str) -> IngestService:
    # The embedded broker cannot start idempotent producers (see README).
    settings = {"PRONTO_KAFKA_IDEMPOTENT": "false", "PRONTO_INGEST_TOKENS": json.dumps(TOKENS), **env}
    service = IngestService(bootstrap_servers, log_path, env=settings)
    service.start().wait_ready()
    return service


@pytest.fixture(scope="session")
def ingest(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestService]:
    service = start_ingest(broker.bootstrap_servers, tmp_path_factory.mktemp("ingest") / "ingest.log")
    try:
        yield service
    finally:
        service.stop()
