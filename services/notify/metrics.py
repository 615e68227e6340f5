"""Notify's Prometheus metrics: notifications requested, sent, failed, deduplicated; delivery latency."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# From the event that caused a notification to the receiver's answer: a breach storm or a slow
# receiver shows in the upper buckets.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0)


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requested = Counter(
            "pronto_notify_requested",
            "Notifications decided, by kind (acknowledged, assigned, sla_warning, breach...).",
            ["kind"],
            registry=registry,
        )
        self.sent = Counter(
            "pronto_notify_sent",
            'Messages delivered, by kind ("digest" for several held ones) and adapter.',
            ["kind", "adapter"],
            registry=registry,
        )
        self.failed = Counter(
            "pronto_notify_failed",
            "Messages given up on after their attempts (sent to the dead-letter topic), by kind and adapter.",
            ["kind", "adapter"],
            registry=registry,
        )
        self.deduplicated = Counter(
            "pronto_notify_deduplicated",
            "Requests not sent because they already had an outcome (redeliveries, replays, restarts).",
            ["kind"],
            registry=registry,
        )
        self.retried = Counter(
            "pronto_notify_retries",
            "Failed attempts that will be retried, by adapter.",
            ["adapter"],
            registry=registry,
        )
        self.latency = Histogram(
            "pronto_notify_delivery_seconds",
            "From the triggering event to the receiver's answer, by adapter.",
            ["adapter"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.statuses = Counter(
            "pronto_notify_delivery_statuses",
            "Delivery statuses the platforms reported (delivered, read, failed), by adapter; "
            "status=unmatched: a report about no delivery this worker knows.",
            ["adapter", "status"],
            registry=registry,
        )
        self.held = Gauge(
            "pronto_notify_held",
            "Staff notifications waiting for a digest (rate limit, quiet hours).",
            registry=registry,
        )
        self._invalid = Counter(
            "pronto_notify_invalid_records",
            "Input records notify could not read or failed on.",
            registry=registry,
        )
        self._replayed = Counter(
            "pronto_notify_replayed_records",
            "Input records replayed to rebuild what notify knows.",
            registry=registry,
        )

    def invalid(self) -> None:
        self._invalid.inc()

    def replayed(self, count: int) -> None:
        self._replayed.inc(count)
