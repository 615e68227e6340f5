"""What each event contributes to the read models, as plain documents (no I/O).

Times are cut to whole milliseconds, the precision MongoDB keeps, so that a
document read back from either store equals the one that was written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from pronto.channels import channel_name
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2

Doc = dict[str, Any]


def ms(moment: datetime) -> datetime:
    """``moment`` in UTC, to the millisecond."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _time(stamp: Timestamp) -> datetime | None:
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return ms(stamp.ToDatetime(tzinfo=UTC))


def _seconds(duration: Duration) -> float:
    return round(duration.ToTimedelta().total_seconds(), 3)


def metric_name(metric: int) -> str:
    """``SLA_METRIC_FIRST_RESPONSE`` -> ``first_response``; a value this build does not know (a newer
    producer) is ``unknown``, not a crash."""
    return enum_name(events_pb2.SlaMetric, metric, "SLA_METRIC_")


def enum_name(enum: Any, value: int, prefix: str) -> str:
    """An enum value's name as the read models write it; ``unknown`` for a value this build lacks."""
    try:
        return str(enum.Name(value)).removeprefix(prefix).lower()
    except ValueError:
        return "unknown"


def _candidates(candidates: Any) -> list[Doc]:
    return [
        {"operator_id": c.operator_id, "score": round(c.score, 6), "reason": c.reason} for c in candidates
    ]


# A referral's fields, as the read models keep them (every one, empty when the platform left it out).
REFERRAL_FIELDS = (
    "source",
    "type",
    "ref",
    "ad_id",
    "post_id",
    "url",
    "headline",
    "body",
    "media_url",
    "click_id",
)


def _referral(p: events_pb2.MessageReceived) -> Doc | None:
    """The ad, post or link that brought the customer, None when the message names none."""
    if not p.HasField("referral"):
        return None
    referral = {name: getattr(p.referral, name) for name in REFERRAL_FIELDS}
    return referral if any(referral.values()) else None


def _message(p: events_pb2.MessageReceived) -> Doc:
    return {
        "type": "message",
        "channel": channel_name(p.channel),
        # The channel's ids: this message's, the one it answers, and for an edit or a deletion the
        # message it changes ("" when none).
        "channel_message_id": p.channel_message_id,
        "reply_to_message_id": p.reply_to_message_id,
        "original_message_id": p.original_message_id,
        "referral": _referral(p),
        # Passed on from elsewhere (a forward), and the catalogue product it asks about (or None).
        "forwarded": p.forwarded,
        "referred_product": (
            {
                "catalog_id": p.referred_product.catalog_id,
                "product_retailer_id": p.referred_product.product_retailer_id,
            }
            if p.HasField("referred_product")
            else None
        ),
        "text": p.text,
        "subject": p.subject,
        "kind": enum_name(events_pb2.MessageKind, p.kind, "MESSAGE_KIND_"),
        "language": p.language,
        "customer": {
            "id": p.sender.id,
            "name": p.sender.display_name,
            "email": p.sender.email,
            "phone": p.sender.phone,
            "tier": enum_name(common_pb2.CustomerTier, p.sender.tier, "CUSTOMER_TIER_"),
        },
        "topics": [enum_name(common_pb2.SupportTopic, t, "SUPPORT_TOPIC_") for t in p.topic_hints],
        "attachments": len(p.attachments),
    }


def _assigned(p: events_pb2.ConversationAssigned) -> Doc:
    return {
        "type": "assigned",
        "channel": channel_name(p.channel),
        "operator_id": p.operator_id,
        "operator_name": p.operator_display_name,
        "reason": p.reason,
        "level": p.level,
        "candidates": _candidates(p.candidates),
    }


def _queued(p: events_pb2.ConversationQueued) -> Doc:
    return {
        "type": "queued",
        "channel": channel_name(p.channel),
        "position": p.position,
        "estimated_wait_s": _seconds(p.estimated_wait),
        "nobody_online": p.nobody_online,
        "reason": p.reason,
        "candidates": _candidates(p.candidates),
    }


def _position(p: events_pb2.QueuePositionChanged) -> Doc:
    return {"type": "queue_position", "position": p.position, "estimated_wait_s": _seconds(p.estimated_wait)}


def _widened(p: events_pb2.ConversationWidened) -> Doc:
    return {"type": "widened", "level": p.level, "reason": p.reason}


