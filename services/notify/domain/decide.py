"""Who hears what, for each conversation and SLA event. No I/O.

- The customer: an acknowledgement when the first-response clock starts, with
  its deadline as the promise (business-hours aware; when the shop is closed,
  when it opens again); the operator's name on assignment (the new one's when
  the conversation moves to a colleague); "nobody is online, we answer by
  e-mail" when routing says so; their place in the queue and the estimated
  wait when it changed meaningfully. On the channel they wrote from.
- The customer, again: every operator reply, signed with the operator's name, on their channel;
  a phone customer is answered by a call instead: the operator gets the callback task.
- The operator: a new assignment; an SLA warning on their conversation.
- The supervisors: breaches, predicted breaches, and a queue growing past the
  shop's threshold (the conversation that becomes number threshold + 1 on its
  channel's queue tells it, once per crossing).

Each notification names the event that caused it: delivery keeps one per
trigger and recipient, whatever the redeliveries.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from pronto.channels import channel_name
from pronto.v1 import common_pb2, events_pb2
from services.notify.domain.templates import Kind, Templates

SUPERVISORS = "supervisors"
CLOSED_MARGIN = timedelta(minutes=1)


class Recipient(Enum):
    CUSTOMER = "customer"
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Notification:
    recipient_kind: Recipient
    # The customer's id on their channel, the operator's id, or "supervisors".
    recipient: str
    kind: Kind
    language: str
    text: str
    trigger_event_id: str
    conversation_id: str
    # Where a customer is answered: the channel they wrote from.
    channel: str
    # Replies and callbacks: who answers.
    operator_id: str = ""
    operator_name: str = ""


@dataclass
class Customer:
    """What notify knows of a conversation's customer, from their messages."""

    conversation_id: str
    customer_id: str
    name: str
    language: str
    channel: str
    # (position, wait rounded to minutes) last told, and when: updates are spaced and must say
    # something new (``_position``).
    told_position: tuple[int, int] | None = None
    told_position_at: datetime | None = None
    # Its latest place in the queue (0: not queued), to see the queue cross the threshold.
    position: int = 0
    operator_id: str = ""
    # When an operator last took the conversation: an acknowledgement of the message that
    # assignment answered (topics interleave) would come after "I am Marek", so it is not sent.
    assigned_at: datetime | None = None
    # Told that nobody is online and an e-mail will come: queue positions would contradict it.
    offered_email: bool = False
    email: str = ""
    phone: str = ""
    # When they last wrote (the platforms' reply windows count from it).
    wrote_at: datetime | None = None
    # E-mail: the Message-IDs of their messages, oldest first, and the subject, to answer in thread.
    message_ids: list[str] = field(default_factory=list)
    subject: str = ""
    # Operator id -> display name, from assignments: replies are signed with it.
    operator_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NotifyPolicy:
    """How notify speaks for one shop: its time zone, templates, name, thresholds and the channels
    it cannot write on (from ``ShopConfig`` in the settings)."""

    # Times are written in the shop's zone; its opening hours come with the SLA clock (opens_at).
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    templates: Templates = field(default_factory=Templates)
    # Supervisors hear when more than this many conversations wait on one channel.
    queue_threshold: int = 20
    # The shop's name as customers know it, in the signature of replies ("" leaves it out).
    name: str = ""
    # Channels on which nothing can be written to a customer (phone, without a webhook for it):
    # they are told nothing there; an operator's answer is their callback task.
    unreachable: frozenset[str] = frozenset()
    # A waiting customer hears their place again at most this often, and only when it moved by a
    # tenth (or the wait by a fifth): a long queue does not become a stream of messages (issue #26).
    position_every: timedelta = timedelta(minutes=2)


def decide(
    event: Message, trigger: str, customer: Customer, shop: NotifyPolicy, now: datetime
) -> list[Notification]:
    """The notifications ``event`` causes for this conversation (none for most events)."""
    told = _decide(event, trigger, customer, shop, now)
    if customer.channel in shop.unreachable:
        return [n for n in told if n.recipient_kind is not Recipient.CUSTOMER]
    return told


