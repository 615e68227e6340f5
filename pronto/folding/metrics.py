"""The fold's own Prometheus figures: consumer lag per partition, and what snapshots and restarts cost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class _Positions(Protocol):
    handled: dict[tuple[str, int], int]

    def highwater(self, topic: str, partition: int) -> int | None: ...


class ConsumerLag(Collector):
    """Records not yet handled per partition: the newest offset the consumer saw fetched (its
    highwater) minus the one last handled. The embedded broker's highwater lags a little (see the
    README), so there it reads a little low."""

    def __init__(self, group: str, folding: _Positions) -> None:
        self.group, self.folding = group, folding

    def collect(self) -> Iterator[GaugeMetricFamily]:
        lag = GaugeMetricFamily(
            "pronto_consumer_lag_records",
            "Records fetched but not yet handled, per consumer group, topic and partition.",
            labels=["group", "topic", "partition"],
        )
        for (topic, partition), offset in sorted(self.folding.handled.items()):
            highwater = self.folding.highwater(topic, partition)
            if highwater is not None:
                lag.add_metric([self.group, topic, str(partition)], max(0, highwater - offset - 1))
        yield lag


class SnapshotMetrics:
    """What checkpoints cost and whether restarts could use them."""

    def __init__(self, registry: CollectorRegistry, group: str) -> None:
        labels = {"group": group}
        self._written = Counter(
            "pronto_snapshots_written", "Partition snapshots written.", ["group"], registry=registry
        ).labels(**labels)
        self._bytes = Gauge(
            "pronto_snapshot_last_bytes", "Size of the last snapshot written.", ["group"], registry=registry
        ).labels(**labels)
        self._seconds = Gauge(
            "pronto_snapshot_last_seconds",
            "Time the last snapshot took, from taking the state to the broker's acknowledgement.",
            ["group"],
            registry=registry,
        ).labels(**labels)
        self.unreadable = Counter(
            "pronto_snapshots_unreadable",
            "Snapshots that could not be read at a restart (corrupt, or of another schema).",
            ["group"],
            registry=registry,
        ).labels(**labels)
        self.history_lost = Counter(
            "pronto_snapshot_history_gaps",
            "Restarts that found input records deleted between the snapshot and the first kept record.",
            ["group"],
            registry=registry,
        ).labels(**labels)
        self._restore_seconds = Gauge(
            "pronto_restore_last_seconds",
            "Time the last partition took to load its snapshot and replay what follows it.",
            ["group"],
            registry=registry,
        ).labels(**labels)
        self._restored_records = Gauge(
            "pronto_restore_last_replayed_records",
            "Input records the last partition replayed after its snapshot.",
            ["group"],
            registry=registry,
        ).labels(**labels)

    def written(self, size: int, seconds: float) -> None:
        self._written.inc()
        self._bytes.set(size)
        self._seconds.set(seconds)

    def restored(self, seconds: float, records: int) -> None:
        self._restore_seconds.set(seconds)
        self._restored_records.set(records)
