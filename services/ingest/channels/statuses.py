"""What the platforms report about messages Pronto sent: WhatsApp statuses, Messenger and
Instagram deliveries and reads, Viber delivered/seen/failed callbacks.

They arrive on the same webhooks as customer messages and become
``DeliveryStatusReported`` events for notify, which correlates them with its
deliveries. Messenger's reads (``message_reads``, and deliveries without
message ids) name a watermark: every message sent up to then. Instagram sends
no deliveries; its reads (``messaging_seen``) name the message.
"""

from __future__ import annotations

from collections.abc import Iterator

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.payload import Obj, from_epoch, load_json

Report = events_pb2.DeliveryStatusReported
_WHATSAPP = {
    "sent": events_pb2.DELIVERY_STATUS_SENT,
    "delivered": events_pb2.DELIVERY_STATUS_DELIVERED,
    "read": events_pb2.DELIVERY_STATUS_READ,
    "failed": events_pb2.DELIVERY_STATUS_FAILED,
}
_VIBER = {
    "delivered": events_pb2.DELIVERY_STATUS_DELIVERED,
    "seen": events_pb2.DELIVERY_STATUS_READ,
    "failed": events_pb2.DELIVERY_STATUS_FAILED,
}


def meta(raw: bytes) -> list[Report]:
    body = Obj(load_json(raw))
    kind = body.str("object", "")
    channel = {"page": common_pb2.CHANNEL_FACEBOOK, "instagram": common_pb2.CHANNEL_INSTAGRAM}.get(kind)
    if kind == "whatsapp_business_account":
        return [r for entry in body.list("entry", required=False) for r in _whatsapp(entry)]
    if channel is not None:
        return [r for entry in body.list("entry", required=False) for r in _send_api(entry, channel)]
    return []


def _whatsapp(entry: Obj) -> Iterator[Report]:
    for change in entry.list("changes", required=False):
        if change.str("field", "") != "messages":
            continue
        for status in change.obj("value").list("statuses", required=False):
            state = _WHATSAPP.get(status.str("status", ""))
            if state is None:
                continue
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


def _send_api(entry: Obj, channel: common_pb2.Channel) -> Iterator[Report]:
    for event in entry.list("messaging", required=False):
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


def viber(raw: bytes) -> list[Report]:
    body = Obj(load_json(raw))
    state = _VIBER.get(body.str("event", ""))
    if state is None:
        return []
    report = Report(
        channel=common_pb2.CHANNEL_VIBER,
        recipient=body.str("user_id", ""),
        platform_message_id=body.str("message_token"),
        status=state,
        error_text=body.str("desc", ""),
    )
    report.at.CopyFrom(from_epoch(body.int("timestamp"), "body.timestamp", milliseconds=True))
    return [report]
