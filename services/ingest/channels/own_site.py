"""What the shop's own site sends, relayed and signed by its back end: web chat, contact form.

These shapes are Pronto's own (no platform defines them); the README documents them.

    POST /webhooks/{tenant}/chat
    {"session_id": "s-81", "message_id": "m-3", "text": "Ciao!", "language": "it",
     "visitor": {"id": "v-12", "name": "Giulia Rossi", "email": "giulia@example.com", "tier": "gold"},
     "sent_at": "2026-11-23T10:15:00Z", "page_url": "https://shop.example/p/42",
     "attachments": [{"filename": "foto.jpg", "content_type": "image/jpeg", "size_bytes": 52311, "url": "…"}]}

    POST /webhooks/{tenant}/contact-form
    {"submission_id": "f-1009", "name": "Anna Kowalska", "email": "anna@example.pl",
     "subject": "Faktura", "message": "Dzień dobry, …", "submitted_at": "2026-11-23T10:15:00Z"}
"""

from __future__ import annotations

from collections.abc import Mapping

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import signatures
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.payload import Obj, from_iso, load_json
from services.ingest.errors import MalformedPayload

TIERS = {
    "standard": common_pb2.CUSTOMER_TIER_STANDARD,
    "silver": common_pb2.CUSTOMER_TIER_SILVER,
    "gold": common_pb2.CUSTOMER_TIER_GOLD,
    "vip": common_pb2.CUSTOMER_TIER_VIP,
}


def _tier(visitor: Obj) -> int:
    name = visitor.str("tier", "standard").lower()
    if name not in TIERS:
        raise MalformedPayload(f"{visitor.path}.tier must be one of {', '.join(TIERS)}, got {name!r}")
    return TIERS[name]


def _attachments(body: Obj) -> list[common_pb2.Attachment]:
    return [
        common_pb2.Attachment(
            filename=a.str("filename", ""),
            content_type=a.str("content_type", ""),
            size_bytes=a.int("size_bytes", 0),
            url=a.str("url", ""),
        )
        for a in body.list("attachments", required=False)
    ]


def parse_chat(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived]:
    body = Obj(load_json(raw))
    visitor = body.obj("visitor")
    attachments = _attachments(body)
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "web_chat", body.str("session_id")),
        channel=common_pb2.CHANNEL_WEB_CHAT,
        # Widgets number messages per session: the session makes the id unique.
        channel_message_id=f"{body.str('session_id')}:{body.str('message_id')}",
        sender=common_pb2.Sender(
            id=visitor.str("id"),
            display_name=visitor.str("name", ""),
            email=visitor.str("email", ""),
            tier=_tier(visitor),  # type: ignore[arg-type]
        ),
        text=body.str("text", ""),
        attachments=attachments,
        language=body.str("language", ""),
        kind=events_pb2.MESSAGE_KIND_FILE
        if attachments and not body.has("text")
        else events_pb2.MESSAGE_KIND_TEXT,
    )
    if body.has("sent_at"):
        message.sent_at.CopyFrom(from_iso(body.str("sent_at"), "body.sent_at"))
    return [message]


def parse_contact_form(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived]:
    """A form submission starts a conversation of its own; the answer goes out by e-mail."""
    body = Obj(load_json(raw))
    email = body.str("email")
    submission = body.str("submission_id")
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "contact_form", submission),
        channel=common_pb2.CHANNEL_CONTACT_FORM,
        channel_message_id=submission,
        sender=common_pb2.Sender(id=email.lower(), display_name=body.str("name", ""), email=email),
        text=body.str("message"),
        subject=body.str("subject", ""),
        kind=events_pb2.MESSAGE_KIND_TEXT,
    )
    if body.has("submitted_at"):
        message.sent_at.CopyFrom(from_iso(body.str("submitted_at"), "body.submitted_at"))
    return [message]


def check_signature(headers: Mapping[str, str], body: bytes, shop_key: str) -> None:
    """The shop's own site signs what its chat widget and forms post: HMAC-SHA256 of the body in
    ``X-Pronto-Signature`` (``sha256=<hex>``); BadSignature otherwise."""
    signatures.check_prefixed_hex(headers.get("x-pronto-signature"), shop_key, body)
