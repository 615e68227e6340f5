"""Every Grafana panel's query, run by a real Prometheus that scraped a real demo run.

The whole system runs on the embedded broker with the traffic simulator (customers on every
channel, a team answering in one to eight seconds against a five-second chat target, so that some
answers are late). Prometheus (Debian's server) scrapes the four services every second with
Pronto's SLA recording rules and alerts loaded; then each panel's queries go to its HTTP API as
Grafana would send them: each must parse, and the core SLA, routing and pipeline panels must
return data.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pronto.healthcheck import http_status
from pronto_tools.broker.embedded import EmbeddedBroker, free_port
from pronto_tools.broker.provision import provision
from pronto_tools.deploy import dashboards
from pronto_tools.deploy.manifests import RULES
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS, Simulation, SimulationOptions
from pronto_tools.system import System, TenantSetup
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

TENANT = "shop-dash"
TOKEN = "token-dash-0123456789abcdef"
POLICY = {
    "timezone": "Europe/Rome",
    "response": {"web_chat": {"minutes": 5 / 60, "business": False}},
}
TRAFFIC_S = 40


def _prometheus_config(tmp: Path, system: System) -> Path:
    """Scrapes as in production (job per service), rules evaluated every 2 s instead of 30 s."""
    rules = yaml.safe_load(RULES.read_text())
    for group in rules["groups"]:
        group["interval"] = "2s"
    (tmp / "rules.yml").write_text(yaml.safe_dump(rules))
    jobs = [
        {"job_name": f"pronto-{s.name}", "static_configs": [{"targets": [f"127.0.0.1:{s.http_port}"]}]}
        for s in system.services
    ]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "2s"},
        "rule_files": [str(tmp / "rules.yml")],
        "scrape_configs": jobs,
    }
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    assert binary, "Debian's prometheus is installed by scripts/setup.sh"
    tmp = tmp_path_factory.mktemp("dashboards")
    inbox = free_port()
    with EmbeddedBroker(log_path=tmp / "tansu.log") as broker:
        provision(broker.bootstrap_servers)
        shop = TenantSetup(TENANT, TOKEN, DEMO_CHANNEL_SECRETS, POLICY, inbox)
        system = System(broker.bootstrap_servers, tmp, shop).start()
        port = free_port()
        server = subprocess.Popen(
            [
                binary,
                f"--config.file={_prometheus_config(tmp, system)}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(tmp / "prometheus.log").open("wb"),
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: http_status(f"{url}/-/ready") == 200, 30, "Prometheus ready")
            asyncio.run(_traffic(system, inbox))
            time.sleep(5)  # the last scrapes and rule evaluations
            yield url
        finally:
            server.terminate()
            server.wait(10)
            system.stop()


async def _traffic(system: System, inbox: int) -> None:
    options = SimulationOptions(
        grpc_target=system.ingest.grpc_target,
        http_url=system.ingest.http_url,
        tenant=TENANT,
        token=TOKEN,
        channel_secrets=DEMO_CHANNEL_SECRETS,
        rate=15,
        duration=TRAFFIC_S,
        handling_s=(1.0, 8.0),
        inbox_port=inbox,
    )
    async with Simulation(options) as simulation:
        await simulation.run()


def _query(url: str, expr: str, **chosen: str) -> dict[str, Any]:
    query = urllib.parse.urlencode({"query": dashboards.as_prometheus_query(expr, **chosen)})
    try:
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=10) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:  # 400: the query does not parse
        return dict(json.loads(exc.read()))


PANELS = [(d.uid, p) for d in dashboards.DASHBOARDS for p in d.panels]


@pytest.mark.parametrize(("dashboard", "panel"), PANELS, ids=[f"{d}:{p.title}" for d, p in PANELS])
def test_every_panel_query_runs_and_core_panels_show_data(
    prometheus_url: str, dashboard: str, panel: dashboards.Panel
) -> None:
    answers = [_query(prometheus_url, q.expr) for q in panel.queries]
    for query, answer in zip(panel.queries, answers, strict=True):
        assert answer["status"] == "success", f"{query.expr}: {answer.get('error')}"
    if not panel.core:
        return
    for query, answer in zip(panel.queries, answers, strict=True):
        assert answer["data"]["result"], f"{dashboard}: {panel.title!r}: no data for {query.expr}"
    # The same with one tenant and one channel chosen, as a shop's supervisor looks at it: a label
    # misspelt in a matcher would match nothing here (with "all" it matches anything).
    for query in panel.queries:
        answer = _query(prometheus_url, query.expr, tenant=TENANT, channel="web_chat")
        assert answer["data"]["result"], f"{dashboard}: {panel.title!r}: no data for {TENANT}, web_chat"


def test_a_query_that_does_not_parse_is_caught(prometheus_url: str) -> None:
    assert _query(prometheus_url, "sum by (channel (pronto_events_accepted_total)")["status"] == "error"
