"""A shop's history made fast: events folded through the services' own workers and written in batches.

``ShopHistory`` plays a shop in shop time, not wall time: customers open conversations at an even
rate (two messages each, on e-mail, web chat and WhatsApp, in Italian, English and German), a team
of three eight-hour shifts comes online and goes offline, and whoever routing assigned replies,
hears back from the customer, replies again and resolves. Every event goes through the routing, SLA
and notify workers in-process, in the order the services would read them (a source event to each
service that reads its topic, then what routing decided, then what SLA decided), and ticks go to
routing and SLA when something is due (at most once a shop-second, as the live timers do).

Used by ``bench.recovery``, through ``bench.history_writer``.
"""

from __future__ import annotations

import heapq
import itertools
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiokafka.partitioner import DefaultPartitioner
from google.protobuf.message import Message
from prometheus_client import CollectorRegistry

from pronto import envelope, journal, topics
from pronto.envelope import Envelope
from pronto.folding import FoldBase, Headers, Out
from pronto.v1 import common_pb2, events_pb2
from services.notify import app as notify_app
from services.notify.app import wanted as notify_wanted
from services.notify.settings import NotifySettings
from services.notify.worker import Worker as NotifyWorker
from services.routing import app as routing_app
from services.routing.metrics import RoutingMetrics
from services.routing.settings import RoutingSettings
from services.routing.shop_events_out import Emitted
from services.routing.worker import Worker as RoutingWorker
from services.sla import app as sla_app
from services.sla.settings import SlaSettings
from services.sla.worker import Worker as SlaWorker

TENANT = "bench-shop"
SOURCE = "/pronto/bench/history"
SERVICES = ("routing", "sla", "notify")
APP_IDS = {"routing": routing_app.APP_ID, "sla": sla_app.APP_ID, "notify": notify_app.APP_ID}
INPUTS = {"routing": topics.ROUTING, "sla": topics.CLOCKS, "notify": topics.NOTIFY}
# Which service reads which source topic (services/*/app.py); routing through its merge.
READERS = {
    topics.INBOUND.name: ("routing", "sla", "notify"),
    topics.OPERATORS.name: ("routing",),
    topics.OUTBOUND.name: ("routing", "sla", "notify"),
    topics.CONVERSATIONS.name: ("sla", "notify"),
    topics.SLA.name: ("notify",),
}
DIRECT = ("sla", "notify")
# Records of a partition a direct fold's journal entry lists (a batch's worth).
JOURNAL_EVERY = 20
CHANNELS: tuple[common_pb2.Channel, ...] = (
    common_pb2.CHANNEL_EMAIL,
    common_pb2.CHANNEL_WEB_CHAT,
    common_pb2.CHANNEL_WHATSAPP,
)
LANGUAGES = ("it", "en", "de")
SHIFT_H = 8


@dataclass(order=True)
class _Due:
    at: datetime
    seq: int
    action: str = field(compare=False)
    conversation: str = field(compare=False, default="")
    operator: str = field(compare=False, default="")


@dataclass
class Record:
    topic: str
    partition: int
    key: bytes
    headers: Headers
    value: bytes


