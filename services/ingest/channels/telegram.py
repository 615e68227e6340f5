"""Telegram Bot API updates (webhook mode), verified by X-Telegram-Bot-Api-Secret-Token.

The chat is the conversation; ``chat.id:message_id`` identifies a message,
and an edit keeps the message id, so it is told apart by its ``edit_date``.
Updates that are not a customer's message (a bot added to a group, a
channel post, a poll's new state or a vote) are acknowledged and left out; a
poll the customer sends in a message is recorded, as its question and options. Times are in seconds.

A reply names the message it answers (``reply_to_message``), an edit the
message it changes. A ``callback_query`` (the customer pressed an inline
keyboard button under one of the shop's messages) is the customer's answer:
recorded as a message whose text is the button's label, replying to the
message that carried the keyboard. Telegram shows a spinner on the button
until the bot calls ``answerCallbackQuery``; ingest answers it in the webhook's
own response (``webhook_answer``), which the Bot API allows for any method:
no bot token in ingest, no second request, and the spinner stops as soon as
the press is safely on the broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import cards, signatures
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.notices import notice
from services.ingest.channels.payload import Obj, Unreadable, from_epoch, guarded, load_json

_MEDIA: tuple[tuple[str, int], ...] = (
    ("photo", events_pb2.MESSAGE_KIND_IMAGE),
    ("sticker", events_pb2.MESSAGE_KIND_STICKER),
    ("voice", events_pb2.MESSAGE_KIND_AUDIO),
    ("audio", events_pb2.MESSAGE_KIND_AUDIO),
    ("video", events_pb2.MESSAGE_KIND_VIDEO),
    ("video_note", events_pb2.MESSAGE_KIND_VIDEO),
    ("document", events_pb2.MESSAGE_KIND_FILE),
)


def parse(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived | Unreadable]:
    """The update's message, or the update as Unreadable: Telegram retries a refused update and then
    gives up on it, so one Pronto cannot read is dead-lettered instead of refused."""
    update = Obj(load_json(raw))
    update.int("update_id")
    return guarded("body", common_pb2.CHANNEL_TELEGRAM, partial(_update, tenant, update))


def _update(tenant: str, update: Obj) -> list[events_pb2.MessageReceived]:
    if (query := update.maybe("callback_query")) is not None:
        return [_pressed(tenant, query)]
    edited = update.maybe("edited_message")
    message = edited or update.maybe("message")
    if message is None:
        return []
    author = message.maybe("from")
    if author is not None and author.data.get("is_bot"):
        return []
    chat = message.obj("chat")
    chat_id = chat.str("id")
    who = author or chat
    name = " ".join(filter(None, (who.str("first_name", ""), who.str("last_name", "")))) or who.str(
        "title", ""
    )
    key = f"{chat_id}:{message.int('message_id')}"
    kind, said, attachments = _content(message)
    result = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "telegram", chat_id),
        channel=common_pb2.CHANNEL_TELEGRAM,
        channel_message_id=f"{key}#edit{message.int('edit_date')}" if edited else key,
        sender=common_pb2.Sender(id=who.str("id"), display_name=name or who.str("username", "")),
        text=message.str("text", "") or message.str("caption", "") or said,
        attachments=attachments,
        kind=events_pb2.MESSAGE_KIND_EDITED if edited else kind,  # type: ignore[arg-type]
        is_public=chat.str("type", "private") != "private",
        original_message_id=key if edited else "",
    )
    if (answered := message.maybe("reply_to_message")) is not None:
        result.reply_to_message_id = f"{chat_id}:{answered.int('message_id')}"
    # Bot API 7.0's forward_origin, and the forward_* fields it replaced that older payloads carry.
    result.forwarded = any(message.has(k) for k in ("forward_origin", "forward_from", "forward_date"))
    result.sent_at.CopyFrom(
        from_epoch(message.int("edit_date" if edited else "date"), f"{message.path}.date")
    )
    return [result]


def _content(message: Obj) -> tuple[int, str, list[common_pb2.Attachment]]:
    """(kind, the text Pronto writes when the message has none of its own, attachments).

    Contacts, venues and locations are read as WhatsApp's are (``cards``): a contact becomes
    "Contact: name, phone" and a vCard (the one the customer shared, else one built from the
    fields); a venue "title, address" and a ``geo:`` link; a location a ``geo:`` link, and one
    without valid coordinates is dead-lettered rather than kept as ``geo:None,None``. A venue
    message also carries the venue's ``location`` (Bot API), so the venue is looked at first.
    """
    if (contact := message.maybe("contact")) is not None:
        first, last = contact.str("first_name", ""), contact.str("last_name", "")
        phone = contact.str("phone_number", "")
        card = Obj(
            {
                "name": {"first_name": first, "last_name": last},
                "phones": [{"phone": phone}] if phone else [],
            },
            contact.path,
        )
        shared = contact.str("vcard", "")
        name = " ".join(filter(None, (first, last)))
        card_file = cards.vcard_attachment(name, shared) if shared else cards.vcard(card)
        return events_pb2.MESSAGE_KIND_FILE, cards.contact_line(card), [card_file]
    if (venue := message.maybe("venue")) is not None:
        where = venue.obj("location")
        spot = Obj({**where.data, "name": venue.str("title", "")}, where.path)
        said = ", ".join(filter(None, (venue.str("title", ""), venue.str("address", ""))))
        return events_pb2.MESSAGE_KIND_LOCATION, said, [cards.place(spot)]
    if (location := message.maybe("location")) is not None:
        return events_pb2.MESSAGE_KIND_LOCATION, "", [cards.place(location)]
    if (poll := message.maybe("poll")) is not None:
        return events_pb2.MESSAGE_KIND_TEXT, _poll(poll), []
    for field, kind in _MEDIA:
        if not message.has(field):
            continue
        value = message.data[field]
        media = Obj(value[-1], f"{message.path}.{field}[-1]") if isinstance(value, list) and value else None
        if media is None and isinstance(value, dict):
            media = Obj(value, f"{message.path}.{field}")
        if media is None:
            return kind, "", []
        return (
            kind,
            "",
            [
                common_pb2.Attachment(
                    filename=media.str("file_name", ""),
                    content_type=media.str("mime_type", field),
                    size_bytes=media.int("file_size", 0),
                    url=media.str("file_id", ""),
                )
            ],
        )
    return events_pb2.MESSAGE_KIND_TEXT, "", []


def _poll(poll: Obj) -> str:
    """A poll the customer sent in the chat (rare, but theirs to ask): its question and options, as
    Pronto's words, ``(poll: Which colour? — Blue / Black)``. Updates about a poll's state (``poll``,
    ``poll_answer`` updates) are not messages and stay a no-op."""
    options = " / ".join(o.str("text", "") for o in poll.list("options", required=False))
    return notice(f"poll: {poll.str('question', '')}{' — ' + options if options else ''}")


CALLBACK_PREFIX = "callback:"


def _pressed(tenant: str, query: Obj) -> events_pb2.MessageReceived:
    """An inline keyboard button pressed: its label is what the customer said (``data`` when the
    keyboard is not in the update), in the chat of the message that carried it (the presser's
    private chat for a button under an inline-mode message, which has none)."""
    author = query.obj("from")
    carrier = query.maybe("message")
    chat_id = carrier.obj("chat").str("id") if carrier is not None else author.str("id")
    data = query.str("data", "") or query.str("game_short_name", "")
    name = " ".join(filter(None, (author.str("first_name", ""), author.str("last_name", ""))))
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "telegram", chat_id),
        channel=common_pb2.CHANNEL_TELEGRAM,
        channel_message_id=CALLBACK_PREFIX + query.str("id"),
        sender=common_pb2.Sender(id=author.str("id"), display_name=name or author.str("username", "")),
        text=(_label(carrier, data) if carrier is not None else "") or data,
        kind=events_pb2.MESSAGE_KIND_TEXT,
    )
    if carrier is not None:
        message.reply_to_message_id = f"{chat_id}:{carrier.int('message_id')}"
    return message


def _label(carrier: Obj, data: str) -> str:
    """The text of the button whose ``callback_data`` is ``data``, in the message's keyboard."""
    markup = carrier.maybe("reply_markup")
    for row in markup.data.get("inline_keyboard", []) if markup is not None else []:
        for button in row if isinstance(row, list) else []:
            if isinstance(button, dict) and button.get("callback_data") == data:
                return str(button.get("text", ""))
    return ""


def webhook_answer(messages: list[events_pb2.MessageReceived]) -> dict[str, str]:
    """The Bot API call to make in the webhook's response: ``answerCallbackQuery`` for a button
    press (one update holds at most one), so the customer's button stops spinning; {} otherwise.

    https://core.telegram.org/bots/api#making-requests-when-getting-updates
    """
    for message in messages:
        if message.channel_message_id.startswith(CALLBACK_PREFIX):
            query_id = message.channel_message_id.removeprefix(CALLBACK_PREFIX)
            return {"method": "answerCallbackQuery", "callback_query_id": query_id}
    return {}


def check_signature(headers: Mapping[str, str], _body: bytes, secret_token: str) -> None:
    """Telegram sends the ``secret_token`` given to setWebhook in ``X-Telegram-Bot-Api-Secret-Token``
    (https://core.telegram.org/bots/api#setwebhook)."""
    signatures.check_token(
        headers.get("x-telegram-bot-api-secret-token"), secret_token, "X-Telegram-Bot-Api-Secret-Token"
    )
