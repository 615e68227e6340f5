"""What became of a delivered message, as the platforms report it. No I/O.

A message is sent, then delivered, then read; it may fail at any point
before it is read. Reports come late, twice or out of order (a read before
its delivery): a status only ever moves forward, so each notification gets
each status once, in order.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pronto.v1 import events_pb2

SENT = events_pb2.DELIVERY_STATUS_SENT
DELIVERED = events_pb2.DELIVERY_STATUS_DELIVERED
READ = events_pb2.DELIVERY_STATUS_READ
FAILED = events_pb2.DELIVERY_STATUS_FAILED
_RANK: dict[int, int] = {events_pb2.DELIVERY_STATUS_UNSPECIFIED: 0, SENT: 1, DELIVERED: 2, READ: 3}
KEEP = 200_000
PER_RECIPIENT = 50
# A watermark is the platform's time of the last message read; ours is when its answer came back,
# a little later: messages recorded up to this much after a watermark count as covered by it.
WATERMARK_MARGIN = timedelta(seconds=5)


def advances(current: int, new: int) -> bool:
    if current == FAILED:
        return False
    if new == FAILED:
        return current != READ
    return _RANK.get(new, 0) > _RANK.get(current, 0)


def name(status: int) -> str:
    return str(events_pb2.DeliveryStatus.Name(status)).removeprefix("DELIVERY_STATUS_").lower()


@dataclass
class Tracked:
    notification_id: str
    conversation_id: str
    adapter: str
    recipient: str
    platform_message_id: str
    at: datetime
    status: int = SENT


@dataclass
class Deliveries:
    """The recent deliveries of one partition, findable by what reports name them with."""

    by_platform_id: OrderedDict[str, Tracked] = field(default_factory=OrderedDict)
    by_notification: dict[str, Tracked] = field(default_factory=dict)
    by_recipient: dict[str, deque[Tracked]] = field(default_factory=dict)

    def sent(self, tracked: Tracked) -> None:
        """A delivery; a second one of the same notification (sent again as a template, under a new
        platform id) replaces the first."""
        known = self.by_notification.get(tracked.notification_id)
        if known is not None and known.platform_message_id == tracked.platform_message_id:
            return
        self.by_notification[tracked.notification_id] = tracked
        if tracked.platform_message_id:
            self.by_platform_id[tracked.platform_message_id] = tracked
        self.by_recipient.setdefault(tracked.recipient, deque(maxlen=PER_RECIPIENT)).append(tracked)
        if len(self.by_notification) > KEEP:
            self._forget_oldest()

    def matching(self, report: events_pb2.DeliveryStatusReported) -> list[Tracked]:
        """The deliveries a report is about: by notification id, by the platform's id, or every one
        sent to the recipient up to its watermark."""
        # The platform's id first: a text and the template sent after it share the notification id.
        if report.platform_message_id in self.by_platform_id:
            return [self.by_platform_id[report.platform_message_id]]
        if report.notification_id and report.notification_id in self.by_notification:
            return [self.by_notification[report.notification_id]]
        if report.platform_message_id:
            return []
        if report.HasField("up_to"):
            up_to = report.up_to.ToDatetime(tzinfo=UTC) + WATERMARK_MARGIN
            return [t for t in self.by_recipient.get(report.recipient, ()) if t.at <= up_to]
        return []

    def _forget_oldest(self) -> None:
        while len(self.by_notification) > KEEP:
            oldest = next(iter(self.by_notification))
            tracked = self.by_notification.pop(oldest)
            self.by_platform_id.pop(tracked.platform_message_id, None)
            sent_to = self.by_recipient.get(tracked.recipient)
            if sent_to is not None and tracked in sent_to:
                sent_to.remove(tracked)
                if not sent_to:
                    del self.by_recipient[tracked.recipient]
