"""What each record read from a partition of the notifications topic does to that partition's state. No I/O.

The deliverer reads a partition it took over up to its own ``DeliveryResumed``
fence before it sends anything: until then requests and platform status
reports wait, and the outcomes already recorded tell it what not to send
again. This module is that bookkeeping, kept apart from the broker so it is
tested without one: ``fold`` takes a decoded record and says what the
deliverer must now do (start a request, read a status report, count a message
sent before the takeover against the recipient's limit).
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from pronto.envelope import Envelope
from pronto.v1 import events_pb2
from services.notify.domain import statuses
from services.notify.domain.statuses import Deliveries, Tracked

DONE_CAPACITY = 200_000
TEXTS_KEPT = 20_000


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


class Reading(enum.Enum):
    """What an offset read means against the ones read before it."""

    IN_ORDER = "in order"
    # Offsets were skipped for the first time: read again from the first one skipped.
    GAP = "gap"
    # The same offsets skipped again after reading again: taken as real, reading goes on.
    MISSING = "missing"


@dataclass(frozen=True)
class Start:
    """Send ``request`` unless it was sent already (the journal) or waits for a digest."""

    request: Request


@dataclass(frozen=True)
class Report:
    """Correlate a platform's status report with the deliveries it is about."""

    event: Envelope
    report: events_pb2.DeliveryStatusReported


@dataclass(frozen=True)
class CountSent:
    """A message sent to ``recipient`` at ``at`` before the takeover counts against their limit."""

    recipient: str
    at: datetime


Action = Start | Report | CountSent


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

    def read(self, offset: int) -> Reading:
        """Whether ``offset`` follows what was read; once per gap, a gap is read again.

        Offsets of our topics are consecutive: a record missing between two read
        ones would be a request never sent and committed past. A gap is read again
        from its start (``next_offset`` stays there); one seen twice is taken as real.
        """
        expected = self.next_offset
        if expected is not None and offset > expected and expected not in self.gaps:
            self.gaps.add(expected)
            return Reading.GAP
        reading = Reading.MISSING if expected is not None and offset > expected else Reading.IN_ORDER
        self.next_offset = max(expected or 0, offset + 1)
        return reading

    def claim(self, request: Request) -> bool:
        """False: ``request`` was finished or is being delivered (a duplicate), and is no longer open.
        True: this worker delivers it, and from now on a copy of it is a duplicate."""
        if request.id in self.done:
            self.open.pop(request.offset, None)
            return False
        self.finished(request.id)
        return True

    def fold(self, partition: int, offset: int, key: bytes | None, event: Envelope) -> list[Action]:
        """Takes in one record of the partition; returns what is to be done about it, in order."""
        payload = event.payload
        if isinstance(payload, events_pb2.DeliveryResumed):
            return self.catch_up() if event.id == self.fence else []
        if isinstance(payload, events_pb2.NotificationDelivered) or (
            isinstance(payload, events_pb2.NotificationFailed) and payload.final
        ):
            self.finished(payload.notification_id)
            if isinstance(payload, events_pb2.NotificationDelivered):
                self.track(key, event, payload)
                if not self.caught_up and key:
                    return self._learn_sent(key.decode(), event.time, payload.digest_id)
            return []
        if isinstance(payload, events_pb2.NotificationStatusChanged):
            tracked = self.deliveries.by_notification.get(payload.notification_id)
            if tracked is not None and statuses.advances(tracked.status, payload.status):
                tracked.status = payload.status
            return []
        if isinstance(payload, events_pb2.DeliveryStatusReported):
            if self.caught_up:
                return [Report(event, payload)]
            self.reports.append((event, payload))
            return []
        if isinstance(payload, events_pb2.NotificationRequested):
            request = Request(partition, offset, (key or b"").decode(), event, payload)
            self.open[offset] = request.id
            if self.caught_up:
                return [Start(request)]
            self.waiting.append(request)
        return []

    def catch_up(self) -> list[Action]:
        """The fence is read: what waited for it starts, requests first, then status reports."""
        self.caught_up = True
        waiting, self.waiting = self.waiting, []
        reports, self.reports = self.reports, []
        return [*(Start(request) for request in waiting), *(Report(e, r) for e, r in reports)]

    def track(self, key: bytes | None, event: Envelope, delivered: events_pb2.NotificationDelivered) -> None:
        """Remembers a delivery for the status reports that will name it."""
        recipient = (key or b"").decode().split("/", 2)[-1]
        self.deliveries.sent(
            Tracked(
                delivered.notification_id,
                delivered.conversation_id,
                delivered.adapter,
                recipient,
                delivered.platform_message_id,
                event.time,
            )
        )

    def _learn_sent(self, recipient: str, at: datetime, digest_id: str) -> list[Action]:
        """Messages sent before a takeover count against the recipient's limit; a digest once."""
        if digest_id:
            if digest_id in self.digests_counted:
                return []
            self.digests_counted.add(digest_id)
        return [CountSent(recipient, at)]
