"""Viber REST bot callbacks, verified by X-Viber-Content-Signature (hex HMAC-SHA256 of the body).

Only ``message`` events are customer messages; ``webhook`` (the set-up
check), ``conversation_started``, ``delivered``, ``seen``, ``subscribed``,
``unsubscribed`` and ``failed`` are acknowledged and left out. The
``message_token`` is a 64-bit integer: it is kept as a string. Times are in
milliseconds. The sender's ``language`` (their phone's) is the message's
language unless the text says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import signatures
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.payload import Obj, Unreadable, from_epoch, guarded, load_json

_KINDS = {
    "text": events_pb2.MESSAGE_KIND_TEXT,
    "picture": events_pb2.MESSAGE_KIND_IMAGE,
    "video": events_pb2.MESSAGE_KIND_VIDEO,
    "file": events_pb2.MESSAGE_KIND_FILE,
    "sticker": events_pb2.MESSAGE_KIND_STICKER,
    "location": events_pb2.MESSAGE_KIND_LOCATION,
    "contact": events_pb2.MESSAGE_KIND_FILE,
    "url": events_pb2.MESSAGE_KIND_TEXT,
}


def parse(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived | Unreadable]:
    """The event's message, or the event as Unreadable (Viber sends one event per request): a
    refused event is retried and then lost, so one Pronto cannot read is dead-lettered instead."""
    body = Obj(load_json(raw))
    if body.str("event") != "message":
        return []
    return guarded("body", common_pb2.CHANNEL_VIBER, partial(_message, tenant, body))


def _message(tenant: str, body: Obj) -> list[events_pb2.MessageReceived]:
    sender = body.obj("sender")
    content = body.obj("message")
    kind_name = content.str("type")
    attachments = []
    if content.has("media"):
        attachments.append(
            common_pb2.Attachment(
                filename=content.str("file_name", ""),
                content_type=kind_name,
                size_bytes=content.int("size", 0),
                url=content.str("media"),
            )
        )
    if (where := content.maybe("location")) is not None:
        url = f"geo:{where.data.get('lat')},{where.data.get('lon')}"
        attachments.append(common_pb2.Attachment(content_type="location", url=url))
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "viber", sender.str("id")),
        channel=common_pb2.CHANNEL_VIBER,
        channel_message_id=body.str("message_token"),
        sender=common_pb2.Sender(id=sender.str("id"), display_name=sender.str("name", "")),
        text=content.str("text", "") or content.str("media", "")
        if kind_name == "url"
        else content.str("text", ""),
        attachments=attachments,
        kind=_KINDS.get(kind_name, events_pb2.MESSAGE_KIND_FILE),
        # The phone's language: a hint the text may contradict (services/ingest/channels/enrich.py).
        language=sender.str("language", ""),
    )
    message.sent_at.CopyFrom(from_epoch(body.int("timestamp"), "body.timestamp", milliseconds=True))
    return [message]


def check_signature(headers: Mapping[str, str], body: bytes, auth_token: str) -> None:
    """Viber signs the body with the bot's token: ``X-Viber-Content-Signature: <hex>``
    (https://developers.viber.com/docs/api/rest-bot-api/#callbacks)."""
    signatures.check_prefixed_hex(headers.get("x-viber-content-signature"), auth_token, body, prefix="")


# What Viber reports about messages Pronto sent, on the same webhook as customer messages.
Report = events_pb2.DeliveryStatusReported
_REPORTED = {
    "delivered": events_pb2.DELIVERY_STATUS_DELIVERED,
    "seen": events_pb2.DELIVERY_STATUS_READ,
    "failed": events_pb2.DELIVERY_STATUS_FAILED,
}


def reports(raw: bytes) -> list[Report]:
    """Viber's report, when it can be read."""
    return [r for r in report_parts(raw) if isinstance(r, Report)]


def report_parts(raw: bytes) -> list[Report | Unreadable]:
    """Viber's report, or the whole event as Unreadable: Viber sends one event per request."""
    body = Obj(load_json(raw))
    state = _REPORTED.get(body.str("event", ""))
    if state is None:
        return []
    return guarded("body", common_pb2.CHANNEL_VIBER, partial(_report, body, state))


def _report(body: Obj, state: events_pb2.DeliveryStatus) -> list[Report]:
    report = Report(
        channel=common_pb2.CHANNEL_VIBER,
        recipient=body.str("user_id", ""),
        platform_message_id=body.str("message_token"),
        status=state,
        error_text=body.str("desc", ""),
    )
    report.at.CopyFrom(from_epoch(body.int("timestamp"), "body.timestamp", milliseconds=True))
    return [report]
