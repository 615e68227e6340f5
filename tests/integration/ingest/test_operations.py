"""What operators of ingest rely on: metrics, health, readiness, gRPC health and reflection."""

from __future__ import annotations

import urllib.request
import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from pronto.healthcheck import http_status
from pronto.v1 import common_pb2, ingest_pb2, ingest_pb2_grpc
from pronto_tools.services import IngestService
from tests.plugins.ingest import bearer
from tests.support.events import message

pytestmark = pytest.mark.integration


def samples(ingest: IngestService) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"{ingest.http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return float(found.get((name, frozenset({"service": "ingest", **labels}.items())), 0.0))


async def test_metrics_count_accepted_rejected_and_deduplicated_events(ingest: IngestService) -> None:
    before = samples(ingest)
    run = f"metrics-{uuid.uuid4().hex[:8]}"
    email = message(f"{run}-c1", 1, channel=common_pb2.CHANNEL_EMAIL)
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        for _ in range(2):
            await stub.Publish(ingest_pb2.PublishRequest(message_received=email), metadata=bearer("shop-a"))
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.Publish(
                ingest_pb2.PublishRequest(message_received=message(f"{run}-c2", 1, language="??")),
                metadata=bearer("shop-a"),
            )
    after = samples(ingest)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("pronto_events_accepted_total", channel="email") == 1
    assert grew("pronto_events_deduplicated_total", channel="email") == 1
    assert grew("pronto_events_rejected_total", channel="web_chat", reason="invalid") == 1
    assert grew("pronto_produce_latency_seconds_count", topic="support.inbound.v1") >= 1
    assert value(after, "pronto_requests_in_flight", api="grpc.Publish") == 0


def test_health_and_readiness_answer(ingest: IngestService) -> None:
    assert http_status(f"{ingest.http_url}/healthz") == 200
    assert http_status(f"{ingest.http_url}/readyz") == 200


async def test_grpc_health_and_reflection(ingest: IngestService) -> None:
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", "pronto.v1.IngestService", "pronto.v1.OperatorService"):
            answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert answer.status == health_pb2.HealthCheckResponse.SERVING, service
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = [r async for r in reflection.ServerReflectionInfo(iter([request]))]
    listed = {s.name for s in responses[0].list_services_response.service}
    assert {"pronto.v1.IngestService", "pronto.v1.OperatorService", "grpc.health.v1.Health"} <= listed
