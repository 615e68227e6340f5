"""The metrics every Pronto service exposes, defined once and labelled by service.

Services create one ``ServiceMetrics`` at start (in their wiring module) and
pass it down; tests give each instance its own registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

# From 1 ms to 10 s: produce acks take milliseconds, a stalled broker shows at the top.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    def __init__(self, service: str, registry: CollectorRegistry) -> None:
        self.service = service
        self.registry = registry
        self._accepted = Counter(
            "pronto_events_accepted",
            "Events accepted and acknowledged by the broker.",
            ["service", "channel"],
            registry=registry,
        )
        self._rejected = Counter(
            "pronto_events_rejected",
            "Events refused, by reason (invalid, unauthenticated, forbidden, unavailable...).",
            ["service", "channel", "reason"],
            registry=registry,
        )
        self._deduplicated = Counter(
            "pronto_events_deduplicated",
            "Events recognised as already accepted (same event id): nothing new was written.",
            ["service", "channel"],
            registry=registry,
        )
        self._produce_latency = Histogram(
            "pronto_produce_latency_seconds",
            "Time from handing a batch of events to the producer to the broker's acknowledgement.",
            ["service", "topic"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._in_flight = Gauge(
            "pronto_requests_in_flight",
            "Requests being handled right now, by API.",
            ["service", "api"],
            registry=registry,
        )

        # Looking up labelled children costs a lock and a dict per call; the hot path uses this cache.
        self._children: dict[tuple[object, ...], Any] = {}

    def _child(self, metric: MetricWrapperBase, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.service, *labels)
        return child

    def accepted(self, channel: str) -> None:
        self._child(self._accepted, channel).inc()

    def rejected(self, channel: str, reason: str) -> None:
        self._child(self._rejected, channel, reason).inc()

    def deduplicated(self, channel: str) -> None:
        self._child(self._deduplicated, channel).inc()

    def produced(self, topic: str, seconds: float) -> None:
        """One batch of records acknowledged ``seconds`` after it was handed to the producer."""
        self._child(self._produce_latency, topic).observe(seconds)

    @contextmanager
    def in_flight(self, api: str) -> Iterator[None]:
        gauge = self._in_flight.labels(service=self.service, api=api)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()
