"""The notify service: a folding Faust app that decides, and a delivery worker that sends.

Customer messages, operators' replies, routing's decisions and SLA's events are
all keyed by conversation; the fold reads them directly (its journal of the
order goes to ``support.notify.v1``, ``pronto.journal``) and writes
``NotificationRequested`` records to ``support.notifications.v1`` (keyed by
recipient). The deliverer, a task of the same process with its own consumer
group, sends them and records their outcomes on the same topic.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError
from prometheus_client import CollectorRegistry

from pronto import envelope, topics
from pronto.folding import FoldingApp, FoldSpec, Headers, Out
from pronto.v1 import events_pb2
from services.notify.delivery.deliverer import Deliverer
from services.notify.delivery.platforms.webchat import WebChatHub
from services.notify.domain.decide import Notification
from services.notify.metrics import NotifyMetrics
from services.notify.settings import NotifySettings
from services.notify.webchat_api import webchat_router
from services.notify.worker import Worker

APP_ID = "pronto-notify"
# Notify's decisions need no timer: every notification answers an event.
TICK_S = 3600.0


def same_key(key: bytes | None, _headers: Headers) -> bytes | None:
    """Every source is keyed by conversation already."""
    return key or None


# Events notify's decisions answer with nothing and no change of state (``domain/decide.py``): the
# fold reads them and leaves them out. Resolution clocks' starts are left out the same way.
# (A resolution is read: it starts the time after which the customer is forgotten, ``worker.py``.)
UNREAD = frozenset(
    t.DESCRIPTOR.full_name.encode()
    for t in (
        events_pb2.SlaMet,
        events_pb2.SlaMissed,
        events_pb2.ConversationWidened,
    )
)
_CLOCK_STARTED = events_pb2.SlaClockStarted.DESCRIPTOR.full_name.encode()


def wanted(headers: Headers, value: bytes | None) -> bool:
    """Whether notify's fold reads this record (``tests/unit/notify/test_unread.py`` holds that what
    it leaves out changes nothing it decides)."""
    kind = envelope.type_of(headers)
    if kind in UNREAD:
        return False
    if kind == _CLOCK_STARTED:
        started = events_pb2.SlaClockStarted()
        try:
            started.ParseFromString(value or b"")
        except DecodeError:
            return True  # the worker reports what it cannot read
        return started.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
    return True


class Notify:
    def __init__(self, settings: NotifySettings) -> None:
        self.registry = CollectorRegistry()
        self.metrics = NotifyMetrics(self.registry)
        source = f"/pronto/notify/{settings.instance}"
        self.worker = Worker(lambda tenant: settings.shop(tenant).policy(), source)
        self.webchat = WebChatHub()
        self.deliverer = Deliverer(settings, self.metrics, source, self.webchat)
        spec = FoldSpec(
            app_id=APP_ID,
            bootstrap_servers=settings.bootstrap_servers,
            sources=(topics.INBOUND.name, topics.OUTBOUND.name, topics.CONVERSATIONS.name, topics.SLA.name),
            input_topic=topics.NOTIFY.name,
            direct=True,
            output_topic=topics.NOTIFICATIONS.name,
            rekey=same_key,
            wanted=wanted,
            tick_s=TICK_S,
            http_host=settings.notify_http_host,
            http_port=settings.notify_http_port,
            http_limits=settings.http_limits(),
            fetch_wait_ms=settings.notify_fetch_wait_ms,
            linger_ms=settings.notify_linger_ms,
            session_timeout_s=settings.notify_session_timeout_s,
            snapshot_every_records=settings.snapshot_every_records,
            snapshot_every_s=settings.snapshot_every_s,
            batch_max=settings.stream_batch_max,
            batch_within_s=settings.notify_batch_within_ms / 1000,
            routes=[webchat_router(self.webchat, settings)],
        )
        self.folding = FoldingApp(
            spec,
            self.worker,
            self.registry,
            published=self._published,
            skipped=self.metrics.invalid,
            replayed=self.metrics.replayed,
            also_ready=self.deliverer.ready,
        )
        self.app = self.folding.app
        self.app.task(self.deliverer.run)

    def _published(self, out: Out) -> None:
        if isinstance(out.emitted, Notification):
            self.metrics.requested.labels(out.emitted.kind.value).inc()
