"""WhatsApp Cloud API messages (text, media, places, contacts, orders, Flows) as MessageReceived."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.cards import contact_line, place, vcard
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.meta_kinds import ATTACHMENT_KINDS, Message, Read
from services.ingest.channels.meta_referrals import refer
from services.ingest.channels.notices import notice
from services.ingest.channels.payload import Obj, each_part, from_epoch
from services.ingest.errors import MalformedPayload


def whatsapp_entry(tenant: str, entry: Obj) -> Read:
    yield from each_part(
        entry, "changes", common_pb2.CHANNEL_WHATSAPP, partial(_whatsapp_change, tenant), required=True
    )


def _whatsapp_change(tenant: str, change: Obj) -> Read:
    if change.str("field") != "messages":
        return
    value = change.obj("value")
    number = value.obj("metadata").str("phone_number_id")
    names = {c.str("wa_id", ""): c for c in value.list("contacts", required=False)}
    yield from each_part(
        value, "messages", common_pb2.CHANNEL_WHATSAPP, partial(_whatsapp_item, tenant, number, names)
    )


def _whatsapp_item(tenant: str, number: str, contacts: dict[str, Obj], item: Obj) -> Iterator[Message]:
    if item.str("type", "") not in ("reaction", "system"):  # nothing for an operator to answer
        yield _whatsapp_message(tenant, number, item, contacts)


def _whatsapp_message(tenant: str, number: str, item: Obj, contacts: dict[str, Obj]) -> Message:
    wa_id = item.str("from", "")
    contact = contacts.get(wa_id)
    # The phone number keeps conversations continuous; the business-scoped user id stands in
    # where a payload has no number (WhatsApp usernames).
    customer = wa_id or item.str("from_user_id", "")
    if not customer:
        raise MalformedPayload(f"{item.path}.from or {item.path}.from_user_id is required")
    profile = contact.maybe("profile") if contact else None
    kind_name = item.str("type")
    kind, text, original = _whatsapp_content(item, kind_name)
    message = Message(
        conversation_id=conversation_id(tenant, "whatsapp", f"{number}:{customer}"),
        channel=common_pb2.CHANNEL_WHATSAPP,
        channel_message_id=item.str("id"),
        sender=common_pb2.Sender(
            id=customer,
            phone="+" + wa_id if wa_id.isdigit() else "",
            display_name=profile.str("name", "") if profile else "",
        ),
        text=text,
        kind=kind,  # type: ignore[arg-type]
    )
    message.sent_at.CopyFrom(from_epoch(item.int("timestamp"), f"{item.path}.timestamp"))
    message.reply_to_message_id, message.original_message_id = _whatsapp_links(item, kind_name)
    refer(message, item.maybe("referral"))
    if (context := item.maybe("context")) is not None:
        message.forwarded = context.flag("forwarded") or context.flag("frequently_forwarded")
        if (product := context.maybe("referred_product")) is not None:
            message.referred_product.catalog_id = product.str("catalog_id", "")
            message.referred_product.product_retailer_id = product.str("product_retailer_id", "")
    if kind_name == "order":
        # The catalogue the cart came from, as for a product enquiry; its products (several) are in
        # the text, so no single product_retailer_id is named.
        message.referred_product.catalog_id = item.obj("order").str("catalog_id", "")
    if kind_name == "location":
        message.attachments.append(place(item.obj("location")))
        return message
    if kind_name == "contacts":
        message.attachments.extend(vcard(card) for card in item.list("contacts"))
        return message
    media = item.maybe(original)
    if media is not None and media.has("id") and kind_name not in ("text", "edit", "revoke"):
        message.attachments.append(
            common_pb2.Attachment(
                filename=media.str("filename", ""),
                content_type=media.str("mime_type", ""),
                url=media.str("id", ""),
            )
        )
    return message


def _whatsapp_links(item: Obj, kind_name: str) -> tuple[str, str]:
    """(the message replied to, the message edited or revoked): ``context.id`` (a reply, also
    inside an edit's new message) and ``original_message_id`` of an ``edit`` or a ``revoke``."""
    changed = item.maybe(kind_name) if kind_name in ("edit", "revoke") else None
    inner = changed.maybe("message") if changed is not None else None
    context = (inner or item).maybe("context")
    return (
        context.str("id", "") if context is not None else "",
        changed.str("original_message_id", "") if changed is not None else "",
    )


def _whatsapp_content(item: Obj, kind_name: str) -> tuple[int, str, str]:
    """(kind, text, the field holding the content)."""
    if kind_name == "text":
        return events_pb2.MESSAGE_KIND_TEXT, item.obj("text").str("body"), "text"
    if kind_name == "location":
        where = item.obj("location")
        fields = (where.str("name", ""), where.str("address", ""), where.str("url", ""))
        return events_pb2.MESSAGE_KIND_LOCATION, ", ".join(filter(None, fields)), "location"
    if kind_name == "contacts":
        cards = item.list("contacts")
        return events_pb2.MESSAGE_KIND_FILE, "\n".join(contact_line(card) for card in cards), "contacts"
    if kind_name == "edit":
        inner = item.obj("edit").obj("message")
        inner_kind = inner.str("type")
        _, text, _ = _whatsapp_content(inner, inner_kind) if inner_kind != "edit" else (0, "", "")
        return events_pb2.MESSAGE_KIND_EDITED, text, "edit"
    if kind_name == "revoke":
        return events_pb2.MESSAGE_KIND_DELETED, "", "revoke"
    if kind_name in ("image", "video", "audio", "document", "sticker", "voice"):
        media = item.maybe(kind_name)
        caption = media.str("caption", "") if media is not None else ""
        return ATTACHMENT_KINDS[kind_name], caption, kind_name
    if kind_name == "button":
        return events_pb2.MESSAGE_KIND_TEXT, item.obj("button").str("text", ""), "button"
    if kind_name == "interactive":
        interactive = item.obj("interactive")
        if (flow := interactive.maybe("nfm_reply")) is not None:
            return events_pb2.MESSAGE_KIND_TEXT, _flow_reply(flow), "interactive"
        reply = interactive.maybe("button_reply") or interactive.maybe("list_reply")
        return events_pb2.MESSAGE_KIND_TEXT, reply.str("title", "") if reply else "", "interactive"
    if kind_name == "order":
        return events_pb2.MESSAGE_KIND_TEXT, _order(item.obj("order")), "order"
    # "unsupported" and types newer than this code: keep the message, and say what it was (in words
    # that need no article: "an order", "a sticker"...).
    errors = item.list("errors", required=False)
    reason = errors[0].str("title", "") if errors else ""
    return (
        events_pb2.MESSAGE_KIND_FILE,
        notice(f"message of type {kind_name}{': ' + reason if reason else ''}"),
        kind_name,
    )


def _order(order: Obj) -> str:
    """A cart sent from the catalogue, as the operator reads it: the customer's note, then one line
    per product, its retailer id being the shop's own SKU::

        Lo vorrei per sabato
        Order from catalogue 1728903746521:
        - 2 x CAPP-NERO-M, 129.90 EUR each
    """
    lines = [order.str("text", "")] if order.str("text", "") else []
    lines.append(f"Order from catalogue {order.str('catalog_id', '')}:")
    for product in order.list("product_items", required=False):
        price = " ".join(filter(None, (_number(product, "item_price"), product.str("currency", ""))))
        line = f"- {_number(product, 'quantity') or '1'} x {product.str('product_retailer_id', '')}"
        lines.append(f"{line}, {price} each" if price else line)
    return "\n".join(lines)


def _number(where: Obj, key: str) -> str:
    """A quantity or a price as WhatsApp sends it (a JSON number, or a string), as written."""
    value = where.data.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedPayload(f"{where.path}.{key} must be a number, got {type(value).__name__}")
    return str(value)


def _flow_reply(flow: Obj) -> str:
    """A WhatsApp Flow the customer completed (``nfm_reply``): the reply's ``body`` ("Sent"), then
    each field of ``response_json`` (a JSON object in a string) as ``key: value``. ``flow_token`` is
    the shop's own token for the Flow it sent, not an answer: it is left out."""
    lines = [flow.str("body", "")] if flow.str("body", "") else []
    raw = flow.str("response_json", "")
    try:
        response = json.loads(raw) if raw else {}
    except ValueError:
        response = raw
    if not isinstance(response, dict):
        return "\n".join([*lines, f"response: {raw}"])
    for key, value in response.items():
        if key != "flow_token":
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"{key}: {shown}")
    return "\n".join(lines)
