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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from pronto import envelope, event_ids, topics
from pronto.calendar import BusinessCalendar
from pronto.channels import channel_name
from pronto.envelope import Envelope, EnvelopeError
from pronto.v1 import events_pb2
from services.notify.delivery.adapters import (
    Adapter,
    DeliveryError,
    Email,
    Outgoing,
    Sent,
    Slack,
    Smtp,
    Webhook,
)
from services.notify.delivery.journal import Journal
from services.notify.delivery.platforms.mail import ThreadedEmail
from services.notify.delivery.platforms.meta import REENGAGEMENT, SendApi, WhatsApp
from services.notify.delivery.platforms.telegram import Telegram
from services.notify.delivery.platforms.viber import Viber
from services.notify.delivery.platforms.webchat import WebChat, WebChatHub
from services.notify.delivery.platforms.x import X
from services.notify.domain import statuses
from services.notify.domain.gate import Gate, Limit
from services.notify.domain.statuses import Deliveries, Tracked
from services.notify.metrics import NotifyMetrics
from services.notify.settings import Contact, NotifySettings, ShopConfig

log = logging.getLogger("pronto.notify.delivery")
GROUP = "pronto-notify-delivery"
PROCESSOR = "notify-delivery"
DONE_CAPACITY = 200_000
TEXTS_KEPT = 20_000
COMMIT_EVERY_S = 1.0
# How long a partition being taken away waits for its deliveries in flight.
REVOKE_WAIT_S = 10.0
RESTART_PAUSE_S = 2.0
KINDS = {
    events_pb2.RECIPIENT_KIND_CUSTOMER: "customer",
    events_pb2.RECIPIENT_KIND_OPERATOR: "operator",
    events_pb2.RECIPIENT_KIND_SUPERVISOR: "supervisor",
}


@dataclass
class Request:
    partition: int
    offset: int
    key: str
    event: Envelope
    request: events_pb2.NotificationRequested

    @property
    def id(self) -> str:
        return self.request.notification_id


