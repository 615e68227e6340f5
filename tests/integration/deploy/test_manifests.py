"""The deployment files checked by real tools: Kubernetes overlays, compose, Alertmanager, Prometheus.

The Kubernetes overlays are rendered by kubectl's kustomize and validated against the Kubernetes API
schemas and the CRDs' (deploy/k8s/schemas); the compose file and the Alertmanager and Prometheus
configurations go through their own tools."""

from __future__ import annotations

import copy
import os
import subprocess
from collections import Counter
from typing import Any

import pytest

from pronto import topics
from pronto_tools.deploy.manifests import ROOT
from pronto_tools.deploy.validate import K8S, all_problems, problems, render
from pronto_tools.deploy.workloads import WORKLOADS

pytestmark = pytest.mark.integration

OVERLAYS = ("dev", "prod")


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(K8S / "overlays" / request.param)


def _of(resources: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def test_every_resource_is_valid_against_its_schema(rendered: list[dict[str, Any]]) -> None:
    kinds = Counter(r["kind"] for r in rendered)
    assert kinds["Deployment"] == len(WORKLOADS)
    assert kinds["KafkaTopic"] == len(topics.ALL)
    assert {"Kafka", "KafkaNodePool", "ServiceMonitor", "PrometheusRule", "NetworkPolicy"} <= set(kinds)
    assert all_problems(rendered) == []


def test_the_validation_finds_what_is_wrong(rendered: list[dict[str, Any]]) -> None:
    deployment = copy.deepcopy(_of(rendered, "Deployment")["pronto-ingest"])
    deployment["spec"]["replicas"] = "two"
    topic = copy.deepcopy(next(iter(_of(rendered, "KafkaTopic").values())))
    topic["spec"]["partitions"] = "six"
    rule = copy.deepcopy(_of(rendered, "PrometheusRule")["pronto-sla"])
    del rule["spec"]["groups"][0]["rules"][0]["expr"]
    misspelt = copy.deepcopy(next(iter(_of(rendered, "KafkaTopic").values())))
    misspelt["spec"]["partitons"] = 12
    assert problems(deployment)
    assert problems(topic)
    assert problems(misspelt) == [
        f"KafkaTopic/{misspelt['metadata']['name']}: /spec/partitons: unknown field"
    ]
    assert problems(rule)
    assert problems({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})


def test_workloads_are_locked_down_probed_and_budgeted(rendered: list[dict[str, Any]]) -> None:
    budgets, scalers, services = (
        _of(rendered, k) for k in ("PodDisruptionBudget", "HorizontalPodAutoscaler", "Service")
    )
    for name, deployment in _of(rendered, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        (container,) = pod["containers"]
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["requests"]
        assert container["resources"]["limits"]["memory"]
        assert not container["image"].endswith(":latest"), "the overlays pin the image"
        assert name in budgets
        assert name in scalers
        assert name in services
    assert not _of(rendered, "Secret"), "secrets are referenced, never kept here"
    assert "pronto-default-deny-ingress" in _of(rendered, "NetworkPolicy")


def test_dashboards_reach_grafana_s_sidecar(rendered: list[dict[str, Any]]) -> None:
    config = _of(rendered, "ConfigMap")["pronto-dashboards"]
    assert config["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert set(config["data"]) == {"pronto-sla.json", "pronto-routing.json", "pronto-pipeline.json"}


def test_the_compose_file_lints_and_needs_its_secrets_from_the_environment() -> None:
    required = ("PRONTO_INGEST_TOKENS", "PRONTO_SLA_TOKENS", "PRONTO_NOTIFY_SHOPS", "PRONTO_QUERY_TOKENS")
    env = {
        **os.environ,
        **dict.fromkeys(required, "{}"),
        "PRONTO_QUERY_MONGODB_URI": "mongodb://mongodb:27017",
    }
    compose = ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"]
    done = subprocess.run(compose, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    bare = {k: v for k, v in env.items() if not k.startswith("PRONTO_")}
    done = subprocess.run(compose, env=bare, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "PRONTO_INGEST_TOKENS" in done.stderr or "tokens" in done.stderr


def test_prometheus_and_alertmanager_configurations_are_valid() -> None:
    for command in (
        ["promtool", "check", "config", str(ROOT / "deploy/prometheus/compose.yml")],
        ["amtool", "check-config", str(ROOT / "deploy/alertmanager/alertmanager.yml")],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
