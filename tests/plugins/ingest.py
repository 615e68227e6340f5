"""A real ingest process (its gRPC and HTTP servers on loopback) against the session broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from pronto.broker.embedded import EmbeddedBroker
from tests.support.processes import IngestProcess

TOKENS = {"shop-a": "token-a-0123456789abcdefgh", "shop-b": "token-b-0123456789abcdefgh"}


def bearer(tenant: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {TOKENS[tenant]}"),)


def start_ingest(bootstrap_servers: str, log_path: Path, **env: str) -> IngestProcess:
    # The embedded broker cannot start idempotent producers (see README).
    env.setdefault("PRONTO_KAFKA_IDEMPOTENT", "false")
    return IngestProcess(bootstrap_servers, json.dumps(TOKENS), log_path, **env).start()


@pytest.fixture(scope="session")
def ingest(broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestProcess]:
    process = start_ingest(broker.bootstrap_servers, tmp_path_factory.mktemp("ingest") / "ingest.log")
    try:
        yield process.wait_ready()
    finally:
        process.stop()