def _decide(
    event: Message, trigger: str, customer: Customer, shop: NotifyPolicy, now: datetime
) -> list[Notification]:
    say = _Speaker(trigger, customer, shop)
    if isinstance(event, events_pb2.SlaClockStarted):
        already_assigned = customer.assigned_at is not None and customer.assigned_at >= now
        return [] if already_assigned else _acknowledge(say, event, shop, now)
    if isinstance(event, events_pb2.ConversationAssigned):
        # Also after a ConversationReassigned (a transfer, an operator gone): routing writes the
        # assignment that follows it, and only the assignment speaks, so nobody hears it twice.
        return _introduce(say, customer, event.operator_id, event.operator_display_name, now)
    if isinstance(event, events_pb2.ConversationQueued | events_pb2.QueuePositionChanged):
        crossed = _queue_over(say, customer, event.position, shop.queue_threshold)
        if isinstance(event, events_pb2.ConversationQueued) and event.nobody_online:
            customer.offered_email = True
            return [say.customer(Kind.NOBODY_ONLINE), *crossed]
        if customer.offered_email:
            return crossed
        told = _position(say, customer, event.position, event.estimated_wait.ToTimedelta(), now, shop)
        return [*told, *crossed]
    if isinstance(event, events_pb2.SlaWarning):
        deadline = _local(event.deadline, shop)
        if event.predicted:
            return [say.supervisors(Kind.PREDICTED_BREACH, when=deadline)]
        operator = event.operator_id or customer.operator_id
        return [say.operator(operator, Kind.SLA_WARNING, when=deadline)] if operator else []
    if isinstance(event, events_pb2.SlaBreached):
        return [say.supervisors(Kind.BREACH, when=_local(event.deadline, shop))]
    if isinstance(event, events_pb2.OperatorReplied):
        return [_answer(say, customer, event, shop)]
    return []


def _answer(
    say: _Speaker, customer: Customer, reply: events_pb2.OperatorReplied, shop: NotifyPolicy
) -> Notification:
    name = customer.operator_names.get(reply.operator_id) or reply.operator_id
    if customer.channel == "phone":
        who = customer.name or customer.customer_id
        return say.operator(
            reply.operator_id,
            Kind.CALLBACK,
            customer=who,
            phone=customer.phone or customer.customer_id,
            text=reply.text,
        )
    answer = say.customer(Kind.REPLY, text=reply.text, operator=name, shop=shop.name)
    return dataclasses.replace(answer, operator_id=reply.operator_id, operator_name=name)


def _local(moment: Timestamp, shop: NotifyPolicy) -> datetime:
    return moment.ToDatetime(UTC).astimezone(shop.zone)


def _introduce(
    say: _Speaker, customer: Customer, operator_id: str, name: str, now: datetime
) -> list[Notification]:
    """The customer learns who is talking to them now; the operator, that they have a conversation."""
    customer.operator_id, customer.assigned_at, customer.offered_email = operator_id, now, False
    if name:
        customer.operator_names[operator_id] = name
    customer.told_position, customer.told_position_at, customer.position = None, None, 0
    return [
        say.customer(Kind.ASSIGNED, operator=name or operator_id),
        say.operator(operator_id, Kind.NEW_ASSIGNMENT),
    ]


def _acknowledge(
    say: _Speaker, started: events_pb2.SlaClockStarted, shop: NotifyPolicy, now: datetime
) -> list[Notification]:
    if started.metric != events_pb2.SLA_METRIC_FIRST_RESPONSE:
        return []
    deadline = _local(started.deadline, shop)
    opens = _local(started.opens_at, shop) if started.HasField("opens_at") else now
    # The clock's start may trail the message by moments (its partition's time): that is not closed.
    if opens > now + CLOSED_MARGIN:
        return [say.customer(Kind.ACKNOWLEDGED_CLOSED, when=deadline, opens=opens)]
    return [say.customer(Kind.ACKNOWLEDGED, when=deadline)]


