"""What Meta reports about messages Pronto sent, read into delivery statuses for notify.

They are WhatsApp statuses, and Messenger and Instagram deliveries and reads (Viber's reports are in
``viber.py``).

They arrive on the same webhooks as customer messages and become
``DeliveryStatusReported`` events for notify, which correlates them with its
deliveries. Messenger's reads (``message_reads``, and deliveries without
message ids) name a watermark: every message sent up to then. Instagram sends
no deliveries; its reads (``messaging_seen``) name the message.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.payload import Obj, Unreadable, each_part, from_epoch, load_json

Report = events_pb2.DeliveryStatusReported
_WHATSAPP = {
    "sent": events_pb2.DELIVERY_STATUS_SENT,
    "delivered": events_pb2.DELIVERY_STATUS_DELIVERED,
    "read": events_pb2.DELIVERY_STATUS_READ,
    "failed": events_pb2.DELIVERY_STATUS_FAILED,
}


def meta(raw: bytes) -> list[Report]:
    """The reports in a Meta delivery that can be read."""
    return [r for r in meta_parts(raw) if isinstance(r, Report)]


def meta_parts(raw: bytes) -> list[Report | Unreadable]:
    """The reports in a Meta delivery; one that cannot be read is Unreadable, as for messages."""
    body = Obj(load_json(raw))
    kind = body.str("object", "")
    channel = {"page": common_pb2.CHANNEL_FACEBOOK, "instagram": common_pb2.CHANNEL_INSTAGRAM}.get(kind)
    if kind == "whatsapp_business_account":
        return list(each_part(body, "entry", common_pb2.CHANNEL_WHATSAPP, _whatsapp))
    if channel is not None:
        return list(each_part(body, "entry", channel, partial(_send_api_entry, channel)))
    return []


def _whatsapp(entry: Obj) -> Iterator[Report | Unreadable]:
    yield from each_part(entry, "changes", common_pb2.CHANNEL_WHATSAPP, _whatsapp_change)


def _whatsapp_change(change: Obj) -> Iterator[Report | Unreadable]:
    if change.str("field", "") != "messages":
        return
    yield from each_part(change.obj("value"), "statuses", common_pb2.CHANNEL_WHATSAPP, _whatsapp_status)


def _whatsapp_status(status: Obj) -> Iterator[Report]:
    state = _WHATSAPP.get(status.str("status", ""))
    if state is not None:
        report = Report(
            channel=common_pb2.CHANNEL_WHATSAPP,
            recipient=status.str("recipient_id", ""),
            platform_message_id=status.str("id"),
            status=state,
            notification_id=status.str("biz_opaque_callback_data", ""),
        )
        report.at.CopyFrom(from_epoch(status.int("timestamp"), f"{status.path}.timestamp"))
        errors = status.list("errors", required=False)
        if errors:
            report.error_code = errors[0].str("code", "")
            report.error_text = errors[0].str("title", "") or errors[0].str("message", "")
        yield report


def _send_api_entry(channel: common_pb2.Channel, entry: Obj) -> Iterator[Report | Unreadable]:
    yield from each_part(entry, "messaging", channel, partial(_send_api, channel))


def _send_api(channel: common_pb2.Channel, event: Obj) -> Iterator[Report]:
    customer = event.obj("sender").str("id", "") if event.has("sender") else ""
    if (delivery := event.maybe("delivery")) is not None:
        mids = [m for m in delivery.data.get("mids") or [] if isinstance(m, str)]
        for mid in mids:
            yield _report(channel, customer, events_pb2.DELIVERY_STATUS_DELIVERED, event, mid=mid)
        if not mids and delivery.has("watermark"):
            yield _report(channel, customer, events_pb2.DELIVERY_STATUS_DELIVERED, event, up_to=delivery)
    if (read := event.maybe("read")) is not None:
        if read.has("mid"):  # Instagram's messaging_seen names the message
            yield _report(channel, customer, events_pb2.DELIVERY_STATUS_READ, event, mid=read.str("mid"))
        elif read.has("watermark"):  # Messenger's message_reads: everything up to then
            yield _report(channel, customer, events_pb2.DELIVERY_STATUS_READ, event, up_to=read)


def _report(
    channel: common_pb2.Channel,
    customer: str,
    status: events_pb2.DeliveryStatus,
    event: Obj,
    mid: str = "",
    up_to: Obj | None = None,
) -> Report:
    report = Report(channel=channel, recipient=customer, platform_message_id=mid, status=status)
    if event.has("timestamp"):
        report.at.CopyFrom(from_epoch(event.int("timestamp"), f"{event.path}.timestamp", milliseconds=True))
    if up_to is not None:
        report.up_to.CopyFrom(
            from_epoch(up_to.int("watermark"), f"{up_to.path}.watermark", milliseconds=True)
        )
    return report
