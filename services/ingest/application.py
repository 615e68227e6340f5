"""Ingest's use cases: check, name, deduplicate and write events.

Entry points (gRPC servicers, HTTP routes) authenticate the caller, then
``begin`` writes and ``settle`` them: every answer waits for the broker's
acknowledgement, or says UNAVAILABLE when it did not come in time. A stream
begins a whole batch of writes before settling any, which is what makes it fast.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from aiokafka.errors import KafkaError
from google.protobuf.message import Message

from pronto import event_ids, topics
from pronto.auth import PermissionDenied, resolve_tenant
from pronto.channels import channel_name as channel_label
from pronto.envelope import Envelope
from pronto.kafka.producer import BrokerUnavailable, Receipt
from pronto.metrics import ServiceMetrics
from pronto.tracing import Tracer
from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from services.ingest import validation
from services.ingest.dedupe import RecentEvents
from services.ingest.validation import InvalidEvent
from services.ingest.verdicts import Verdicts

T = TypeVar("T")
# What a single write can fail with, before or after reaching the broker.
Refusal = InvalidEvent | PermissionDenied | BrokerUnavailable


class EventSink(Protocol):
    """Where events go: ``EventProducer`` in production."""

    async def send_many(
        self, topic: str, records: Sequence[tuple[str, Envelope]], receipts: Sequence[asyncio.Future[Receipt]]
    ) -> None: ...


@dataclass(frozen=True)
class Write:
    """A checked event, ready to be handed to the broker."""

    topic: str
    key: str
    label: str
    event: Envelope
    # Kept for someone to look at, not accepted: counted as rejected ("dead_lettered").
    dead_letter: bool = False


@dataclass(frozen=True)
class Pending:
    """A write handed to the broker, not yet settled."""

    event_id: str
    label: str
    delivery: asyncio.Future[Receipt]
    duplicate: bool
    dead_letter: bool = False


@dataclass(frozen=True)
class Outcome:
    event_id: str
    duplicate: bool
    receipt: Receipt


@dataclass(frozen=True)
class TransferOutcome:
    outcome: Outcome
    # Who has the conversation now ("" while it waits in a queue, or for a duplicate request).
    operator_id: str = ""
    queued: bool = False


class TransferRefused(Exception):
    """Routing could not make the transfer (a colleague at capacity, not the holder, ...): nothing
    about the conversation changed. The request stays in its history, as ``event_id``."""

    def __init__(self, reason: str, event_id: str) -> None:
        super().__init__(reason)
        self.event_id = event_id


class TransferUndecided(Exception):
    """The request (``event_id``) is written but routing did not answer in time: it will still
    decide it."""

    def __init__(self, message: str, event_id: str) -> None:
        super().__init__(message)
        self.event_id = event_id


class Ingest:
    def __init__(
        self,
        sink: EventSink,
        recent: RecentEvents[Receipt],
        metrics: ServiceMetrics,
        tracer: Tracer,
        source: str,
        ack_timeout_s: float,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        verdicts: Verdicts | None = None,
        transfer_timeout_s: float = 10.0,
    ) -> None:
        self._verdicts = verdicts
        self.transfer_timeout_s = transfer_timeout_s
        self._sink = sink
        self._recent = recent
        self._metrics = metrics
        self._tracer = tracer
        self._source = source
        self.ack_timeout_s = ack_timeout_s
        self._clock = clock

    async def publish(
        self, token_tenant: str, request: ingest_pb2.PublishRequest, traceparent: str = ""
    ) -> Outcome:
        return await self._one(self.check_message(token_tenant, request, traceparent))

    async def publish_messages(
        self, tenant: str, messages: Sequence[events_pb2.MessageReceived], traceparent: str = ""
    ) -> list[Outcome]:
        """All of a webhook's messages, or none answered as accepted.

        InvalidEvent when one of them is invalid (nothing is written then);
        BrokerUnavailable when any write was not acknowledged, after which the
        platform's retry writes only what is missing (the rest are duplicates).
        """
        writes = [
            self.check_message(tenant, ingest_pb2.PublishRequest(message_received=m), traceparent)
            for m in messages
        ]
        settled = await self.settle(await self.begin(writes))
        for result in settled:
            if isinstance(result, BrokerUnavailable):
                raise result
        return [result for result in settled if isinstance(result, Outcome)]

    async def publish_statuses(
        self, tenant: str, reports: Sequence[events_pb2.DeliveryStatusReported], traceparent: str = ""
    ) -> list[Outcome]:
        """Platforms' delivery reports, keyed as notify's requests to that customer are (so the delivery
        worker owning them reads them); the same report twice is the same event."""
        writes = []
        for report in reports:
            label = channel_label(report.channel)
            about = report.platform_message_id or f"up_to:{report.up_to.ToJsonString()}:{report.recipient}"
            event_id = event_ids.from_channel_message(tenant, label, f"status:{about}:{report.status}")
            key = f"{tenant}/customer/{report.recipient}"
            writes.append(
                Write(
                    topics.NOTIFICATIONS.name,
                    key,
                    label,
                    self._envelope(tenant, event_id, report, traceparent),
                )
            )
        settled = await self.settle(await self.begin(writes))
        for result in settled:
            if isinstance(result, BrokerUnavailable):
                raise result
        return [result for result in settled if isinstance(result, Outcome)]

    async def publish_dead_letters(
        self, tenant: str, parts: Sequence[events_pb2.WebhookPartDeadLettered], traceparent: str = ""
    ) -> list[Outcome]:
        """Parts of a webhook delivery no parser could read, on the dead-letter topic.

        The id comes from the body and the part's place in it, so the platform's retry of the
        same delivery (after a 503) writes no second dead letter. A part is counted under the
        channel it belongs to (``whatsapp``, ``facebook``, ``instagram`` for Meta's route), where
        the messages accepted next to it are counted; under the route only when no channel is known.
        """
        writes = []
        for part in parts:
            about = f"deadletter:{hashlib.sha256(part.body).hexdigest()}:{part.path}"
            event_id = event_ids.from_channel_message(tenant, part.route, about)
            envelope = self._envelope(tenant, event_id, part, traceparent)
            known = part.channel != common_pb2.CHANNEL_UNSPECIFIED
            label = channel_label(part.channel) if known else part.route
            writes.append(Write(topics.DEADLETTER.name, f"{tenant}/{part.route}", label, envelope, True))
        settled = await self.settle(await self.begin(writes))
        for result in settled:
            if isinstance(result, BrokerUnavailable):
                raise result
        return [result for result in settled if isinstance(result, Outcome)]

    async def set_operator_status(
        self, token_tenant: str, request: operator_pb2.SetOperatorStatusRequest, traceparent: str = ""
    ) -> Outcome:
        tenant = self._checked("operator", lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked("operator", lambda: validation.check(validation.status_problems(request)))
        payload = events_pb2.OperatorStatusChanged(
            operator_id=request.operator_id,
            status=request.status,
            reason=request.reason,
            channel=request.channel,
        )
        event_id = self._event_id(tenant, "operator-status", request.idempotency_key)
        envelope = self._envelope(tenant, event_id, payload, traceparent)
        return await self._one(Write(topics.OPERATORS.name, request.operator_id, "operator", envelope))

    async def post_reply(
        self, token_tenant: str, request: operator_pb2.PostReplyRequest, traceparent: str = ""
    ) -> Outcome:
        tenant = self._checked("reply", lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked("reply", lambda: validation.check(validation.reply_problems(request)))
        payload = events_pb2.OperatorReplied(
            conversation_id=request.conversation_id,
            operator_id=request.operator_id,
            text=request.text,
            attachments=request.attachments,
            awaiting_customer=request.awaiting_customer,
        )
        payload.sent_at.FromDatetime(self._clock())
        event_id = self._event_id(tenant, "reply", request.idempotency_key)
        envelope = self._envelope(tenant, event_id, payload, traceparent)
        return await self._one(Write(topics.OUTBOUND.name, request.conversation_id, "reply", envelope))

    async def update_profile(
        self, token_tenant: str, request: operator_pb2.UpdateOperatorProfileRequest, traceparent: str = ""
    ) -> Outcome:
        tenant = self._checked("operator", lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked("operator", lambda: validation.check(validation.profile_problems(request)))
        event_id = self._event_id(tenant, "operator-profile", request.idempotency_key)
        envelope = self._envelope(tenant, event_id, request.profile, traceparent)
        return await self._one(
            Write(topics.OPERATORS.name, request.profile.operator_id, "operator", envelope)
        )

    async def resolve(
        self, token_tenant: str, request: operator_pb2.ResolveConversationRequest, traceparent: str = ""
    ) -> Outcome:
        tenant = self._checked("resolve", lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked("resolve", lambda: validation.check(validation.resolve_problems(request)))
        payload = events_pb2.ConversationResolved(
            conversation_id=request.conversation_id,
            operator_id=request.operator_id,
            resolution=request.resolution,
        )
        event_id = self._event_id(tenant, "resolve", request.idempotency_key)
        envelope = self._envelope(tenant, event_id, payload, traceparent)
        return await self._one(Write(topics.OUTBOUND.name, request.conversation_id, "resolve", envelope))

    async def set_conversation_state(
        self, token_tenant: str, request: operator_pb2.SetConversationStateRequest, traceparent: str = ""
    ) -> Outcome:
        """Open, pending or on hold: on the conversation's key of the outbound topic, beside its
        replies and resolutions, so SLA and the read models see them in the order they were made."""
        tenant = self._checked("state", lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked("state", lambda: validation.check(validation.state_problems(request)))
        payload = events_pb2.ConversationStateChanged(
            conversation_id=request.conversation_id,
            operator_id=request.operator_id,
            state=request.state,
            reason=request.reason,
        )
        event_id = self._event_id(tenant, "conversation-state", request.idempotency_key)
        envelope = self._envelope(tenant, event_id, payload, traceparent)
        return await self._one(Write(topics.OUTBOUND.name, request.conversation_id, "state", envelope))

    async def transfer(
        self, token_tenant: str, request: operator_pb2.TransferConversationRequest, traceparent: str = ""
    ) -> TransferOutcome:
        """Written on the conversation's key of the outbound topic (ordered with its replies and
        resolution), then answered once routing has decided (``verdicts``): routing alone knows
        whether a colleague has room. A refusal raises ``TransferRefused``; nothing changed."""
        tenant = self._checked("transfer", lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked("transfer", lambda: validation.check(validation.transfer_problems(request)))
        if self._verdicts is None:
            raise BrokerUnavailable("this ingest cannot read routing's answers (no verdict reader)")
        payload = events_pb2.ConversationTransferRequested(
            conversation_id=request.conversation_id,
            operator_id=request.operator_id,
            by_supervisor=request.by_supervisor,
            to_operator_id=request.to_operator_id,
            to_team=request.to_team,
            reason=request.reason,
            override_capacity=request.override_capacity,
        )
        event_id = self._event_id(tenant, "transfer", request.idempotency_key)
        envelope = self._envelope(tenant, event_id, payload, traceparent)
        try:
            answer = await asyncio.wait_for(self._verdicts.expect(event_id), self.ack_timeout_s)
        except (TimeoutError, OSError, KafkaError, LookupError) as exc:  # LookupError: no topic
            raise BrokerUnavailable(f"cannot follow routing's answers: {exc!r}") from exc
        try:
            outcome = await self._one(
                Write(topics.OUTBOUND.name, request.conversation_id, "transfer", envelope)
            )
            if outcome.duplicate:  # decided when it was first written; the answer is in its history
                return TransferOutcome(outcome)
            try:
                verdict = await asyncio.wait_for(asyncio.shield(answer), self.transfer_timeout_s)
            except TimeoutError:
                raise TransferUndecided(
                    f"the transfer was written (event {event_id}) but routing has not answered within "
                    f"{self.transfer_timeout_s:g} s; the conversation's history will show the outcome",
                    event_id,
                ) from None
        finally:
            self._verdicts.forget(event_id)
        if isinstance(verdict, events_pb2.ConversationTransferRefused):
            raise TransferRefused(verdict.reason, event_id)
        return TransferOutcome(outcome, verdict.to_operator_id, queued=not verdict.to_operator_id)

    def check_message(
        self, token_tenant: str, request: ingest_pb2.PublishRequest, traceparent: str = ""
    ) -> Write:
        """A customer message as a write, or InvalidEvent / PermissionDenied saying why not."""
        message = request.message_received
        label = channel_label(message.channel)
        tenant = self._checked(label, lambda: resolve_tenant(token_tenant, request.tenant))
        self._checked(label, lambda: validation.check(validation.publish_problems(request, self._clock())))
        if request.idempotency_key:
            event_id = event_ids.from_idempotency_key(tenant, "message", request.idempotency_key)
        else:
            event_id = event_ids.from_channel_message(tenant, label, message.channel_message_id)
        envelope = self._envelope(tenant, event_id, message, traceparent)
        return Write(topics.INBOUND.name, message.conversation_id, label, envelope)

    async def begin(self, writes: Sequence[Write]) -> list[Pending | BrokerUnavailable]:
        """Hand the writes to the broker, one batch per topic; retries of in-flight ids join them."""
        results: list[Pending | BrokerUnavailable] = []
        new: dict[str, list[tuple[int, Write, asyncio.Future[Receipt]]]] = defaultdict(list)
        for index, write in enumerate(writes):
            delivery, duplicate = self._recent.claim(write.event.id)
            results.append(Pending(write.event.id, write.label, delivery, duplicate, write.dead_letter))
            if not duplicate:
                new[write.topic].append((index, write, delivery))
        for topic, claimed in new.items():
            records = [(write.key, write.event) for _, write, _ in claimed]
            try:
                await self._sink.send_many(topic, records, [delivery for _, _, delivery in claimed])
            except BrokerUnavailable as exc:
                for index, write, delivery in claimed:
                    self._recent.fail(delivery, exc)
                    self._metrics.rejected(write.label, "unavailable")
                    results[index] = exc
            except BaseException as exc:
                # Cancelled (a deadline) or a bug: no claim may stay in flight, or its retries would hang.
                failure = exc if isinstance(exc, Exception) else BrokerUnavailable("the write was cancelled")
                for _, _, delivery in claimed:
                    self._recent.fail(delivery, failure)
                raise
        return results

    async def settle(self, begun: Sequence[Pending | BrokerUnavailable]) -> list[Outcome | BrokerUnavailable]:
        """Wait once for all of ``begun`` (at most the acknowledgement timeout), then conclude each."""
        deliveries = [p.delivery for p in begun if isinstance(p, Pending)]
        if deliveries:
            await asyncio.wait(deliveries, timeout=self.ack_timeout_s)
        settled: list[Outcome | BrokerUnavailable] = []
        for pending in begun:
            try:
                settled.append(pending if isinstance(pending, BrokerUnavailable) else self.conclude(pending))
            except BrokerUnavailable as exc:
                settled.append(exc)
        return settled

    def conclude(self, pending: Pending) -> Outcome:
        """The outcome of a write its caller waited for; UNAVAILABLE unless the broker acknowledged it.

        A write still in flight goes on: a retry with the same event id joins it instead of writing again.
        """
        delivery = pending.delivery
        if not delivery.done() or delivery.cancelled() or delivery.exception() is not None:
            self._metrics.rejected(pending.label, "unavailable")
            if delivery.done() and not delivery.cancelled():
                raise BrokerUnavailable(str(delivery.exception()))
            raise BrokerUnavailable(f"Kafka did not acknowledge within {self.ack_timeout_s:g} s")
        if pending.duplicate:
            self._metrics.deduplicated(pending.label)
        elif pending.dead_letter:
            self._metrics.rejected(pending.label, "dead_lettered")
        else:
            self._metrics.accepted(pending.label)
        return Outcome(event_id=pending.event_id, duplicate=pending.duplicate, receipt=delivery.result())

    async def _one(self, write: Write) -> Outcome:
        (result,) = await self.settle(await self.begin([write]))
        if isinstance(result, BrokerUnavailable):
            raise result
        return result

    def _envelope(self, tenant: str, event_id: str, payload: Message, traceparent: str) -> Envelope:
        return Envelope(
            id=event_id,
            source=self._source,
            tenant=tenant,
            payload=payload,
            time=self._clock(),
            traceparent=self._tracer.child_traceparent(traceparent),
        )

    @staticmethod
    def _event_id(tenant: str, kind: str, idempotency_key: str) -> str:
        if idempotency_key:
            return event_ids.from_idempotency_key(tenant, kind, idempotency_key)
        return str(uuid.uuid4())

    def _checked(self, label: str, check: Callable[[], T]) -> T:
        try:
            return check()
        except InvalidEvent:
            self._metrics.rejected(label, "invalid")
            raise
        except PermissionDenied:
            self._metrics.rejected(label, "forbidden")
            raise
