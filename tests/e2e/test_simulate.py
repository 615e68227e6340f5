"""`pronto simulate` on the command line against a running system, as its README section shows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pronto_tools.broker.embedded import EmbeddedBroker, free_port
from pronto_tools.broker.provision import provision
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from pronto_tools.system import System, TenantSetup

pytestmark = pytest.mark.integration

TENANT = "shop-sim"
TOKEN = "token-sim-0123456789abcdef"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[System, int, Path]]:
    tmp = tmp_path_factory.mktemp("simulate")
    inbox = free_port()
    secrets = tmp / "secrets.json"
    secrets.write_text(json.dumps(DEMO_CHANNEL_SECRETS))
    with EmbeddedBroker(log_path=tmp / "tansu.log") as broker:
        provision(broker.bootstrap_servers)
        shop = TenantSetup(TENANT, TOKEN, DEMO_CHANNEL_SECRETS, {"timezone": "Europe/Rome"}, inbox)
        system = System(broker.bootstrap_servers, tmp, shop).start()
        try:
            yield system, inbox, secrets
        finally:
            system.stop()


def _simulate(system: System, inbox: int, secrets: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "pronto_tools.cli", "simulate",
            "--target", system.ingest.grpc_target, "--http", system.ingest.http_url,
            "--tenant", TENANT, "--token", TOKEN, "--channel-secrets", str(secrets),
            "--rate", "8", "--duration", "8", "--channels", "telegram=2,email,web_chat",
            "--languages", "it,pl", "--operators", "4", "--handling", "0.5,2", "--seed", "7",
            "--inbox-port", str(inbox),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_run_sends_on_the_channels_asked_and_its_team_answers(running: tuple[System, int, Path]) -> None:
    done = _simulate(*running)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    sent = re.search(r"messages sent +(\d+) \((.*)\)", out)
    assert sent, out
    assert 50 <= int(sent.group(1)) <= 70
    assert set(re.findall(r"([a-z_]+) \d+", sent.group(2))) == {"telegram", "email", "web_chat"}
    assert re.search(r"accepted +\d+ \(0 duplicates\)", out), out
    heard = re.search(r"operators +(\d+) assignments heard, (\d+) replies", out)
    assert heard, out
    assert int(heard.group(1)) > 0
    assert "refused             0" in out


def test_the_same_seed_again_is_new_traffic_not_duplicates(running: tuple[System, int, Path]) -> None:
    for _ in range(2):  # the module's system may have seen this seed already; twice here in any case
        done = _simulate(*running)
        assert done.returncode == 0, done.stdout[-2000:]
        assert re.search(r"accepted +\d+ \(0 duplicates\)", done.stdout), done.stdout
