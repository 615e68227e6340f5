"""Routing's Prometheus metrics: decisions, assignment latency, and the queue and operators' state.

The state gauges (queue length, oldest wait, operators online, utilisation)
are computed from the shops in the worker's own event loop and handed to the
collector as a finished snapshot: a scrape, served from another thread,
never walks state that is being changed, and shops that went away leave no
stale series behind.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from services.routing.domain.model import Status
from services.routing.shop import Shop

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
WAIT_BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0)
# Waited over told: 1 is exact, 2 means twice as long as told, 0.5 half as long.
RATIO_BUCKETS = (0.25, 0.5, 0.67, 0.8, 0.9, 1.1, 1.25, 1.5, 2.0, 4.0, 8.0)


class _StateCollector(Collector):
    def __init__(self) -> None:
        self.families: list[GaugeMetricFamily] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self.families


class RoutingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._decisions = Counter(
            "pronto_routing_decisions",
            "Routing events emitted, by kind (assigned, queued, reassigned, widened, position).",
            ["kind"],
            registry=registry,
        )
        self._latency = Histogram(
            "pronto_routing_assignment_latency_seconds",
            "From the customer's message accepted by ingest to its assignment handed to Kafka, "
            "for conversations assigned at once (not those that waited in the queue).",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._waited = Histogram(
            "pronto_routing_queue_wait_seconds",
            "How long conversations that waited in the queue waited for their operator, counted from "
            "the last estimate they were told.",
            ["channel"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self._estimate_error = Histogram(
            "pronto_routing_wait_estimate_error_seconds",
            "How far the last estimated wait told to a queued customer was from what they then "
            "waited (absolute seconds).",
            ["channel"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self._estimate_ratio = Histogram(
            "pronto_routing_wait_estimate_ratio",
            "What a queued customer waited over the wait they were last told (above 1: longer "
            "than told); an estimate of under a second counts as one second.",
            ["channel"],
            buckets=RATIO_BUCKETS,
            registry=registry,
        )
        self._invalid = Counter(
            "pronto_routing_invalid_records",
            "Input records routing could not read or failed on (skipped; see the log).",
            registry=registry,
        )
        self._replayed = Counter(
            "pronto_routing_replayed_records",
            "Input records replayed to rebuild state after a start or a rebalance.",
            registry=registry,
        )
        self._state = _StateCollector()
        registry.register(self._state)

    def decided(self, kind: str) -> None:
        self._decisions.labels(kind).inc()

    def assigned(self, channel: str, seconds: float) -> None:
        self._latency.labels(channel).observe(max(0.0, seconds))

    def waited(self, channel: str, waited_s: float, told_s: float) -> None:
        """A queued customer was assigned ``waited_s`` after being told to expect ``told_s``."""
        self._waited.labels(channel).observe(waited_s)
        self._estimate_error.labels(channel).observe(abs(waited_s - told_s))
        self._estimate_ratio.labels(channel).observe(waited_s / max(told_s, 1.0))

    def invalid(self) -> None:
        self._invalid.inc()

    def replayed(self, count: int) -> None:
        self._replayed.inc(count)

    def observe(self, partitions: Iterable[Mapping[str, Shop]], now: datetime) -> None:
        """Recompute the state gauges from the shops (call from the worker's loop)."""
        length = GaugeMetricFamily(
            "pronto_routing_queue_length",
            "Conversations waiting for an operator.",
            labels=["tenant", "channel", "language"],
        )
        oldest = GaugeMetricFamily(
            "pronto_routing_oldest_wait_seconds",
            "How long the longest-waiting queued conversation has waited.",
            labels=["tenant", "channel", "language"],
        )
        online = GaugeMetricFamily("pronto_routing_operators_online", "Operators online.", labels=["tenant"])
        utilisation = GaugeMetricFamily(
            "pronto_routing_utilisation",
            "Assigned conversations over the capacity of the operators online, per channel.",
            labels=["tenant", "channel"],
        )
        for shops in partitions:
            for tenant, shop in shops.items():
                _queue(tenant, shop, now, length, oldest)
                _operators(tenant, shop, online, utilisation)
        self._state.families = [length, oldest, online, utilisation]


def _queue(
    tenant: str, shop: Shop, now: datetime, length: GaugeMetricFamily, oldest: GaugeMetricFamily
) -> None:
    waits: dict[tuple[str, str], list[float]] = defaultdict(list)
    for conversation in shop.routing.waiting.values():
        since = conversation.waiting_since or now
        waits[(conversation.channel, conversation.language or "unknown")].append(
            (now - since).total_seconds()
        )
    for (channel, language), seconds in waits.items():
        length.add_metric([tenant, channel, language], len(seconds))
        oldest.add_metric([tenant, channel, language], max(seconds))


def _operators(tenant: str, shop: Shop, online: GaugeMetricFamily, utilisation: GaugeMetricFamily) -> None:
    present = [o for o in shop.routing.operators.values() if o.status is Status.ONLINE]
    online.add_metric([tenant], len(present))
    capacity: dict[str, int] = defaultdict(int)
    load: dict[str, int] = defaultdict(int)
    for operator in present:
        for channel, slots in operator.capacities.items():
            capacity[channel] += slots
            load[channel] += operator.load.get(channel, 0)
    for channel, slots in capacity.items():
        utilisation.add_metric([tenant, channel], load[channel] / slots if slots else 0.0)
