"""Ingest's use cases: check, name, deduplicate and write events.

Entry points (gRPC servicers, HTTP routes) authenticate the caller, then
``begin`` writes and ``settle`` them: every answer waits for the broker's
acknowledgement, or says UNAVAILABLE when it did not come in time. A stream
begins a whole batch of writes before settling any, which is what makes it fast.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.errors import KafkaError

from pronto import event_ids, topics
from pronto.auth import resolve_tenant
from pronto.channels import channel_name as channel_label
from pronto.errors import BrokerUnavailable
from pronto.kafka.producer import Receipt
from pronto.metrics import ServiceMetrics
from pronto.tracing import Tracer
from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from services.ingest import validation
from services.ingest.dedupe import RecentEvents
from services.ingest.errors import TransferRefused, TransferUndecided
from services.ingest.verdicts import Verdicts
from services.ingest.writes import EventSink, Outcome, Write, Writer


@dataclass(frozen=True)
class TransferOutcome:
    outcome: Outcome
    # Who has the conversation now ("" while it waits in a queue, or for a duplicate request).
    operator_id: str = ""
    queued: bool = False


class Ingest(Writer):
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
        super().__init__(sink, recent, metrics, tracer, source, ack_timeout_s, clock)
        self._verdicts = verdicts
        self.transfer_timeout_s = transfer_timeout_s

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