@dataclass
class PartitionState:
    # The id of the DeliveryResumed record this worker wrote on taking the partition over.
    fence: str
    caught_up: bool = False
    waiting: list[Request] = field(default_factory=list)
    # Offsets of requests not finished (waiting, in flight or held): commits stop before the lowest.
    open: dict[int, str] = field(default_factory=dict)
    # Ids with an outcome, or being delivered by this worker.
    done: OrderedDict[str, None] = field(default_factory=OrderedDict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Deliveries on the wire or recording their outcome (not waiting to retry): a partition
    # taken away lets these finish and cancels the others, which its next owner sends.
    busy: set[asyncio.Task[Any]] = field(default_factory=set)
    # The offset after the highest read, and the starts of gaps already read again.
    next_offset: int | None = None
    gaps: set[int] = field(default_factory=set)
    digests_counted: set[str] = field(default_factory=set)
    # What was delivered here, for the platforms' status reports; reports read before catching up.
    deliveries: Deliveries = field(default_factory=Deliveries)
    # WhatsApp free texts sent here, by notification id: sent again as the template if WhatsApp
    # reports its window closed (131047).
    texts_sent: OrderedDict[str, Request] = field(default_factory=OrderedDict)
    reports: list[tuple[Envelope, events_pb2.DeliveryStatusReported]] = field(default_factory=list)

    def remember_text(self, request: Request) -> None:
        self.texts_sent[request.id] = request
        if len(self.texts_sent) > TEXTS_KEPT:
            self.texts_sent.popitem(last=False)

    def finished(self, notification_id: str) -> None:
        self.done[notification_id] = None
        if len(self.done) > DONE_CAPACITY:
            self.done.popitem(last=False)


class Deliverer:
    def __init__(
        self, settings: NotifySettings, metrics: NotifyMetrics, source: str, webchat: WebChatHub | None = None
    ) -> None:
        self.settings = settings
        self.webchat = webchat or WebChatHub()
        self.metrics = metrics
        self.source = source
        self.partitions: dict[int, PartitionState] = {}
        self.gate: Gate[Request] = Gate(self._limit, self._awake)
        self._calendars: dict[str, BusinessCalendar | None] = {}
        # Two lanes: what staff must act on never waits behind what customers are told (issue #26).
        self._customer_slots = asyncio.Semaphore(settings.notify_concurrency)
        self._staff_slots = asyncio.Semaphore(settings.notify_staff_concurrency)
        self._smtp = Smtp(
            settings.notify_smtp_host,
            settings.notify_smtp_port,
            settings.notify_smtp_from,
            settings.notify_timeout_s,
            settings.notify_smtp_username,
            settings.notify_smtp_password.get_secret_value() if settings.notify_smtp_password else None,
            settings.notify_smtp_starttls,
        )
        self.journal: Journal | None = None
        self._session: aiohttp.ClientSession | None = None
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._consuming = False

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
        """Whether ``offset`` follows what was read; once per gap, a gap is read again.

        Offsets of our topics are consecutive: a record missing between two read
        ones would be a request never sent and committed past. A gap is logged and
        read again from its start; one seen twice is taken as real.
        """
        state = self.partitions.get(partition)
        if state is None:
            return True
        expected = state.next_offset
        if expected is not None and offset > expected and expected not in state.gaps:
            state.gaps.add(expected)
            log.warning(
                "partition %d: offsets %d to %d were not read; reading again", partition, expected, offset - 1
            )
            return False
        if expected is not None and offset > expected:
            log.error(
                "partition %d: offsets %d to %d are missing again after reading again; "
                "a request there (if any) is not sent",
                partition,
                expected,
                offset - 1,
            )
        state.next_offset = max(expected or 0, offset + 1)
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
        while any(state.busy for state in leaving.values()) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        waiting = [t for state in leaving.values() for t in state.tasks if not t.done()]
        for task in waiting:
            task.cancel()
        if waiting:
            await asyncio.wait(waiting, timeout=1.0)
        if self._consumer is not None and leaving:
            await self._commit(self._consumer, leaving)
        for partition in leaving:
            del self.partitions[partition]
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
        payload = event.payload
        if isinstance(payload, events_pb2.DeliveryResumed):
            if event.id == state.fence:
                self._caught_up(state)
        elif isinstance(payload, events_pb2.NotificationDelivered) or (
            isinstance(payload, events_pb2.NotificationFailed) and payload.final
        ):
            state.finished(payload.notification_id)
            if isinstance(payload, events_pb2.NotificationDelivered):
                self._track(state, key, event, payload)
                if not state.caught_up and key:
                    self._learn_sent(state, key.decode(), event.time, payload.digest_id)
        elif isinstance(payload, events_pb2.NotificationStatusChanged):
            tracked = state.deliveries.by_notification.get(payload.notification_id)
            if tracked is not None and statuses.advances(tracked.status, payload.status):
                tracked.status = payload.status
        elif isinstance(payload, events_pb2.DeliveryStatusReported):
            if state.caught_up:
                self._spawn(state, self._reported(state, event, payload))
            else:
                state.reports.append((event, payload))
        elif isinstance(payload, events_pb2.NotificationRequested):
            request = Request(partition, offset, (key or b"").decode(), event, payload)
            state.open[offset] = request.id
            if state.caught_up:
                self._start(state, request)
            else:
                state.waiting.append(request)

    def _learn_sent(self, state: PartitionState, recipient: str, at: datetime, digest_id: str) -> None:
        """Messages sent before a takeover count against the recipient's limit; a digest once."""
        if digest_id:
            if digest_id in state.digests_counted:
                return
            state.digests_counted.add(digest_id)
        self.gate.sent(recipient, at)

    def _caught_up(self, state: PartitionState) -> None:
        state.caught_up = True
        waiting, state.waiting = state.waiting, []
        for request in waiting:
            self._start(state, request)
        reports, state.reports = state.reports, []
        for event, report in reports:
            self._spawn(state, self._reported(state, event, report))

    @staticmethod
    def _track(
        state: PartitionState, key: bytes | None, event: Envelope, delivered: events_pb2.NotificationDelivered
    ) -> None:
        recipient = (key or b"").decode().split("/", 2)[-1]
        state.deliveries.sent(
            Tracked(
                delivered.notification_id,
                delivered.conversation_id,
                delivered.adapter,
                recipient,
                delivered.platform_message_id,
                event.time,
            )
        )

    async def _reported(
        self, state: PartitionState, event: Envelope, report: events_pb2.DeliveryStatusReported
    ) -> None:
        """A platform's report, correlated to the notifications it is about: each status once, forward."""
        found = state.deliveries.matching(report)
        if not found and report.notification_id:  # delivered before what this worker has read
            stub = Tracked(
                report.notification_id,
                "",
                channel_name(report.channel),
                report.recipient,
                report.platform_message_id,
                event.time,
                0,
            )
            state.deliveries.sent(stub)  # later reports about it move forward from this one
            found = [stub]
        if not found:
            self.metrics.statuses.labels(channel_name(report.channel), "unmatched").inc()
            log.info(
                "no delivery known here for %s's report %s",
                channel_name(report.channel),
                report.platform_message_id,
            )
            return
        key = f"{event.tenant}/customer/{report.recipient}"
        for tracked in found:
            if not statuses.advances(tracked.status, report.status):
                continue
            tracked.status = report.status
            self.metrics.statuses.labels(tracked.adapter, statuses.name(report.status)).inc()
            changed = events_pb2.NotificationStatusChanged(
                notification_id=tracked.notification_id,
                conversation_id=tracked.conversation_id,
                status=report.status,
                platform_message_id=tracked.platform_message_id or report.platform_message_id,
                adapter=tracked.adapter,
                error_code=report.error_code,
                error_text=report.error_text,
            )
            about = f"{tracked.notification_id}/{tracked.platform_message_id}/status/{report.status}"
            status_id = event_ids.derived(PROCESSOR, about, 0)
            await self._write(
                topics.NOTIFICATIONS.name,
                key,
                Envelope(status_id, self.source, event.tenant, changed, _now(), event.traceparent),
                None,
            )
            if report.status == statuses.FAILED and report.error_code == str(REENGAGEMENT):
                await self._template_instead(state, tracked.notification_id)

    async def _template_instead(self, state: PartitionState, notification_id: str) -> None:
        """WhatsApp took free text outside its 24-hour window and reported 131047 afterwards: an
        operator's reply goes again as the shop's template. Only a request this worker sent is known."""
        request = state.texts_sent.pop(notification_id, None)
        adapter = self._adapter(request) if request is not None else None
        if request is None or not isinstance(adapter, WhatsApp):
            log.warning(
                "WhatsApp's window had closed for %s, which this worker cannot send again", notification_id
            )
            self.metrics.statuses.labels("whatsapp", "not_resent").inc()
            return
        attempts = 0
        try:
            async for attempt in self._retrying():
                with attempt:
                    attempts += 1
                    async with self._slots(request):
                        sent = await adapter.template_instead(_message([request]))
        except DeliveryError as exc:
            await self._failed([request], adapter.name, attempts, exc.reason, exc.code, index=2)
            return
        note = f"WhatsApp reported its 24-hour window closed (131047): sent again as template; {sent.note}"
        await self._outcomes(
            [request],
            lambda r: events_pb2.NotificationDelivered(
                notification_id=r.id,
                conversation_id=r.request.conversation_id,
                adapter=adapter.name,
                attempts=1 + attempts,
                platform_message_id=sent.platform_message_id,
                note=note,
                via_template=True,
            ),
            index=2,
        )

    def _start(self, state: PartitionState, request: Request) -> None:
        kind = request.request.kind
        if request.id in state.done:
            self.metrics.deduplicated.labels(kind).inc()
            state.open.pop(request.offset, None)
            return
        state.finished(request.id)  # from now on a copy of this request is a duplicate
        assert self.journal is not None
        journaled = self.journal.outcome(request.id)
        if journaled is not None:
            self.metrics.deduplicated.labels(kind).inc()
            self._spawn(state, self._recover(request, journaled))
        elif not self._gated(request) or self.gate.offer(request.key, request, _now()):
            self._spawn(state, self._deliver([request]))

    def _gated(self, request: Request) -> bool:
        """Whether the shop limits this kind (by default what storms: breaches, predicted breaches,
        queue alerts); a customer's answers and an operator's work are never held."""
        if request.request.recipient_kind == events_pb2.RECIPIENT_KIND_CUSTOMER:
            return False
        return request.request.kind in self.settings.shop(request.event.tenant).limited_kinds

    def _release_digests(self) -> None:
        for _recipient, requests in self.gate.digests(_now()):
            state = self.partitions.get(requests[0].partition)
            if state is not None:
                self._spawn(state, self._deliver(requests))

    def _spawn(self, state: PartitionState, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)

    # ---------------------------------------------------------------- delivery

    async def _deliver(self, requests: list[Request]) -> None:
        first = requests[0]
        message = _message(requests)
        kind = "digest" if len(requests) > 1 else first.request.kind
        adapter = self._adapter(first)
        attempts = 0
        async with self._busy(first.partition):
            try:
                if adapter is None:
                    raise DeliveryError(f"no contact configured for {first.key}", permanent=True)
                async for attempt in self._retrying():
                    with attempt:
                        attempts += 1
                        # A slot per attempt, not across the waits between them: a platform asking
                        # for minutes of patience does not hold up everyone else's deliveries.
                        async with self._slots(first):
                            sent = await self._attempt(adapter, message, requests, attempts)
            except DeliveryError as exc:
                await self._failed(
                    requests, adapter.name if adapter else "none", attempts, exc.reason, exc.code
                )
                self.metrics.failed.labels(kind, adapter.name if adapter else "none").inc()
                return
            assert adapter is not None
            self.metrics.sent.labels(kind, adapter.name).inc()
            self.metrics.latency.labels(adapter.name).observe(
                max(0.0, (_now() - first.event.time).total_seconds())
            )
            await self._delivered(
                requests, adapter.name, attempts, message.id if len(requests) > 1 else "", sent
            )

    def _slots(self, request: Request) -> asyncio.Semaphore:
        customer = request.request.recipient_kind == events_pb2.RECIPIENT_KIND_CUSTOMER
        return self._customer_slots if customer else self._staff_slots

    @contextlib.asynccontextmanager
    async def _busy(self, partition: int) -> AsyncIterator[None]:
        """Ends the delivery's busy spell (``_attempt`` starts it) however the delivery ends."""
        try:
            yield
        finally:
            state, task = self.partitions.get(partition), asyncio.current_task()
            if state is not None and task is not None:
                state.busy.discard(task)

    async def _delivered(
        self, requests: list[Request], adapter: str, attempts: int, digest_id: str, sent: Sent | None
    ) -> None:
        sent = sent or Sent()
        if sent.note:
            log.info("%s by %s: %s", requests[0].id, adapter, sent.note)
        state = self.partitions.get(requests[0].partition)
        if adapter == "whatsapp" and not sent.via_template and requests[0].request.kind == "reply" and state:
            state.remember_text(requests[0])
        await self._outcomes(
            requests,
            lambda r: events_pb2.NotificationDelivered(
                notification_id=r.id,
                conversation_id=r.request.conversation_id,
                adapter=adapter,
                attempts=attempts,
                digest_id=digest_id,
                platform_message_id=sent.platform_message_id,
                note=sent.note,
                via_template=sent.via_template,
            ),
        )

    async def _attempt(
        self, adapter: Adapter, message: Outgoing, requests: list[Request], attempt: int
    ) -> Sent | None:
        state = self.partitions.get(requests[0].partition)
        task = asyncio.current_task()
        if state is not None and task is not None:
            state.busy.add(task)
        try:
            sent = await _sent_by(adapter, message)
        except DeliveryError as exc:
            if state is not None and task is not None:
                state.busy.discard(task)  # waiting to retry: a new owner may take over
            if not exc.permanent and attempt < self.settings.notify_attempts:
                self.metrics.retried.labels(adapter.name).inc()
                log.info("delivery of %s failed (attempt %d), retrying: %s", message.id, attempt, exc.reason)
            raise
        assert self.journal is not None
        for request in requests:
            self.journal.write(request.id, "delivered")
        return sent

    def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            stop=stop_after_attempt(self.settings.notify_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda e: isinstance(e, DeliveryError) and not e.permanent),
            reraise=True,
        )

    def _wait(self, retry: RetryCallState) -> float:
        backoff = wait_exponential_jitter(
            multiplier=self.settings.notify_backoff_initial_s, max=self.settings.notify_backoff_max_s
        )(retry)
        error = retry.outcome.exception() if retry.outcome else None
        asked = error.retry_after_s if isinstance(error, DeliveryError) and error.retry_after_s else 0.0
        return max(backoff, min(asked, self.settings.notify_retry_after_max_s))

    async def _failed(
        self,
        requests: list[Request],
        adapter: str,
        attempts: int,
        reason: str,
        code: str = "",
        index: int = 1,
    ) -> None:
        """``index`` 2: the failure of a second delivery of one request (the template after a 131047)."""
        assert self.journal is not None
        for request in requests:
            self.journal.write(request.id, "failed")
        log.warning("giving up on %s after %d attempts: %s", [r.id for r in requests], attempts, reason)

        def failure(r: Request) -> events_pb2.NotificationFailed:
            return events_pb2.NotificationFailed(
                notification_id=r.id,
                conversation_id=r.request.conversation_id,
                adapter=adapter,
                attempts=attempts,
                error=reason,
                final=True,
                error_code=code,
            )

        await self._outcomes(requests, failure, dead_letter=True, index=index)

    async def _recover(self, request: Request, outcome: str) -> None:
        """Sent before a crash, its outcome event lost: write the event, send nothing."""
        log.info("notification %s was %s before a restart; recording it", request.id, outcome)
        if outcome == "delivered":
            await self._outcomes(
                [request],
                lambda r: events_pb2.NotificationDelivered(
                    notification_id=r.id, conversation_id=r.request.conversation_id, adapter="journal"
                ),
            )
        else:
            await self._failed([request], "journal", 0, "failed before a restart")

    async def _outcomes(
        self, requests: list[Request], payload: Any, dead_letter: bool = False, index: int = 1
    ) -> None:
        """``index`` 2: a second outcome of one request (a template sent after WhatsApp's report)."""
        for request in requests:
            event = Envelope(
                event_ids.derived(PROCESSOR, request.id, index),
                self.source,
                request.event.tenant,
                payload(request),
                _now(),
                request.event.traceparent,
            )
            await self._write(topics.NOTIFICATIONS.name, request.key, event, request.partition)
            if dead_letter:
                await self._write(topics.DEADLETTER.name, request.key, event, None)
            state = self.partitions.get(request.partition)
            if state is not None:
                state.open.pop(request.offset, None)

    async def _write(self, topic: str, key: str, event: Envelope, partition: int | None) -> None:
        """Keeps trying while the broker is away: an outcome not written keeps its request open."""
        assert self._producer is not None
        headers, value = envelope.encode(event)
        delay = 0.5
        while True:
            try:
                await self._producer.send_and_wait(
                    topic, value, key=key.encode(), partition=partition, headers=headers
                )
                return
            except KafkaError as exc:
                log.warning("could not record %s on %s (%s); retrying in %.1f s", event.id, topic, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    # ---------------------------------------------------------------- who, how, when

    def _adapter(self, request: Request) -> Adapter | None:
        assert self._session is not None
        shop = self.settings.shop(request.event.tenant)
        kind = request.request.recipient_kind
        if kind == events_pb2.RECIPIENT_KIND_CUSTOMER:
            channel = channel_name(request.request.channel)
            own = self._outbound(shop, channel)
            if own is not None:
                return own
            target = shop.customer_webhook(channel)
            return Webhook(self._session, target.url, target.secret.get_secret_value()) if target else None
        contact = (
            shop.operator(request.request.recipient)
            if kind == events_pb2.RECIPIENT_KIND_OPERATOR
            else shop.supervisors
        )
        return self._by_contact(contact)

    def _outbound(self, shop: ShopConfig, channel: str) -> Adapter | None:
        """The channel's own API when the shop gave its credentials (README, Replies)."""
        assert self._session is not None
        out, session = shop.outbound, self._session
        if channel == "telegram" and out.telegram:
            return Telegram(session, out.telegram.bot_token.get_secret_value(), out.telegram.api_base)
        if channel == "whatsapp" and out.whatsapp:
            w = out.whatsapp
            template = w.template.template() if w.template else None
            return WhatsApp(
                session, w.phone_number_id, w.access_token.get_secret_value(), template, w.api_base
            )
        if channel in ("facebook", "instagram") and (send_api := getattr(out, channel)):
            return SendApi(
                session,
                send_api.access_token.get_secret_value(),
                channel,
                send_api.human_agent,
                send_api.api_base,
            )
        if channel == "viber" and out.viber:
            return Viber(
                session, out.viber.auth_token.get_secret_value(), out.viber.sender_name, out.viber.api_base
            )
        if channel == "x" and out.x:
            return X(session, out.x.access_token.get_secret_value(), out.x.api_base)
        email = ThreadedEmail(self._smtp, out.email.sender) if out.email else None
        if channel in ("email", "contact_form") and email is not None:
            return email
        if channel == "web_chat" and out.web_chat:
            return WebChat(self.webchat, email, out.web_chat.email_after_s)
        return None

    def _by_contact(self, contact: Contact | None) -> Adapter | None:
        assert self._session is not None
        if contact is None:
            return None
        if contact.email:
            return Email(self._smtp, contact.email)
        if contact.webhook:
            return Webhook(self._session, contact.webhook.url, contact.webhook.secret.get_secret_value())
        if contact.slack:
            return Slack(self._session, contact.slack.get_secret_value())
        return None

    def _limit(self, key: str) -> Limit:
        return self.settings.shop(key.split("/", 1)[0]).limit()

    def _awake(self, key: str, at: datetime) -> bool:
        """Whether the recipient named by ``key`` (tenant/kind/id) may be told something at ``at``."""
        if key not in self._calendars:
            tenant, kind, recipient = [*key.split("/", 2), "", ""][:3]
            shop = self.settings.shop(tenant)
            contact = shop.operator(recipient) if kind == "operator" else shop.supervisors
            self._calendars[key] = shop.calendar(contact.hours if contact else {})
        calendar = self._calendars[key]
        return calendar is None or calendar.is_open(at)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, deliverer: Deliverer) -> None:
        self.deliverer = deliverer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.deliverer.revoked(tp.partition for tp in revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self.deliverer.assigned(tp.partition for tp in assigned)


async def _sent_by(adapter: Adapter, message: Outgoing) -> Sent | None:
    """A failure the adapter did not foresee is retried, then dead-lettered, like any other:
    a notification is never dropped by a bug in between."""
    try:
        return await adapter.send(message)
    except DeliveryError:
        raise
    except Exception as exc:
        log.exception("unexpected failure sending %s by %s", message.id, adapter.name)
        raise DeliveryError(f"unexpected {exc!r}", permanent=False) from exc


def _message(requests: list[Request]) -> Outgoing:
    first = requests[0]
    r = first.request
    common: dict[str, Any] = {
        "tenant": first.event.tenant,
        "recipient_kind": KINDS.get(r.recipient_kind, "unknown"),
        "recipient": r.recipient,
        "language": r.language,
        "channel": channel_name(r.channel),
    }
    if len(requests) == 1:
        return Outgoing(
            id=r.notification_id,
            kind=r.kind,
            text=r.text,
            conversation_id=r.conversation_id,
            created_at=first.event.time,
            customer_wrote_at=r.customer_wrote_at.ToDatetime(UTC)
            if r.HasField("customer_wrote_at")
            else None,
            thread_message_id=r.thread.message_id,
            thread_references=tuple(r.thread.references),
            thread_subject=r.thread.subject,
            customer_email=r.customer_email,
            operator_name=r.operator_name,
            **common,
        )
    ids = tuple(q.id for q in requests)
    lines = "\n".join(f"- {q.request.text}" for q in requests)
    return Outgoing(
        id=event_ids.derived(PROCESSOR, ",".join(ids), 0),
        kind="digest",
        text=f"{len(requests)} notifications while you were away or busy:\n{lines}",
        conversation_id="",
        created_at=_now(),
        covers=ids,
        **common,
    )


def _now() -> datetime:
    return datetime.now(UTC)
