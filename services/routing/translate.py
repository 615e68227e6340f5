"""Between the contracts (protobuf events) and the routing domain's plain values. No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from pronto.channels import channel_name
from pronto.v1 import common_pb2, events_pb2
from services.routing.domain.decision import Candidate
from services.routing.domain.model import Conversation, Operator, Status
from services.routing.domain.transfer import Transfer

STATUSES = {
    events_pb2.OPERATOR_STATUS_ONLINE: Status.ONLINE,
    events_pb2.OPERATOR_STATUS_AWAY: Status.AWAY,
    events_pb2.OPERATOR_STATUS_OFFLINE: Status.OFFLINE,
}
# Phone contacts that ask for a call back rather than carry a question in writing.
CALLBACK_KINDS = frozenset(
    {
        events_pb2.MESSAGE_KIND_CALLBACK_REQUEST,
        events_pb2.MESSAGE_KIND_MISSED_CALL,
        events_pb2.MESSAGE_KIND_VOICEMAIL,
    }
)


def topic_name(topic: int) -> str:
    return common_pb2.SupportTopic.Name(topic).removeprefix("SUPPORT_TOPIC_").lower()


def conversation(message: events_pb2.MessageReceived, now: datetime, last_operator_id: str) -> Conversation:
    tier = max(0, message.sender.tier - common_pb2.CUSTOMER_TIER_STANDARD)
    return Conversation(
        id=message.conversation_id,
        channel=channel_name(message.channel),
        language=message.language.split("-")[0].lower(),
        topics=tuple(topic_name(t) for t in message.topic_hints),
        tier=tier,
        is_public=message.is_public,
        callback=message.kind in CALLBACK_KINDS,
        customer_id=message.sender.id,
        last_operator_id=last_operator_id,
        waiting_since=now,
    )


def profiled(profile: events_pb2.OperatorProfileUpdated, previous: Operator | None) -> Operator:
    """The operator with a new profile; status, load and idle time carry over."""
    return Operator(
        id=profile.operator_id,
        display_name=profile.display_name or profile.operator_id,
        languages={s.language.split("-")[0].lower(): s.proficiency for s in profile.languages},
        topics=frozenset(topic_name(t) for t in profile.topics),
        capacities={channel_name(c.channel): c.max_concurrent for c in profile.capacities},
        team=profile.team,
        status=previous.status if previous else Status.OFFLINE,
        load=previous.load if previous else {},
        idle_since=previous.idle_since if previous else None,
        paused=previous.paused if previous else frozenset(),
    )


def with_status(change: events_pb2.OperatorStatusChanged, previous: Operator | None) -> Operator:
    """The operator with a new status, or with one channel paused or resumed (``change.channel``);
    one without a profile yet handles nothing."""
    status = STATUSES.get(change.status, Status.OFFLINE)
    if previous is None:
        previous = Operator(change.operator_id, change.operator_id, {}, frozenset(), {})
    if change.channel == common_pb2.CHANNEL_UNSPECIFIED:
        return replace(previous, status=status)
    channel = channel_name(change.channel)
    paused = previous.paused - {channel} if status is Status.ONLINE else previous.paused | {channel}
    return replace(previous, paused=paused)


def candidates(listed: tuple[Candidate, ...]) -> list[events_pb2.Candidate]:
    return [events_pb2.Candidate(operator_id=c.operator_id, score=c.score, reason=c.reason) for c in listed]


def transfer(request: events_pb2.ConversationTransferRequested, request_id: str) -> Transfer:
    return Transfer(
        conversation_id=request.conversation_id,
        by=request.operator_id,
        by_supervisor=request.by_supervisor,
        to_operator=request.to_operator_id,
        to_team=request.to_team,
        reason=request.reason,
        override=request.override_capacity,
        request_id=request_id,
    )


def transfer_out(made: Transfer) -> events_pb2.Transfer:
    return events_pb2.Transfer(
        by_operator_id="" if made.by_supervisor else made.by,
        by_supervisor=made.by_supervisor,
        to_operator_id=made.to_operator,
        to_team=made.to_team,
        reason=made.reason,
        capacity_overridden=made.override,
        request_event_id=made.request_id,
    )
