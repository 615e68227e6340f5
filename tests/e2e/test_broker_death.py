"""The broker dies under a running system (issue #26, defect 8).

Before: ingest alone said it was not ready; routing, SLA, notify and query stayed "ready" while
they could neither read nor write, their logs grew by about 80 KB a second of the same connection
errors, and the demo printed "ingest is not ready (broker unreachable?)" every two seconds and
ended its summary with "-1 (not counted)". Now every service's ``/readyz`` follows the broker
(``pronto.kafka.watch``), a message repeated over and over is logged a few times a minute
(``pronto.logs``), and the demo says once what died and stops.

The embedded broker keeps its records in memory only, so it is killed, not restarted: what comes
back after a broker outage is the frozen-broker test's subject (test_faults.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pronto.healthcheck import http_status
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from pronto_tools.system import System, TenantSetup
from tests.e2e.conftest import ALWAYS_OPEN, TENANT, TOKEN
from tests.support.receivers import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NOT_READY_WITHIN_S = 20
# Once the services know, what their logs may grow by in the next 15 s, all together (before: 80 KB/s,
# 1.2 MB in that time).
WATCHED_S = 15
LOGGED_AT_MOST = 60 * 1024


def test_every_service_stops_saying_it_is_ready_and_the_logs_do_not_flood(tmp_path: Path) -> None:
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as broker:
        provision(broker.bootstrap_servers)
        shop = TenantSetup(TENANT, TOKEN, DEMO_CHANNEL_SECRETS, ALWAYS_OPEN, inbox_port=0)
        system = System(broker.bootstrap_servers, tmp_path, shop, query=True).start()
        services = [s for s in (system.ingest, system.routing, system.sla, system.notify, system.query) if s]
        try:
            assert all(http_status(s.ready_url) == 200 for s in services)
            broker.kill()
            wait_for(
                lambda: all(http_status(s.ready_url) == 503 for s in services),
                NOT_READY_WITHIN_S,
                "every service saying it is not ready",
            )
            alive = [http_status(s.ready_url.replace("/readyz", "/healthz")) for s in services]
            assert alive == [200] * len(services), "a service died with the broker"
            time.sleep(5)  # the first of each error, as it should be logged
            before = {s.name: s.log_path.stat().st_size for s in services}
            time.sleep(WATCHED_S)
            grown = {s.name: s.log_path.stat().st_size - before[s.name] for s in services}
            assert sum(grown.values()) <= LOGGED_AT_MOST, grown
            for service in (system.routing, system.sla, system.notify, system.query):
                assert service is not None
                logged = service.log_path.read_text()
                assert "does not answer: not ready until it does" in logged, service.name
        finally:
            system.stop()


def _broker_pid(port: int) -> int:
    """The embedded broker the demo started: the process listening on ``port`` by its command line."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"tcp://127.0.0.1:{port}".encode() in command and b"broker" in command:
            return int(entry.name)
    raise AssertionError(f"no broker process listening on {port}")


@pytest.mark.timeout(300)
def test_the_demo_says_once_that_its_broker_died_and_stops() -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "pronto_tools.cli", "demo", "--rate", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    lines: list[str] = []
    port = 0
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            lines.append(line)
            if found := re.search(r"Kafka \(embedded\)\s+127\.0\.0\.1:(\d+)", line):
                port = int(found.group(1))
            if port and re.search(r"messages in [1-9]\d* of", line):
                break
        else:
            pytest.fail("no progress line with messages in:\n" + "".join(lines[-30:]))
        os.kill(_broker_pid(port), signal.SIGKILL)
        killed = time.monotonic()
        rest, _ = demo.communicate(timeout=90)
    finally:
        if demo.poll() is None:
            demo.kill()
    stopped_within = time.monotonic() - killed
    output = "".join(lines) + rest
    assert demo.returncode == 1, output[-3000:]
    assert output.count("the embedded broker has stopped (exit code -9") == 1, output[-3000:]
    # Said once, as the broker stopping; not as ingest's readiness every tick, nor a count of -1.
    assert "ingest says it cannot reach the broker" not in output, output[-3000:]
    assert "records in support.inbound.v1: not counted (the broker could not be read)" in output
    assert "inbound.v1: -1" not in output
    assert "Unclosed" not in output, output[-3000:]
    assert "stopped. Logs are in" in output
    assert stopped_within < 60, f"the demo took {stopped_within:.0f} s to stop"
