"""The routing service: a folding Faust app (``pronto.folding``) over ``support.routing.v1``.

Customer messages, operator profiles and status, replies and resolutions are
re-keyed by tenant onto ``support.routing.v1``, so that one partition, one
worker, decides for a shop and its capacity is never double-booked. The fold
writes its decisions to ``support.conversations.v1``, keyed by conversation.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from pronto import envelope, topics
from pronto.channels import channel_name
from pronto.folding import FoldingApp, FoldSpec, Headers, Out
from pronto.v1 import events_pb2
from services.routing.metrics import RoutingMetrics
from services.routing.settings import RoutingSettings
from services.routing.shop_events_out import Emitted
from services.routing.worker import Worker

APP_ID = "pronto-routing"
KINDS = {
    events_pb2.ConversationAssigned: "assigned",
    events_pb2.ConversationQueued: "queued",
    events_pb2.ConversationReassigned: "reassigned",
    events_pb2.ConversationWidened: "widened",
    events_pb2.QueuePositionChanged: "position",
}


def by_tenant(_key: bytes | None, headers: Headers) -> bytes | None:
    return dict(headers).get("ce_tenant") or None


# Of SLA's events, routing reads only those that say when a first response is due.
DEADLINES = frozenset(
    t.DESCRIPTOR.full_name.encode() for t in (events_pb2.SlaClockStarted, events_pb2.SlaClockRetargeted)
)
SOURCES = (topics.INBOUND.name, topics.OPERATORS.name, topics.OUTBOUND.name)


def wanted(headers: Headers, _value: bytes | None) -> bool:
    """Every record of the sources but SLA's, and of SLA's the clocks' deadlines."""
    event_type = envelope.type_of(headers)
    return not event_type.startswith(b"pronto.v1.Sla") or event_type in DEADLINES


class Routing:
    """The app, its worker and its metrics, built in one place."""

    def __init__(self, settings: RoutingSettings) -> None:
        self.registry = CollectorRegistry()
        self.metrics = RoutingMetrics(self.registry)
        self.worker = Worker(settings.policy(), self.metrics, f"/pronto/routing/{settings.instance}")
        spec = FoldSpec(
            app_id=APP_ID,
            bootstrap_servers=settings.bootstrap_servers,
            # SLA's deadlines only for shops that order their queue by them: copies cost records.
            sources=SOURCES + ((topics.SLA.name,) if settings.reads_deadlines() else ()),
            wanted=wanted,
            input_topic=topics.ROUTING.name,
            output_topic=topics.CONVERSATIONS.name,
            rekey=by_tenant,
            tick_s=settings.routing_tick_s,
            http_host=settings.routing_http_host,
            http_port=settings.routing_http_port,
            http_limits=settings.http_limits(),
            fetch_wait_ms=settings.routing_fetch_wait_ms,
            linger_ms=settings.routing_linger_ms,
            session_timeout_s=settings.routing_session_timeout_s,
            snapshot_every_records=settings.snapshot_every_records,
            snapshot_every_s=settings.snapshot_every_s,
            batch_max=settings.stream_batch_max,
            batch_within_s=settings.routing_batch_within_ms / 1000,
        )
        self.folding = FoldingApp(
            spec,
            self.worker,
            self.registry,
            published=self._published,
            ticked=lambda: self.metrics.observe(self.worker.partitions.values(), datetime.now(UTC)),
            skipped=self.metrics.invalid,
            replayed=self.metrics.replayed,
        )
        self.app = self.folding.app

    def _published(self, out: Out) -> None:
        emitted: Emitted | None = out.emitted
        if emitted is None:
            return
        payload = emitted.payload
        self.metrics.decided(KINDS.get(type(payload), "other"))
        if isinstance(payload, events_pb2.ConversationAssigned):
            channel = channel_name(payload.channel)
            if emitted.received_at:
                self.metrics.assigned(channel, time.time() - emitted.received_at.timestamp())
            if emitted.waited:
                self.metrics.waited(channel, *emitted.waited)