def _reassigned(p: events_pb2.ConversationReassigned) -> Doc:
    entry: Doc = {"type": "reassigned", "from_operator_id": p.from_operator_id, "reason": p.reason}
    if p.HasField("transfer"):  # moved by a person (issue #20): who, where to, why, beyond capacity
        t = p.transfer
        entry["transfer"] = {
            "by_operator_id": t.by_operator_id,
            "by_supervisor": t.by_supervisor,
            "to_operator_id": t.to_operator_id,
            "to_team": t.to_team,
            "reason": t.reason,
            "capacity_overridden": t.capacity_overridden,
        }
    return entry


def _transfer_refused(p: events_pb2.ConversationTransferRefused) -> Doc:
    return {"type": "transfer_refused", "reason": p.reason}


def _replied(p: events_pb2.OperatorReplied) -> Doc:
    return {
        "type": "reply",
        "operator_id": p.operator_id,
        "text": p.text,
        "awaiting_customer": p.awaiting_customer,
        "attachments": len(p.attachments),
    }


def _resolved(p: events_pb2.ConversationResolved) -> Doc:
    return {"type": "resolved", "operator_id": p.operator_id, "resolution": p.resolution}


def _state(p: events_pb2.ConversationStateChanged) -> Doc:
    return {
        "type": "state",
        "state": enum_name(events_pb2.ConversationState, p.state, "CONVERSATION_STATE_"),
        "operator_id": p.operator_id,
        "reason": p.reason,
    }


def _sla(kind: str, p: Any) -> Doc:
    entry: Doc = {"type": f"sla_{kind}", "metric": metric_name(p.metric), "channel": channel_name(p.channel)}
    if kind == "started":
        entry |= {
            "target_s": _seconds(p.target),
            "warn_at": _time(p.warn_at),
            "deadline": _time(p.deadline),
            "business_time": p.business_time,
        }
    elif kind == "retargeted":
        entry |= {
            "target_s": _seconds(p.target),
            "warn_at": _time(p.warn_at),
            "deadline": _time(p.deadline),
            "business_time": p.business_time,
            "elapsed_s": _seconds(p.elapsed),
            "tier": enum_name(common_pb2.CustomerTier, p.tier, "CUSTOMER_TIER_"),
            "switched_off": p.switched_off,
        }
    elif kind == "paused":
        entry |= {"elapsed_s": _seconds(p.elapsed), "state": p.state, "reason": p.reason}
    elif kind == "resumed":
        entry |= {
            "elapsed_s": _seconds(p.elapsed),
            "warn_at": _time(p.warn_at),
            "deadline": _time(p.deadline),
            "state": p.state,
            "reason": p.reason,
        }
    elif kind in ("warning", "breached"):
        entry |= {"deadline": _time(p.deadline)}
    else:
        entry |= {"elapsed_s": _seconds(p.elapsed), "target_s": _seconds(p.target)}
    return entry


_TIMELINE: dict[type, Callable[[Any], Doc]] = {
    events_pb2.MessageReceived: _message,
    events_pb2.ConversationAssigned: _assigned,
    events_pb2.ConversationQueued: _queued,
    events_pb2.QueuePositionChanged: _position,
    events_pb2.ConversationWidened: _widened,
    events_pb2.ConversationReassigned: _reassigned,
    events_pb2.ConversationTransferRefused: _transfer_refused,
    events_pb2.OperatorReplied: _replied,
    events_pb2.ConversationResolved: _resolved,
    events_pb2.ConversationStateChanged: _state,
    events_pb2.SlaClockPaused: lambda p: _sla("paused", p),
    events_pb2.SlaClockResumed: lambda p: _sla("resumed", p),
    events_pb2.SlaClockStarted: lambda p: _sla("started", p),
    events_pb2.SlaClockRetargeted: lambda p: _sla("retargeted", p),
    events_pb2.SlaWarning: lambda p: _sla("warning", p),
    events_pb2.SlaBreached: lambda p: _sla("breached", p),
    events_pb2.SlaMet: lambda p: _sla("met", p),
    events_pb2.SlaMissed: lambda p: _sla("missed", p),
}
# The SLA events that settle a clock or raise an alarm, counted by the daily reports.
REPORTED = {"sla_started", "sla_warning", "sla_breached", "sla_met", "sla_missed"}


@dataclass(frozen=True)
class ConversationEvent:
    tenant: str
    conversation_id: str
    entry: Doc


def conversation_event(envelope: Envelope) -> ConversationEvent | None:
    """The timeline entry of an event about a conversation; None for any other event."""
    build = _TIMELINE.get(type(envelope.payload))
    if build is None:
        return None
    payload: Any = envelope.payload
    entry = {"id": envelope.id, "at": ms(envelope.time), **build(payload)}
    return ConversationEvent(envelope.tenant, payload.conversation_id, entry)
