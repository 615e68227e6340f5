"""The routing worker's state: the shops of the partitions it owns, fed raw Kafka records.

Kept apart from the Faust wiring (``app.py``) so that it can be driven and
tested without a broker: records in, records out.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from pronto import envelope
from pronto.envelope import Envelope
from pronto.errors import EnvelopeError
from pronto.folding import FoldBase, Out
from pronto.v1 import events_pb2
from services.routing.metrics import RoutingMetrics
from services.routing.shop import Policy, Shop

log = logging.getLogger("pronto.routing")


@dataclass
class Worker(FoldBase):
    processor: ClassVar[str] = "routing"
    state_type: ClassVar[object] = dict[str, Shop]
    policy: Policy
    metrics: RoutingMetrics
    source: str
    # Partition of support.routing.v1 -> tenant -> shop.
    partitions: dict[int, dict[str, Shop]] = field(default_factory=dict)

    def apply(self, partition: int, headers: Iterable[tuple[str, bytes]], value: bytes | None) -> list[Out]:
        """One input record: the decisions it causes, as records for support.conversations.v1."""
        event = self._decoded(headers, value)
        if event is None:
            return []
        shops = self.partitions.setdefault(partition, {})
        shop = shops.get(event.tenant) or shops.setdefault(
            event.tenant, Shop(self.policy.for_tenant(event.tenant))
        )
        try:
            emitted = shop.apply(event)
        except Exception:
            # A bug met by one event must not stop routing for every shop of the partition
            # (Faust would restart the agent on the same event forever). A replay meets it again
            # at the same place and skips it the same way.
            self.metrics.invalid()
            log.exception(
                "routing failed on event %s (%s) of %s: skipped", event.id, event.type, event.tenant
            )
            return []
        # Stamped with the shop's clock (the latest event time it has seen), not the cause's: inputs
        # come from several topics, and a decision caused by an older event (an operator's status
        # read after a newer message) must not look older than the decisions made before it, or
        # the read models, which order a conversation's events by time, put them out of order.
        return [
            self.derived(event, i, e.key, event.tenant, e.payload, e, shop.clock)
            for i, e in enumerate(emitted)
        ]

    def restore(self, partition: int, state: dict[str, Shop]) -> None:
        """A snapshot's shops, deciding by the policy configured now (not the one pickled with them)."""
        for tenant, shop in state.items():
            shop.policy = self.policy.for_tenant(tenant)
        self.partitions[partition] = state

    def ticks(self, partitions: Iterable[int], now: datetime | None = None) -> list[Out]:
        """A tick for every shop with something due by ``now`` (``Shop.due``), keyed by tenant."""
        now = now or datetime.now(UTC)
        out = []
        for partition in partitions:
            for tenant, shop in self.partitions.get(partition, {}).items():
                due = shop.due()
                if due is not None and due <= now:
                    tick = Envelope(str(uuid.uuid4()), self.source, tenant, events_pb2.RoutingTick(), now)
                    headers, value = envelope.encode(tick)
                    out.append(Out(tenant.encode(), headers, value))
        return out

    def _decoded(self, headers: Iterable[tuple[str, bytes]], value: bytes | None) -> Envelope | None:
        try:
            return envelope.decode(headers, value)
        except EnvelopeError as exc:
            self.metrics.invalid()
            log.warning("skipping a record routing cannot read: %s", exc)
            return None
