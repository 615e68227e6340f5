"""The five services as Kubernetes workloads, generated from this table, the only place they differ.

Each has a Deployment, a Service, a PodDisruptionBudget and a HorizontalPodAutoscaler, generated because
they differ only in what this table says."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pronto import topics

IMAGE = "ghcr.io/pronto-support/pronto"
PART_OF = {"app.kubernetes.io/part-of": "pronto"}
UID = 10001


@dataclass(frozen=True)
class Workload:
    name: str
    http_port: int
    grpc_port: int = 0
    # Stream processors gain nothing beyond their input topic's partitions.
    max_replicas: int = 6
    secret: str = ""
    cpu: str = "250m"
    memory: str = "512Mi"


WORKLOADS = (
    Workload(
        "ingest", 8080, grpc_port=50051, max_replicas=10, secret="pronto-ingest-secrets", memory="768Mi"
    ),
    Workload("routing", 8081, max_replicas=topics.ROUTING.partitions),
    Workload("sla", 8082, max_replicas=topics.CLOCKS.partitions, secret="pronto-sla-secrets"),
    Workload("notify", 8083, max_replicas=topics.NOTIFY.partitions, secret="pronto-notify-secrets"),
    # The read side: a consumer group over the source topics (6 partitions each) writing to MongoDB.
    Workload("query", 8084, max_replicas=topics.INBOUND.partitions, secret="pronto-query-secrets"),
)


def _labels(w: Workload) -> dict[str, str]:
    return {"app.kubernetes.io/name": f"pronto-{w.name}", **PART_OF}


def _ports(w: Workload) -> list[dict[str, Any]]:
    ports = [{"name": "http", "containerPort": w.http_port, "protocol": "TCP"}]
    if w.grpc_port:
        ports.append({"name": "grpc", "containerPort": w.grpc_port, "protocol": "TCP"})
    return ports


def _env(w: Workload) -> list[dict[str, Any]]:
    env = [
        {"name": "PRONTO_SERVICE", "value": w.name},
        {"name": f"PRONTO_{w.name.upper()}_HTTP_HOST", "value": "0.0.0.0"},
        {"name": f"PRONTO_{w.name.upper()}_HTTP_PORT", "value": str(w.http_port)},
    ]
    if w.grpc_port:
        env += [
            {"name": "PRONTO_INGEST_GRPC_HOST", "value": "0.0.0.0"},
            {"name": "PRONTO_INGEST_GRPC_PORT", "value": str(w.grpc_port)},
        ]
    return env


def _container(w: Workload) -> dict[str, Any]:
    env_from: list[dict[str, Any]] = [{"configMapRef": {"name": "pronto-config"}}]
    if w.secret:
        # Created by the operator of the cluster (see the README), never kept in this repository.
        env_from.append({"secretRef": {"name": w.secret}})

    def probe(path: str, period: int) -> dict[str, Any]:
        return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": period, "failureThreshold": 3}

    return {
        "name": w.name,
        "image": f"{IMAGE}:latest",
        "command": [f"pronto-{w.name}"],
        "ports": _ports(w),
        "env": _env(w),
        "envFrom": env_from,
        "readinessProbe": probe("/readyz", 5),
        "livenessProbe": probe("/healthz", 10),
        "startupProbe": {**probe("/healthz", 2), "failureThreshold": 60},
        "resources": {"requests": {"cpu": w.cpu, "memory": "256Mi"}, "limits": {"memory": w.memory}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "state", "mountPath": "/var/lib/pronto"},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def deployment(w: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"pronto-{w.name}", "labels": _labels(w)},
        # No replicas: the autoscaler owns them (an apply would otherwise reset its count).
        "spec": {
            "selector": {"matchLabels": _labels(w)},
            "template": {
                "metadata": {"labels": _labels(w)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": UID,
                        "runAsGroup": UID,
                        "fsGroup": UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [_container(w)],
                    # Faust's state directory and notify's delivery journal: they survive a container
                    # restart, not a move to another node (the README says what that costs).
                    "volumes": [{"name": "state", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def service(w: Workload) -> dict[str, Any]:
    ports = [{"name": p["name"], "port": p["containerPort"], "targetPort": p["name"]} for p in _ports(w)]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"pronto-{w.name}", "labels": _labels(w)},
        "spec": {"selector": _labels(w), "ports": ports},
    }


def disruption_budget(w: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"pronto-{w.name}", "labels": _labels(w)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _labels(w)}},
    }


def autoscaler(w: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": f"pronto-{w.name}", "labels": _labels(w)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"pronto-{w.name}"},
            "minReplicas": 2 if w.name == "ingest" else 1,
            "maxReplicas": w.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
    }


def all_workloads() -> list[dict[str, Any]]:
    return [make(w) for w in WORKLOADS for make in (deployment, service, disruption_budget, autoscaler)]