class ShopHistory:
    def __init__(self, messages_per_day: int, start: datetime, seed: int) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.conversations_per_day = messages_per_day // 2
        self.per_shift = max(3, messages_per_day // 2_000)
        registry = CollectorRegistry()
        routing_settings, sla_settings, notify_settings = RoutingSettings(), SlaSettings(), NotifySettings()
        policies, default = sla_settings.policies()
        self.workers: dict[str, FoldBase] = {
            "routing": RoutingWorker(routing_settings.policy(), RoutingMetrics(registry), SOURCE),
            "sla": SlaWorker(policies, default, SOURCE),
            "notify": NotifyWorker(lambda tenant: notify_settings.shop(tenant).policy(), SOURCE),
        }
        self.partitioner = DefaultPartitioner()
        # Topic -> partition -> records written so far (the next offset, the topics being fresh).
        self.offsets: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        # Service -> partition -> records its worker was given (a snapshot's ``records``).
        self.applied: dict[str, dict[int, int]] = {s: defaultdict(int) for s in SERVICES}
        # Direct fold -> partition -> what it applied since its last journal entry.
        self.runs: dict[str, dict[int, journal.Runs]] = {s: defaultdict(journal.Runs) for s in DIRECT}
        self.assignee: dict[str, str] = {}
        # Conversation -> its channel and language, while it is open.
        self.open: dict[str, tuple[common_pb2.Channel, str]] = {}
        self._queue: list[_Due] = []
        self._seq = itertools.count()
        self._last_tick: dict[tuple[str, int], datetime] = {}

    # ---------------------------------------------------------------- what happens

    def _at(self, at: datetime, action: str, conversation: str = "", operator: str = "") -> None:
        heapq.heappush(self._queue, _Due(at, next(self._seq), action, conversation, operator))

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def records(self, end: datetime) -> Iterator[tuple[datetime, Record]]:
        """Every input record of the three services, in the order each service reads them."""
        operators = [f"op-{n:03}" for n in range(3 * self.per_shift)]
        for n, operator in enumerate(operators):
            profile = events_pb2.OperatorProfileUpdated(
                operator_id=operator,
                display_name=f"Operator {n}",
                languages=[events_pb2.LanguageSkill(language=lang, proficiency=4) for lang in LANGUAGES],
                capacities=[
                    events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_EMAIL, max_concurrent=10),
                    events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=5),
                    events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WHATSAPP, max_concurrent=5),
                ],
            )
            yield from self._event(self.start, topics.OPERATORS.name, operator, profile)
        shift = 0
        at = self.start
        while at < end:
            self._at(at, "shift", operator=str(shift))
            at += timedelta(hours=SHIFT_H)
            shift += 1
        gap = 86_400 / self.conversations_per_day
        at = self.start + timedelta(seconds=self.rng.expovariate(1 / gap))
        while at < end:
            self._at(at, "open", self._id())
            at += timedelta(seconds=self.rng.expovariate(1 / gap))
        while self._queue and self._queue[0].at < end:
            due = heapq.heappop(self._queue)
            yield from self._ticks(due.at)
            yield from self._happen(due, operators)

    def finish(self, end: datetime) -> Iterator[tuple[datetime, Record]]:
        """The journal entries of what the direct folds applied since their last one."""
        yield from self._journal(end, every=1)

    def _happen(self, due: _Due, operators: list[str]) -> Iterator[tuple[datetime, Record]]:
        at, conversation = due.at, due.conversation
        if due.action == "shift":
            shift = int(due.operator)
            team = [operators[(shift % 3) * self.per_shift + i] for i in range(self.per_shift)]
            before = [operators[((shift - 1) % 3) * self.per_shift + i] for i in range(self.per_shift)]
            for operator in team:
                status = events_pb2.OperatorStatusChanged(
                    operator_id=operator, status=events_pb2.OPERATOR_STATUS_ONLINE
                )
                yield from self._event(at, topics.OPERATORS.name, operator, status)
            if shift > 0:
                for operator in before:
                    status = events_pb2.OperatorStatusChanged(
                        operator_id=operator, status=events_pb2.OPERATOR_STATUS_OFFLINE
                    )
                    yield from self._event(at, topics.OPERATORS.name, operator, status)
        elif due.action in ("open", "again"):
            channel, language = self.open.setdefault(
                conversation, (self.rng.choice(CHANNELS), self.rng.choice(LANGUAGES))
            )
            message = events_pb2.MessageReceived(
                conversation_id=conversation,
                channel=channel,
                channel_message_id=self._id(),
                sender=common_pb2.Sender(id=f"customer-{conversation[:8]}"),
                text="Buongiorno, dov'è il mio ordine 4821?",
                language=language,
            )
            yield from self._event(at, topics.INBOUND.name, conversation, message)
            self._at(at + timedelta(seconds=self.rng.uniform(20, 90)), f"reply-{due.action}", conversation)
        elif due.action.startswith("reply"):
            assigned = self.assignee.get(conversation)
            if assigned is None:  # still queued: look again in a while
                self._at(at + timedelta(seconds=30), due.action, conversation)
                return
            reply = events_pb2.OperatorReplied(
                conversation_id=conversation, operator_id=assigned, text="Eccolo"
            )
            yield from self._event(at, topics.OUTBOUND.name, conversation, reply)
            if due.action == "reply-open":
                self._at(at + timedelta(seconds=self.rng.uniform(60, 600)), "again", conversation)
            else:
                self._at(at + timedelta(seconds=self.rng.uniform(10, 60)), "resolve", conversation)
        elif due.action == "resolve":
            resolved = events_pb2.ConversationResolved(
                conversation_id=conversation, operator_id=self.assignee.pop(conversation, "")
            )
            self.open.pop(conversation, None)
            yield from self._event(at, topics.OUTBOUND.name, conversation, resolved)

    def _event(
        self, at: datetime, topic: str, key: str, payload: Message
    ) -> Iterator[tuple[datetime, Record]]:
        headers, value = envelope.encode(Envelope(self._id(), SOURCE, TENANT, payload, at))
        yield from self._deliver(at, topic, key.encode(), headers, value)

    def _deliver(
        self, at: datetime, topic: str, key: bytes, headers: Headers, value: bytes
    ) -> Iterator[tuple[datetime, Record]]:
        """One source record, given to every service that reads ``topic``, then what they decided
        (so a decision never reaches a service before its cause)."""
        partition = self._partition(topic, key)
        offset = self.offsets[topic][partition]
        yield at, self._write(topic, partition, key, headers, value)
        decided = []
        for service in READERS[topic]:
            if service == "routing":
                # Routing's merge copies it, re-keyed by shop, onto routing's input topic.
                copy = self._partition(topics.ROUTING.name, TENANT.encode())
                yield at, self._write(topics.ROUTING.name, copy, TENANT.encode(), headers, value)
                decided.append((service, self._apply(service, copy, headers, value)))
                continue
            self.runs[service][partition].add(topic, offset)
            if service == "notify" and not notify_wanted(headers, value):
                continue  # read, journaled, and left out (services/notify/app.py)
            decided.append((service, self._apply(service, partition, headers, value)))
        for service, outs in decided:
            yield from self._decided(at, service, outs)
        yield from self._journal(at)

    def _partition(self, topic: str, key: bytes) -> int:
        partitions = list(range(topics.by_name(topic).partitions))
        return int(self.partitioner(key, partitions, partitions))

    def _write(self, topic: str, partition: int, key: bytes, headers: Headers, value: bytes) -> Record:
        self.offsets[topic][partition] += 1
        return Record(topic, partition, key, headers, value)

    def _apply(self, service: str, partition: int, headers: Headers, value: bytes) -> list[Out]:
        self.applied[service][partition] += 1
        return self.workers[service].apply(partition, headers, value)

    def _journal(self, at: datetime, every: int = JOURNAL_EVERY) -> Iterator[tuple[datetime, Record]]:
        """The direct folds' journal entries of the partitions that applied ``every`` records."""
        for service in DIRECT:
            for partition, runs in self.runs[service].items():
                if sum(run.count for run in runs.entry.runs) >= every:
                    input_topic = INPUTS[service].name
                    yield at, self._write(input_topic, partition, b"journal", journal.HEADERS, runs.encode())
                    self.runs[service][partition] = journal.Runs()

    def _decided(self, at: datetime, service: str, outs: list[Out]) -> Iterator[tuple[datetime, Record]]:
        if service == "routing":
            for out in outs:
                self._follow(out.emitted)
                yield from self._deliver(at, topics.CONVERSATIONS.name, out.key, out.headers, out.value)
        elif service == "sla":
            for out in outs:
                yield from self._deliver(at, topics.SLA.name, out.key, out.headers, out.value)

    def _follow(self, emitted: Emitted) -> None:
        payload = emitted.payload
        if isinstance(payload, events_pb2.ConversationAssigned):
            self.assignee[payload.conversation_id] = payload.operator_id
        elif isinstance(payload, events_pb2.ConversationReassigned):
            self.assignee.pop(payload.conversation_id, None)

    def _ticks(self, until: datetime) -> Iterator[tuple[datetime, Record]]:
        """The ticks the live timers would have written before ``until``: each at the first whole
        second after what is due, at most one a second per partition."""
        for service in ("routing", "sla"):
            worker: Any = self.workers[service]
            for partition in list(worker.partitions):
                while (due := self._next_due(service, partition)) is not None:
                    at = due.replace(microsecond=0) + timedelta(seconds=1)
                    last = self._last_tick.get((service, partition))
                    if last is not None and at <= last:
                        at = last + timedelta(seconds=1)
                    if at >= until:
                        break
                    self._last_tick[(service, partition)] = at
                    ticks = worker.ticks([partition], now=at)
                    if not ticks:
                        break
                    for tick in ticks:
                        topic = INPUTS[service].name
                        offset = self.offsets[topic][partition]
                        yield at, self._write(topic, partition, tick.key, tick.headers, tick.value)
                        if service in DIRECT:
                            self.runs[service][partition].add(topic, offset)
                        yield from self._decided(
                            at, service, self._apply(service, partition, tick.headers, tick.value)
                        )

    def _next_due(self, service: str, partition: int) -> datetime | None:
        state: Any = self.workers[service].partitions.get(partition)
        if service == "routing":
            dues = [d for d in (shop.due() for shop in (state or {}).values()) if d is not None]
            return min(dues, default=None)
        return state.due[0][0] if state is not None and state.due else None
