"""What makes an incoming event acceptable. Pure functions: no I/O, no clock of their own.

Each check names the field it is about, so a caller can fix its request from
the error message alone.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from services.ingest.errors import InvalidEvent

MAX_ID_LENGTH = 200
MAX_TEXT_BYTES = 64 * 1024
MAX_ATTACHMENTS = 50
# Whole events stay well under the producer's batch size (512 KiB) and Kafka's default message size.
MAX_EVENT_BYTES = 256 * 1024
MAX_CLOCK_SKEW = timedelta(minutes=5)
# google.protobuf.Timestamp's own range, 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z, which
# is also what Python's datetime holds: outside it ToDatetime() raises, and so would every consumer.
MIN_TIMESTAMP_S = -62_135_596_800
MAX_TIMESTAMP_S = 253_402_300_799
# google.protobuf.Duration's own range (about 10,000 years either way); a caller's duration is never negative.
MAX_DURATION_S = 315_576_000_000
MAX_NANOS = 999_999_999
LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
CHANNELS = frozenset(common_pb2.Channel.values())
TIERS = frozenset(common_pb2.CustomerTier.values())
TOPICS = frozenset(common_pb2.SupportTopic.values()) - {common_pb2.SUPPORT_TOPIC_UNSPECIFIED}
KINDS = frozenset(events_pb2.MessageKind.values())
STATUSES = frozenset(events_pb2.OperatorStatus.values())
CONVERSATION_STATES = frozenset(events_pb2.ConversationState.values())
# Kinds that carry no text of their own: a sticker, a missed call, a deletion...
TEXTLESS_KINDS = {
    events_pb2.MESSAGE_KIND_STICKER,
    events_pb2.MESSAGE_KIND_LOCATION,
    events_pb2.MESSAGE_KIND_DELETED,
    events_pb2.MESSAGE_KIND_MISSED_CALL,
    events_pb2.MESSAGE_KIND_CALLBACK_REQUEST,
    # A delivery-status report may be all machine parts, no text.
    events_pb2.MESSAGE_KIND_AUTOMATIC,
}


def _identifier(value: str, field: str, required: bool = True) -> list[str]:
    if not value:
        return [f"{field} is required"] if required else []
    if len(value) > MAX_ID_LENGTH:
        return [f"{field} is {len(value)} characters long, at most {MAX_ID_LENGTH} allowed"]
    if not value.isprintable() or value != value.strip():
        return [f"{field} must not contain control characters or surrounding spaces"]
    return []


def _text(value: str, field: str) -> list[str]:
    size = len(value.encode("utf-8"))
    return [f"{field} is {size} bytes, at most {MAX_TEXT_BYTES} allowed"] if size > MAX_TEXT_BYTES else []


def _attachments(attachments: list[common_pb2.Attachment], field: str) -> list[str]:
    if len(attachments) > MAX_ATTACHMENTS:
        return [f"{field} has {len(attachments)} entries, at most {MAX_ATTACHMENTS} allowed"]
    return [
        f"{field}[{i}].size_bytes must not be negative" for i, a in enumerate(attachments) if a.size_bytes < 0
    ]


def _enum(value: int, allowed: frozenset[int], field: str, name: str) -> list[str]:
    if value == 0:
        return [f"{field} is required (a {name} other than UNSPECIFIED)"]
    return [] if value in allowed else [f"{field} has unknown {name} value {value}"]


def _timestamp(value: Timestamp, field: str) -> list[str]:
    if not MIN_TIMESTAMP_S <= value.seconds <= MAX_TIMESTAMP_S:
        return [
            f"{field}.seconds is {value.seconds}, outside 0001-01-01..9999-12-31 "
            f"({MIN_TIMESTAMP_S} to {MAX_TIMESTAMP_S})"
        ]
    if not 0 <= value.nanos <= MAX_NANOS:
        return [f"{field}.nanos is {value.nanos}, expected 0 to {MAX_NANOS}"]
    return []


def _duration(value: Duration, field: str) -> list[str]:
    if not 0 <= value.seconds <= MAX_DURATION_S:
        return [f"{field}.seconds is {value.seconds}, expected 0 to {MAX_DURATION_S}"]
    if not 0 <= value.nanos <= MAX_NANOS:
        return [f"{field}.nanos is {value.nanos}, expected 0 to {MAX_NANOS}"]
    return []


def time_problems(message: Message, prefix: str = "") -> list[str]:
    """Every Timestamp and Duration set anywhere in ``message``, found by walking its descriptor.

    Protobuf stores any int64 in them, but converting one out of range raises (ValueError,
    OverflowError) wherever it is read: in our own checks, and in every consumer after us. A
    walk rather than a list of fields, so that a field added to a contract is checked too.
    """
    problems: list[str] = []
    for descriptor, value in message.ListFields():
        if descriptor.message_type is None:
            continue
        path = f"{prefix}{descriptor.name}"
        if descriptor.message_type.GetOptions().map_entry:
            items = [(f"{path}[{k!r}]", v) for k, v in value.items() if isinstance(v, Message)]
        elif descriptor.is_repeated:
            items = [(f"{path}[{i}]", v) for i, v in enumerate(value)]
        else:
            items = [(path, value)]
        for name, item in items:
            if isinstance(item, Timestamp):
                problems += _timestamp(item, name)
            elif isinstance(item, Duration):
                problems += _duration(item, name)
            else:
                problems += time_problems(item, f"{name}.")
    return problems


def message_problems(message: events_pb2.MessageReceived, now: datetime) -> list[str]:
    f = "message_received"
    problems = _identifier(message.conversation_id, f"{f}.conversation_id")
    problems += _enum(message.channel, CHANNELS, f"{f}.channel", "Channel")
    problems += _identifier(message.channel_message_id, f"{f}.channel_message_id", required=False)
    problems += _identifier(message.sender.id, f"{f}.sender.id")
    problems += _text(message.text, f"{f}.text")
    problems += _attachments(list(message.attachments), f"{f}.attachments")
    if message.kind not in KINDS:
        problems.append(f"{f}.kind has unknown MessageKind value {message.kind}")
    if not message.text.strip() and not message.attachments and message.kind not in TEXTLESS_KINDS:
        problems.append(f"{f}.text is empty and there are no attachments: a message needs content")
    if message.language and not LANGUAGE.fullmatch(message.language):
        problems.append(f"{f}.language {message.language!r} is not a BCP 47 tag such as 'it' or 'pt-BR'")
    if message.sender.tier not in TIERS:
        problems.append(f"{f}.sender.tier has unknown CustomerTier value {message.sender.tier}")
    unknown_topics = [t for t in message.topic_hints if t not in TOPICS]
    if unknown_topics:
        problems.append(f"{f}.topic_hints has unknown or unspecified SupportTopic values {unknown_topics}")
    if (size := message.ByteSize()) > MAX_EVENT_BYTES:
        problems.append(f"{f} is {size} bytes when serialized, at most {MAX_EVENT_BYTES} allowed")
    times = time_problems(message, f"{f}.")
    problems += times
    # Only a timestamp in range can be converted and compared (issue #26: 10**15 seconds raised here).
    sent_at = message.sent_at.ToDatetime(now.tzinfo) if message.HasField("sent_at") and not times else None
    if sent_at is not None and sent_at > now + MAX_CLOCK_SKEW:
        problems.append(f"{f}.sent_at is more than {MAX_CLOCK_SKEW.seconds // 60} minutes in the future")
    return problems


def publish_problems(request: ingest_pb2.PublishRequest, now: datetime) -> list[str]:
    problems = _identifier(request.idempotency_key, "idempotency_key", required=False)
    which = request.WhichOneof("event")
    if which is None:
        return [*problems, "event is required: set message_received"]
    message = request.message_received
    problems += message_problems(message, now)
    if not request.idempotency_key and not message.channel_message_id:
        problems.append(
            "idempotency_key or message_received.channel_message_id is required, "
            "so that a retried request is recognised as the same event"
        )
    return problems


def status_problems(request: operator_pb2.SetOperatorStatusRequest) -> list[str]:
    problems = _identifier(request.operator_id, "operator_id")
    problems += time_problems(request)
    problems += _identifier(request.idempotency_key, "idempotency_key", required=False)
    problems += _enum(request.status, STATUSES, "status", "OperatorStatus")
    if request.channel:  # one channel paused or resumed (issue #20)
        problems += _enum(request.channel, CHANNELS, "channel", "Channel")
    return problems + _text(request.reason, "reason")


def reply_problems(request: operator_pb2.PostReplyRequest) -> list[str]:
    problems = _identifier(request.conversation_id, "conversation_id")
    problems += time_problems(request)
    problems += _identifier(request.operator_id, "operator_id")
    problems += _identifier(request.idempotency_key, "idempotency_key", required=False)
    problems += _text(request.text, "text")
    problems += _attachments(list(request.attachments), "attachments")
    if not request.text.strip() and not request.attachments:
        problems.append("text is empty and there are no attachments: a reply needs content")
    if (size := request.ByteSize()) > MAX_EVENT_BYTES:
        problems.append(f"the reply is {size} bytes when serialized, at most {MAX_EVENT_BYTES} allowed")
    return problems


def profile_problems(request: operator_pb2.UpdateOperatorProfileRequest) -> list[str]:
    profile = request.profile
    problems = _identifier(request.idempotency_key, "idempotency_key", required=False)
    problems += time_problems(request)
    problems += _identifier(profile.operator_id, "profile.operator_id")
    problems += _identifier(profile.team, "profile.team", required=False)
    if not profile.display_name.strip():
        problems.append("profile.display_name is required: customers are told who is talking to them")
    elif len(profile.display_name) > MAX_ID_LENGTH:
        problems.append(f"profile.display_name is longer than {MAX_ID_LENGTH} characters")
    for i, skill in enumerate(profile.languages):
        if not LANGUAGE.fullmatch(skill.language):
            problems.append(f"profile.languages[{i}].language {skill.language!r} is not a BCP 47 tag")
        if not 1 <= skill.proficiency <= 5:
            problems.append(f"profile.languages[{i}].proficiency is {skill.proficiency}, expected 1 to 5")
    if unknown := [t for t in profile.topics if t not in TOPICS]:
        problems.append(f"profile.topics has unknown or unspecified SupportTopic values {unknown}")
    seen: set[int] = set()
    for i, capacity in enumerate(profile.capacities):
        problems += _enum(capacity.channel, CHANNELS, f"profile.capacities[{i}].channel", "Channel")
        if capacity.channel in seen:
            problems.append(f"profile.capacities[{i}].channel is listed twice")
        seen.add(capacity.channel)
        if not 1 <= capacity.max_concurrent <= 1000:
            problems.append(
                f"profile.capacities[{i}].max_concurrent is {capacity.max_concurrent}, expected 1 to 1000"
            )
    return problems


def resolve_problems(request: operator_pb2.ResolveConversationRequest) -> list[str]:
    problems = _identifier(request.conversation_id, "conversation_id")
    problems += time_problems(request)
    problems += _identifier(request.operator_id, "operator_id")
    problems += _identifier(request.idempotency_key, "idempotency_key", required=False)
    return problems + _text(request.resolution, "resolution")


def state_problems(request: operator_pb2.SetConversationStateRequest) -> list[str]:
    problems = _identifier(request.conversation_id, "conversation_id")
    problems += time_problems(request)
    problems += _identifier(request.operator_id, "operator_id")
    problems += _identifier(request.idempotency_key, "idempotency_key", required=False)
    problems += _enum(request.state, CONVERSATION_STATES, "state", "ConversationState")
    return problems + _text(request.reason, "reason")


def transfer_problems(request: operator_pb2.TransferConversationRequest) -> list[str]:
    problems = _identifier(request.conversation_id, "conversation_id")
    problems += _identifier(request.operator_id, "operator_id", required=not request.by_supervisor)
    problems += _identifier(request.to_operator_id, "to_operator_id", required=False)
    problems += _identifier(request.to_team, "to_team", required=False)
    problems += _identifier(request.idempotency_key, "idempotency_key", required=False)
    if request.to_operator_id and request.to_team:
        problems.append("name to_operator_id or to_team, not both (neither: back to the queue)")
    if request.override_capacity and not (request.by_supervisor and request.to_operator_id):
        problems.append("override_capacity is for a supervisor transferring to a named operator")
    return problems + _text(request.reason, "reason")


def check(problems: list[str]) -> None:
    if problems:
        raise InvalidEvent(problems)
