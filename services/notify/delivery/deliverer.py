"""Sends what ``support.notifications.v1`` requests, once each, and records every outcome there.

A plain consumer group over the notifications topic (keyed by recipient, so
one worker owns a recipient's rate limit and digest). When it takes a
partition over it first writes a ``DeliveryResumed`` fence into it and reads
up to that fence, collecting requests and the outcomes already recorded;
only then does it send the requests that have none. After that every request
is sent as it arrives, unless the recipient's gate holds it for a digest.
Each delivery is retried with exponential backoff and jitter (honouring
``Retry-After``) until its attempts run out; then it fails for good and
goes to the dead-letter topic with the reason. The committed offset never
passes a request still in flight or held, so a restart finds it again.

This module is the Kafka loop (fences, gap checks, commits, handing records
over); what a record does to a partition's state is ``partition_state``, one
delivery ``sending`` and ``retries``, its event ``outcomes``, the platforms'
reports ``status_reports``, the adapter ``adapter_choice``, the message
``messages``, and what waits ``digests`` and ``quiet_hours``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Iterable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from pronto import envelope, event_ids, topics
from pronto.envelope import Envelope
from pronto.errors import EnvelopeError
from pronto.v1 import events_pb2
from services.notify.delivery import digests
from services.notify.delivery.adapter_choice import AdapterChoice
from services.notify.delivery.journal import Journal
from services.notify.delivery.messages import PROCESSOR
from services.notify.delivery.outcomes import Outcomes
from services.notify.delivery.partition_state import (
    CountSent,
    PartitionState,
    Reading,
    Report,
    Request,
    Start,
)
from services.notify.delivery.platforms.webchat import WebChatHub
from services.notify.delivery.quiet_hours import QuietHours
from services.notify.delivery.sending import PartitionWork, Sender
from services.notify.delivery.status_reports import StatusReports
from services.notify.domain.gate import Gate
from services.notify.metrics import NotifyMetrics
from services.notify.settings import NotifySettings

# PartitionState and Request were defined here before the deliverer was split (issue #25).
__all__ = ["Deliverer", "PartitionState", "Request"]

log = logging.getLogger("pronto.notify.delivery")
GROUP = "pronto-notify-delivery"
COMMIT_EVERY_S = 1.0
# How long a partition being taken away waits for its deliveries in flight.
REVOKE_WAIT_S = 10.0
RESTART_PAUSE_S = 2.0


class Deliverer:
    def __init__(
        self, settings: NotifySettings, metrics: NotifyMetrics, source: str, webchat: WebChatHub | None = None
    ) -> None:
        self.settings = settings
        self.webchat = webchat or WebChatHub()
        self.metrics = metrics
        self.source = source
        self.partitions: dict[int, PartitionState] = {}
        self.gate: Gate[Request] = Gate(lambda key: digests.limit(settings, key), QuietHours(settings).awake)
        self.journal: Journal | None = None
        self._session: aiohttp.ClientSession | None = None
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._consuming = False
        self.adapters = AdapterChoice(settings, lambda: self._session, self.webchat)
        self.outcomes = Outcomes(source, self.partitions, lambda: self._producer, lambda: self.journal)
        # Partition -> the tasks delivering its requests (its state stays data).
        self.work: dict[int, PartitionWork] = {}
        self.sender = Sender(settings, metrics, self.work, self.adapters, self.outcomes)
        self.status_reports = StatusReports(source, metrics, self.adapters, self.sender, self.outcomes)

    def ready(self) -> bool:
        """Consuming, and caught up on every partition it owns (a replica may own none)."""
        return self._consuming and all(s.caught_up for s in self.partitions.values())

    # ---------------------------------------------------------------- the loop

    async def run(self) -> None:
        """Delivers until stopped; a failure of the consumer or the producer (the broker gone, a
        rebalance refusing a commit) starts over from the committed offsets after a pause."""
        s = self.settings
        self.journal = Journal(s.notify_journal)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=s.notify_timeout_s))
        try:
            while True:
                try:
                    await self._consume()
                except (KafkaError, OSError) as exc:
                    log.warning("delivery stopped (%r); starting over in %.0f s", exc, RESTART_PAUSE_S)
                await asyncio.sleep(RESTART_PAUSE_S)
        finally:
            await self._session.close()
            self.journal.close()

    async def _consume(self) -> None:
        s = self.settings
        self._producer = AIOKafkaProducer(
            bootstrap_servers=s.bootstrap_servers,
            acks="all",
            enable_idempotence=s.kafka_idempotent,
            linger_ms=s.notify_linger_ms,
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            group_id=GROUP,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=s.notify_fetch_wait_ms,
            session_timeout_ms=int(s.notify_session_timeout_s * 1000),
            heartbeat_interval_ms=max(100, int(s.notify_session_timeout_s * 1000) // 3),
        )
        try:
            await self._producer.start()
            await self._consumer.start()
            self._consumer.subscribe([topics.NOTIFICATIONS.name], listener=_Rebalance(self))
            self._consuming = True
            await self._loop(self._consumer)
        finally:
            await self._shutdown()

    async def _loop(self, consumer: AIOKafkaConsumer) -> None:
        committed_at = time.monotonic()
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=1000)
            for tp, records in batches.items():
                for record in records:
                    if not self._in_order(tp.partition, record.offset):
                        state = self.partitions[tp.partition]
                        consumer.seek(tp, state.next_offset)
                        break
                    self._handle(tp.partition, record.offset, record.key, record.headers, record.value)
            self._release_digests()
            self.metrics.held.set(self.gate.held())
            if time.monotonic() - committed_at >= COMMIT_EVERY_S:
                await self._commit(consumer, self.partitions)
                committed_at = time.monotonic()

    def _in_order(self, partition: int, offset: int) -> bool:
        """Whether ``offset`` follows what was read (``PartitionState.read``); False: read again."""
        state = self.partitions.get(partition)
        if state is None:
            return True
        expected = state.next_offset
        reading = state.read(offset)
        if reading is Reading.GAP:
            log.warning(
                "partition %d: offsets %d to %d were not read; reading again", partition, expected, offset - 1
            )
            return False
        if reading is Reading.MISSING:
            log.error(
                "partition %d: offsets %d to %d are missing again after reading again; "
                "a request there (if any) is not sent",
                partition,
                expected,
                offset - 1,
            )
        return True

    async def _shutdown(self) -> None:
        """Gives every partition up as a rebalance would (what is on the wire finishes, the rest is
        left to whoever reads it next), then stops the clients."""
        self._consuming = False
        try:
            await self.revoked(list(self.partitions))
        except KafkaError as exc:
            log.warning("could not commit on the way out: %s", exc)
        if self._consumer is not None:
            await self._consumer.stop()
        if self._producer is not None:
            await self._producer.stop()
        self.partitions.clear()
        self.work.clear()
        self.gate.forget(lambda _request: False)

    # ---------------------------------------------------------------- partitions

    async def assigned(self, partitions: Iterable[int]) -> None:
        """Fences each new partition: everything before the fence is read before anything is sent.

        The partition's state exists before its fence is written: the consumer may already be
        fetching it, and what it reads before the fence waits.
        """
        assert self._producer is not None
        new = [p for p in partitions if p not in self.partitions]
        fences = {}
        for partition in new:
            fences[partition] = Envelope(
                event_ids.derived(PROCESSOR, f"{self.source}/{time.time_ns()}", partition),
                self.source,
                "*",
                events_pb2.DeliveryResumed(partition=partition, worker=self.source),
                datetime.now(UTC),
            )
            self.partitions[partition] = PartitionState(fence=fences[partition].id)
            self.work[partition] = PartitionWork()
        for partition, fence in fences.items():
            headers, value = envelope.encode(fence)
            sent = await self._producer.send_and_wait(
                topics.NOTIFICATIONS.name,
                value,
                key=str(partition).encode(),
                partition=partition,
                headers=headers,
            )
            log.info(
                "partition %d: reading up to the fence at offset %d before sending", partition, sent.offset
            )

    async def revoked(self, partitions: Iterable[int]) -> None:
        """Before another worker (or this one again) takes a partition over: what is on the wire
        finishes and is recorded (bounded); what waits to be retried or for a digest is left to
        the next owner, so that nothing is sent by two."""
        leaving = {p: self.partitions[p] for p in partitions if p in self.partitions}
        deadline = time.monotonic() + REVOKE_WAIT_S
        # Polled: a busy delivery leaves the set when its attempt fails, long before its task ends.
        work = [self.work[p] for p in leaving if p in self.work]
        while any(w.busy for w in work) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        waiting = [t for w in work for t in w.tasks if not t.done()]
        for task in waiting:
            task.cancel()
        if waiting:
            await asyncio.wait(waiting, timeout=1.0)
        if self._consumer is not None and leaving:
            await self._commit(self._consumer, leaving)
        for partition in leaving:
            del self.partitions[partition]
            self.work.pop(partition, None)
        self.gate.forget(lambda request: request.partition in self.partitions)

    async def _commit(self, consumer: AIOKafkaConsumer, states: dict[int, PartitionState]) -> None:
        offsets = {}
        for partition, state in states.items():
            tp = TopicPartition(topics.NOTIFICATIONS.name, partition)
            if tp not in consumer.assignment():
                continue
            offsets[tp] = min(state.open, default=await consumer.position(tp))
        if offsets:
            await consumer.commit(offsets)

    # ---------------------------------------------------------------- records

    def _handle(
        self, partition: int, offset: int, key: bytes | None, headers: Any, value: bytes | None
    ) -> None:
        state = self.partitions.get(partition)
        if state is None:  # not ours (any more): not committed either, its owner reads it
            return
        try:
            event = envelope.decode(list(headers), value)
        except EnvelopeError as exc:
            log.warning("skipping a record delivery cannot read: %s", exc)
            return
        for action in state.fold(partition, offset, key, event):
            if isinstance(action, Start):
                self._start(state, action.request)
            elif isinstance(action, Report):
                self._spawn(partition, self.status_reports.reported(state, action.event, action.report))
            elif isinstance(action, CountSent):
                self.gate.sent(action.recipient, action.at)

    def _start(self, state: PartitionState, request: Request) -> None:
        kind = request.request.kind
        if not state.claim(request):
            self.metrics.deduplicated.labels(kind).inc()
            return
        assert self.journal is not None
        journaled = self.journal.outcome(request.id)
        if journaled is not None:
            self.metrics.deduplicated.labels(kind).inc()
            self._spawn(request.partition, self.outcomes.recover(request, journaled))
        elif not digests.gated(self.settings, request) or self.gate.offer(request.key, request, _now()):
            self._spawn(request.partition, self.sender.deliver([request]))

    def _release_digests(self) -> None:
        for _recipient, requests in self.gate.digests(_now()):
            if requests[0].partition in self.work:
                self._spawn(requests[0].partition, self.sender.deliver(requests))

    def _spawn(self, partition: int, work: Coroutine[Any, Any, None]) -> None:
        tasks = self.work[partition].tasks
        task: asyncio.Task[None] = asyncio.create_task(work)
        tasks.add(task)
        task.add_done_callback(tasks.discard)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.deliverer.revoked(tp.partition for tp in revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.deliverer.assigned(tp.partition for tp in assigned)


def _now() -> datetime:
    return datetime.now(UTC)
