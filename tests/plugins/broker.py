"""The real embedded broker (Tansu) for integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """One broker for the whole session, with every topic provisioned."""
    log_path: Path = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(log_path=log_path) as running:
        provision(running.bootstrap_servers)
        yield running


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker of the test's own, for tests that stop or kill it."""
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as running:
        provision(running.bootstrap_servers)
        yield running
