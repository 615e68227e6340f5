"""Telegram Bot API updates (webhook mode), verified by X-Telegram-Bot-Api-Secret-Token.

The chat is the conversation; ``chat.id:message_id`` identifies a message,
and an edit keeps the message id, so it is told apart by its ``edit_date``.
Updates that are not a customer's message (a bot added to a group, a
channel post, a poll) are acknowledged and left out. Times are in seconds.
"""

from __future__ import annotations

from functools import partial

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.payload import Obj, Unreadable, from_epoch, guarded, load_json

_MEDIA: tuple[tuple[str, int], ...] = (
    ("photo", events_pb2.MESSAGE_KIND_IMAGE),
    ("sticker", events_pb2.MESSAGE_KIND_STICKER),
    ("location", events_pb2.MESSAGE_KIND_LOCATION),
    ("voice", events_pb2.MESSAGE_KIND_AUDIO),
    ("audio", events_pb2.MESSAGE_KIND_AUDIO),
    ("video", events_pb2.MESSAGE_KIND_VIDEO),
    ("video_note", events_pb2.MESSAGE_KIND_VIDEO),
    ("document", events_pb2.MESSAGE_KIND_FILE),
    ("contact", events_pb2.MESSAGE_KIND_FILE),
)


def parse(tenant: str, raw: bytes) -> list[events_pb2.MessageReceived | Unreadable]:
    """The update's message, or the update as Unreadable: Telegram retries a refused update and then
    gives up on it, so one Pronto cannot read is dead-lettered instead of refused."""
    update = Obj(load_json(raw))
    update.int("update_id")
    return guarded("body", common_pb2.CHANNEL_TELEGRAM, partial(_update, tenant, update))


def _update(tenant: str, update: Obj) -> list[events_pb2.MessageReceived]:
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
    kind, attachments = _content(message)
    result = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "telegram", chat_id),
        channel=common_pb2.CHANNEL_TELEGRAM,
        channel_message_id=f"{key}#edit{message.int('edit_date')}" if edited else key,
        sender=common_pb2.Sender(id=who.str("id"), display_name=name or who.str("username", "")),
        text=message.str("text", "") or message.str("caption", ""),
        attachments=attachments,
        kind=events_pb2.MESSAGE_KIND_EDITED if edited else kind,  # type: ignore[arg-type]
        is_public=chat.str("type", "private") != "private",
    )
    result.sent_at.CopyFrom(
        from_epoch(message.int("edit_date" if edited else "date"), f"{message.path}.date")
    )
    return [result]


def _content(message: Obj) -> tuple[int, list[common_pb2.Attachment]]:
    for field, kind in _MEDIA:
        if not message.has(field):
            continue
        value = message.data[field]
        media = Obj(value[-1], f"{message.path}.{field}[-1]") if isinstance(value, list) and value else None
        if media is None and isinstance(value, dict):
            media = Obj(value, f"{message.path}.{field}")
        if field == "location" and media is not None:
            url = f"geo:{media.data.get('latitude')},{media.data.get('longitude')}"
            return kind, [common_pb2.Attachment(content_type="location", url=url)]
        if media is None:
            return kind, []
        return kind, [
            common_pb2.Attachment(
                filename=media.str("file_name", ""),
                content_type=media.str("mime_type", field),
                size_bytes=media.int("file_size", 0),
                url=media.str("file_id", ""),
            )
        ]
    return events_pb2.MESSAGE_KIND_TEXT, []
