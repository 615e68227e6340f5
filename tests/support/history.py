"""Whole conversation histories as events: what the read-model tests project, replay and query."""

from __future__ import annotations

from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from pronto import topics
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2

CHANNELS = (common_pb2.CHANNEL_WEB_CHAT, common_pb2.CHANNEL_EMAIL, common_pb2.CHANNEL_TELEGRAM)
TOPIC_OF = {
    events_pb2.MessageReceived: topics.INBOUND.name,
    events_pb2.ConversationAssigned: topics.CONVERSATIONS.name,
    events_pb2.ConversationQueued: topics.CONVERSATIONS.name,
    events_pb2.OperatorReplied: topics.OUTBOUND.name,
    events_pb2.ConversationResolved: topics.OUTBOUND.name,
    events_pb2.OperatorProfileUpdated: topics.OPERATORS.name,
    events_pb2.OperatorStatusChanged: topics.OPERATORS.name,
}


def topic_of(payload: Message) -> str:
    return TOPIC_OF.get(type(payload), topics.SLA.name)


def _duration(seconds: float) -> Duration:
    d = Duration()
    d.FromTimedelta(timedelta(seconds=seconds))
    return d


def _stamp(moment: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(moment)
    return t


def operators(tenant: str, start: datetime, count: int = 3) -> list[Envelope]:
    """``count`` operators with profiles, all online, the last one away again later."""
    events = []
    for n in range(count):
        oid = f"op-{n}"
        profile = events_pb2.OperatorProfileUpdated(
            operator_id=oid,
            display_name=f"Operator {n}",
            languages=[events_pb2.LanguageSkill(language="it", proficiency=5)],
            topics=[common_pb2.SUPPORT_TOPIC_ORDERS],
            capacities=[events_pb2.ChannelCapacity(channel=c, max_concurrent=3) for c in CHANNELS],
            team="front" if n % 2 == 0 else "back",
        )
        online = events_pb2.OperatorStatusChanged(operator_id=oid, status=events_pb2.OPERATOR_STATUS_ONLINE)
        events += [
            Envelope(f"{tenant}-{oid}-profile", "/test", tenant, profile, start),
            Envelope(f"{tenant}-{oid}-online", "/test", tenant, online, start + timedelta(seconds=1)),
        ]
    away = events_pb2.OperatorStatusChanged(
        operator_id=f"op-{count - 1}", status=events_pb2.OPERATOR_STATUS_AWAY, reason="break"
    )
    events.append(Envelope(f"{tenant}-away", "/test", tenant, away, start + timedelta(seconds=2)))
    return events


def conversation(tenant: str, n: int, start: datetime) -> list[Envelope]:
    """Conversation ``n``: a message, then by ``n % 4`` answered in time, answered late, queued and
    breached, or answered, written again and resolved."""
    cid = f"conv-{n:04d}"
    channel = CHANNELS[n % len(CHANNELS)]
    oid = f"op-{n % 3}"
    at = start + timedelta(seconds=n)

    def event(suffix: str, payload: Message, offset_s: float) -> Envelope:
        return Envelope(
            f"{tenant}-{cid}-{suffix}", "/test", tenant, payload, at + timedelta(seconds=offset_s)
        )

    sender = common_pb2.Sender(
        id=f"customer-{n}", display_name=f"Customer {n}", tier=common_pb2.CUSTOMER_TIER_GOLD
    )
    first = events_pb2.MessageReceived(
        conversation_id=cid,
        channel=channel,
        channel_message_id=f"{cid}-1",
        sender=sender,
        text="Dov'è il mio ordine?",
        language="it",
        topic_hints=[common_pb2.SUPPORT_TOPIC_ORDERS],
    )
    metric = events_pb2.SLA_METRIC_FIRST_RESPONSE
    started = events_pb2.SlaClockStarted(
        conversation_id=cid,
        metric=metric,
        channel=channel,
        target=_duration(60),
        warn_at=_stamp(at + timedelta(seconds=48)),
        deadline=_stamp(at + timedelta(seconds=60)),
        business_time=True,
    )
    history = [event("m1", first, 0), event("sla-start", started, 0.1)]
    kind = n % 4
    if kind == 2:
        queued = events_pb2.ConversationQueued(
            conversation_id=cid,
            channel=channel,
            position=n % 5 + 1,
            estimated_wait=_duration(90),
            reason="all busy",
        )
        breached = events_pb2.SlaBreached(
            conversation_id=cid, metric=metric, channel=channel, deadline=_stamp(at + timedelta(seconds=60))
        )
        warned = events_pb2.SlaWarning(
            conversation_id=cid, metric=metric, channel=channel, deadline=_stamp(at + timedelta(seconds=60))
        )
        return [
            *history,
            event("queued", queued, 0.2),
            event("warn", warned, 48),
            event("breach", breached, 60),
        ]
    assigned = events_pb2.ConversationAssigned(
        conversation_id=cid,
        operator_id=oid,
        operator_display_name=f"Operator {n % 3}",
        channel=channel,
        candidates=[events_pb2.Candidate(operator_id=oid, score=0.9, reason="speaks it")],
        reason="best match",
    )
    answer_s = 20.0 if kind != 1 else 75.0
    reply = events_pb2.OperatorReplied(conversation_id=cid, operator_id=oid, text="Arriva domani.")
    history += [event("assigned", assigned, 0.2), event("reply", reply, answer_s)]
    if kind == 1:
        late = events_pb2.SlaBreached(
            conversation_id=cid, metric=metric, channel=channel, deadline=_stamp(at + timedelta(seconds=60))
        )
        missed = events_pb2.SlaMissed(
            conversation_id=cid,
            metric=metric,
            channel=channel,
            elapsed=_duration(answer_s),
            target=_duration(60),
        )
        return [*history, event("breach", late, 60), event("missed", missed, answer_s + 0.1)]
    met = events_pb2.SlaMet(
        conversation_id=cid, metric=metric, channel=channel, elapsed=_duration(answer_s), target=_duration(60)
    )
    history.append(event("met", met, answer_s + 0.1))
    if kind == 3:
        again = events_pb2.MessageReceived(
            conversation_id=cid,
            channel=channel,
            channel_message_id=f"{cid}-2",
            sender=sender,
            text="Grazie!",
            language="it",
        )
        resolved = events_pb2.ConversationResolved(
            conversation_id=cid, operator_id=oid, resolution="answered"
        )
        history += [event("m2", again, 30), event("resolved", resolved, 40)]
    return history


def shop(tenant: str, start: datetime, conversations: int) -> list[Envelope]:
    events = operators(tenant, start)
    for n in range(conversations):
        events += conversation(tenant, n, start + timedelta(seconds=5))
    return events
