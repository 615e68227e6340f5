"""The generated deployment files are what the code generates now, and are sound."""

from __future__ import annotations

import json

import pytest

from pronto import topics
from pronto_tools.deploy import dashboards, manifests, workloads
from pronto_tools.deploy.__main__ import generated


def test_every_generated_file_is_up_to_date() -> None:
    stale = [str(p) for p, text in generated().items() if not p.exists() or p.read_text() != text]
    assert not stale, f"run python -m pronto_tools.deploy: {stale}"


def test_a_kafka_topic_per_topic_with_its_partitions_and_retention() -> None:
    by_name = {t["spec"]["topicName"]: t for t in manifests.kafka_topics()}
    assert set(by_name) == {spec.name for spec in topics.ALL}
    for spec in topics.ALL:
        assert by_name[spec.name]["spec"]["partitions"] == spec.partitions
        assert by_name[spec.name]["spec"]["config"] == spec.configs


def test_the_prometheus_rule_carries_every_recording_rule_and_alert() -> None:
    groups = manifests.prometheus_rule()["spec"]["groups"]
    names = {r.get("record") or r.get("alert") for g in groups for r in g["rules"]}
    assert "pronto:sla_compliance:ratio_rate1h" in names
    assert {"SlaErrorBudgetBurningFast", "SlaErrorBudgetBurningSlowly"} <= names


@pytest.mark.parametrize("dashboard", dashboards.DASHBOARDS, ids=lambda d: d.uid)
def test_dashboards_are_laid_out_and_every_panel_has_queries(dashboard: dashboards.Dashboard) -> None:
    model = dashboards.render(dashboard)
    json.dumps(model)
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))
    for panel in model["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        assert panel["targets"]
        assert all(t["expr"] and t["refId"] for t in panel["targets"])
    assert any(p.core for p in dashboard.panels)
    variables = {v["name"] for v in model["templating"]["list"]}
    assert variables == {"datasource", "tenant", "channel"}


def test_the_issue_s_panels_are_there() -> None:
    titles = {p.title for d in dashboards.DASHBOARDS for p in d.panels}
    for wanted in (
        "Compliance by channel (1 h)",
        "Compliance by tenant (15 min)",
        "First response time against target",
        "Breaches (5 min)",
        "Clocks running and at risk",
        "Queue length",
        "Oldest wait",
        "Operators online",
        "Utilisation",
        "Messages accepted by channel",
        "Refused by reason",
        "Consumer lag",
        "Notifications sent and failed",
    ):
        assert wanted in titles


def test_workloads_never_scale_past_their_input_partitions() -> None:
    for w in workloads.WORKLOADS:
        if w.name != "ingest":
            assert w.max_replicas <= 6
