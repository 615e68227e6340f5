"""One received e-mail as MessageReceived: its thread's conversation, its sender, text and date."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from email.utils import parseaddr, parsedate_to_datetime

from pronto.mail_threading import conversation_of
from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.email_automatic import automatic_note
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.payload import timestamp
from services.ingest.errors import MalformedPayload

_IDS = re.compile(r"<[^<>\s]+>")


def message_ids(header: str | None) -> list[str]:
    return _IDS.findall(header or "")


def thread_conversation(
    tenant: str, sender: str, own_id: str, in_reply_to: str | None, references: str | None
) -> str:
    """Our own Message-ID names the conversation; otherwise the thread root, per sender: two
    customers answering the same newsletter are two conversations."""
    ancestors = message_ids(references) + message_ids(in_reply_to)
    for candidate in ancestors:
        if (ours := conversation_of(candidate)) is not None:
            return ours
    root = ancestors[0] if ancestors else own_id
    return conversation_id(tenant, "email", f"{sender}\x1f{root}")


def received(
    tenant: str,
    *,
    sender: str,
    subject: str,
    text: str,
    message_id: str,
    in_reply_to: str | None,
    references: str | None,
    date: str | None,
    attachments: Iterable[common_pb2.Attachment],
    language: str = "",
    automatic: str | None = None,
) -> events_pb2.MessageReceived:
    name, address = parseaddr(sender)
    if "@" not in address:
        raise MalformedPayload(f"the sender {sender!r} has no e-mail address")
    message = events_pb2.MessageReceived(
        conversation_id=thread_conversation(tenant, address.lower(), message_id, in_reply_to, references),
        channel=common_pb2.CHANNEL_EMAIL,
        channel_message_id=message_id,
        sender=common_pb2.Sender(id=address.lower(), display_name=name, email=address),
        subject=subject,
        text=text.replace("\r\n", "\n").strip(),
        attachments=list(attachments),
        language=language,
        kind=events_pb2.MESSAGE_KIND_AUTOMATIC if automatic else events_pb2.MESSAGE_KIND_TEXT,
    )
    if automatic:
        message.notes.append(automatic_note(automatic))
    # A broken Date header is common and harmless: the event's own time stands in.
    with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError, MalformedPayload):
        if date:
            message.sent_at.CopyFrom(timestamp(parsedate_to_datetime(date)))
    return message