def _position(
    say: _Speaker, customer: Customer, position: int, wait: timedelta, now: datetime, shop: NotifyPolicy
) -> list[Notification]:
    """The first place in the queue at once; after that, at most every ``shop.position_every`` and
    only when the place moved by a tenth or the wait (in whole minutes) by a fifth, at least one."""
    now_told = (position, round(wait.total_seconds() / 60))
    if position <= 0 or now_told == customer.told_position:
        return []
    if customer.told_position is not None and customer.told_position_at is not None:
        told_place, told_minutes = customer.told_position
        if now - customer.told_position_at < shop.position_every:
            return []
        if abs(position - told_place) < max(1, told_place // 10) and abs(now_told[1] - told_minutes) < max(
            1, told_minutes // 5
        ):
            return []
    customer.told_position, customer.told_position_at = now_told, now
    return [say.customer(Kind.QUEUE_POSITION, position=position, wait=wait)]


def _queue_over(say: _Speaker, customer: Customer, position: int, threshold: int) -> list[Notification]:
    """A place only grows when someone joins ahead: reaching threshold + 1 from below means the
    queue has just grown past the threshold, and one conversation holds that place at a time."""
    before, customer.position = customer.position, position
    if position == threshold + 1 and before <= threshold:
        return [say.supervisors(Kind.QUEUE_OVER, count=position)]
    return []


@dataclass(frozen=True)
class _Speaker:
    """Renders a conversation's notifications for one triggering event."""

    trigger: str
    person: Customer
    shop: NotifyPolicy

    def customer(self, kind: Kind, **fields: object) -> Notification:
        c = self.person
        return self._notification(Recipient.CUSTOMER, c.customer_id, kind, c.language, name=c.name, **fields)

    def operator(self, operator_id: str, kind: Kind, **fields: object) -> Notification:
        return self._notification(Recipient.OPERATOR, operator_id, kind, "", **fields)

    def supervisors(self, kind: Kind, **fields: object) -> Notification:
        return self._notification(Recipient.SUPERVISOR, SUPERVISORS, kind, "", **fields)

    def _notification(
        self, recipient_kind: Recipient, recipient: str, kind: Kind, language: str, **fields: object
    ) -> Notification:
        c = self.person
        text, written_in = self.shop.templates.render(
            kind,
            language,
            self.shop.zone,
            conversation=c.conversation_id,
            channel=c.channel,
            **fields,  # type: ignore[arg-type]
        )
        return Notification(
            recipient_kind, recipient, kind, written_in, text, self.trigger, c.conversation_id, c.channel
        )


def customer_of(message: events_pb2.MessageReceived) -> Customer:
    return Customer(
        conversation_id=message.conversation_id,
        customer_id=message.sender.id,
        name=message.sender.display_name,
        language=message.language,
        channel=channel_name(message.channel),
    )


# Message-IDs kept per e-mail thread for References (RFC 5322 lets the list grow; mail clients
# keep the first and the latest ones when it is long).
MAX_REFERENCES = 20


def customer_wrote(customer: Customer, message: events_pb2.MessageReceived, at: datetime) -> None:
    """What a customer's message tells about how to answer them."""
    sent = message.sent_at.ToDatetime(UTC) if message.HasField("sent_at") else at
    customer.wrote_at = max(customer.wrote_at or sent, sent)
    if message.language:
        customer.language = message.language  # customers switch; answer in the latest
    customer.email = message.sender.email or customer.email
    customer.phone = message.sender.phone or customer.phone
    if message.channel == common_pb2.CHANNEL_EMAIL and message.channel_message_id:
        ids = [i for i in customer.message_ids if i != message.channel_message_id]
        customer.message_ids = [*ids, message.channel_message_id][-MAX_REFERENCES:]
        customer.subject = customer.subject or message.subject
