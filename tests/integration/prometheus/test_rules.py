"""The SLA recording rules and burn-rate alerts, checked and unit-tested by the real promtool."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from pronto.v1 import events_pb2
from services.sla.domain.clock_outputs import Breached, Stopped
from services.sla.domain.policy import Metric, Target
from services.sla.metrics import SlaMetrics
from services.sla.worker import Outcome

pytestmark = pytest.mark.integration

RULES = Path(__file__).resolve().parents[3] / "deploy" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: scripts/setup.sh installs it (Debian package prometheus)"
    return subprocess.run([binary, *args], cwd=RULES, capture_output=True, text=True, timeout=60, check=False)


def test_the_rules_are_valid() -> None:
    checked = promtool("check", "rules", "sla-rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_rules_unit_tests_pass() -> None:
    tested = promtool("test", "rules", "sla-rules.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_rules_read_only_metrics_the_sla_service_exposes() -> None:
    registry = CollectorRegistry()
    metrics = SlaMetrics(registry)
    target = Target(timedelta(minutes=30), business=True)
    for output in (
        Stopped(Metric.FIRST_RESPONSE, timedelta(minutes=5), target, met=True),
        Breached(Metric.FIRST_RESPONSE, datetime.now(UTC)),
    ):
        metrics.observe(Outcome("shop", "c1", "email", output, events_pb2.SlaMet()))
    exposed = set(re.findall(r"^([a-z_:]+)(?:\{| )", generate_latest(registry).decode(), re.MULTILINE))
    rules = (RULES / "sla-rules.yml").read_text()
    read = set(re.findall(r"\b(pronto_[a-z_]+)", rules))
    assert read
    assert read <= exposed, read - exposed
