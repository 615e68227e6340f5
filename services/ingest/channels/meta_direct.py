"""Messenger's and Instagram's private messages, their edits and deletions, as MessageReceived."""

from __future__ import annotations

from collections.abc import Iterator

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.meta_kinds import ATTACHMENT_KINDS, Message
from services.ingest.channels.meta_referrals import refer, referral_of
from services.ingest.channels.notices import notice
from services.ingest.channels.payload import Obj, from_epoch
from services.ingest.errors import MalformedPayload


def _customer(sender: Obj) -> str:
    """The sender's page-scoped id, or for a guest of the website chat plugin (who has none) its
    ``user_ref``, marked as such: the two name different people and are answered differently."""
    if sender.has("id"):
        return sender.str("id")
    if sender.has("user_ref"):
        return f"user_ref:{sender.str('user_ref')}"
    raise MalformedPayload(f"{sender.path}.id (or {sender.path}.user_ref) is required")


def direct(tenant: str, label: str, channel: int, account: str, event: Obj) -> Iterator[Message]:
    """A private message, its edit, or its deletion; nothing for echoes, deliveries and reads."""
    customer = _customer(event.obj("sender"))
    if customer == account:
        return  # our own page wrote it
    base = Message(
        conversation_id=conversation_id(tenant, label, f"{account}:{customer}"),
        channel=channel,  # type: ignore[arg-type]
        sender=common_pb2.Sender(id=customer),
    )
    if event.has("timestamp"):
        base.sent_at.CopyFrom(
            from_epoch(event.int("timestamp"), f"{event.path}.timestamp", milliseconds=True)
        )
    if (edit := event.maybe("message_edit")) is not None:
        number = edit.int("num_edit", 1)
        edited = _with(
            base, f"{edit.str('mid')}#edit{number}", events_pb2.MESSAGE_KIND_EDITED, edit.str("text", "")
        )
        edited.original_message_id = edit.str("mid")
        yield edited
    elif (message := event.maybe("message")) is not None:
        if message.data.get("is_echo"):
            return
        if message.data.get("is_deleted"):
            deleted = _with(base, f"{message.str('mid')}#deleted", events_pb2.MESSAGE_KIND_DELETED, "")
            deleted.original_message_id = message.str("mid")
            yield deleted
            return
        attachments = message.list("attachments", required=False)
        kind = events_pb2.MESSAGE_KIND_TEXT
        if message.has("sticker_id"):
            kind = events_pb2.MESSAGE_KIND_STICKER
        elif attachments:
            kind = ATTACHMENT_KINDS.get(attachments[0].str("type", "file"), events_pb2.MESSAGE_KIND_FILE)
        result = _with(base, message.str("mid"), kind, message.str("text", "") or _quick_reply(message))
        result.attachments.extend(_meta_attachment(a) for a in attachments)
        result.reply_to_message_id = _replied_to(message)
        refer(result, message.maybe("referral") or event.maybe("referral"))
        yield result
    elif (postback := event.maybe("postback")) is not None:
        # A button the customer pressed: its title is what they "said".
        mid = postback.str("mid", "") or f"postback:{customer}:{event.int('timestamp')}"
        pressed = _with(
            base, mid, events_pb2.MESSAGE_KIND_TEXT, postback.str("title", postback.str("payload", ""))
        )
        refer(pressed, postback.maybe("referral"))  # Get Started from an ad or an m.me link
        yield pressed
    elif (referral := event.maybe("referral")) is not None:
        yield _arrival(base, referral, event)


def _replied_to(message: Obj) -> str:
    """The message this one answers: ``reply_to.mid``; an Instagram reply to a story names the
    story instead (``reply_to.story.id``), marked as such."""
    reply = message.maybe("reply_to")
    if reply is None:
        return ""
    if reply.has("mid"):
        return reply.str("mid")
    story = reply.maybe("story")
    return f"story:{story.str('id')}" if story is not None and story.has("id") else ""


def _arrival(base: Message, referral: Obj, event: Obj) -> Message:
    """A customer with a thread already open came back through an ad or a link, without writing
    (``messaging_referrals``): recorded in the conversation, as a platform's notice rather than the
    customer's words (``MESSAGE_KIND_AUTOMATIC``), so it opens nothing and starts no clock."""
    found = referral_of(referral)
    what = f"the ad {found.headline or found.ad_id}" if found.ad_id else f"a link ({found.source})"
    if found.ref:
        what += f", ref {found.ref}"
    arrival = _with(
        base,
        f"referral:{base.sender.id}:{event.int('timestamp')}",
        events_pb2.MESSAGE_KIND_AUTOMATIC,
        notice(f"came back to the conversation through {what}"),
    )
    arrival.referral.CopyFrom(found)
    arrival.notes.append("a referral notice from the platform: the customer wrote nothing")
    return arrival


def _quick_reply(message: Obj) -> str:
    """A tapped quick reply's words when the message has no text of its own: its title, else its
    payload (Instagram's e-mail and phone quick replies carry only the payload, the address itself)."""
    reply = message.maybe("quick_reply")
    return (reply.str("title", "") or reply.str("payload", "")) if reply is not None else ""


def _meta_attachment(attachment: Obj) -> common_pb2.Attachment:
    payload = attachment.maybe("payload")
    url = payload.str("url", "") if payload is not None else ""
    kind = attachment.str("type", "file")
    if kind == "location" and payload is not None and (where := payload.maybe("coordinates")) is not None:
        url = url or f"geo:{where.data.get('lat')},{where.data.get('long')}"
    return common_pb2.Attachment(filename=attachment.str("title", ""), content_type=kind, url=url)


def _with(base: Message, mid: str, kind: int, text: str) -> Message:
    message = Message()
    message.CopyFrom(base)
    message.channel_message_id = mid
    message.kind = kind  # type: ignore[assignment]
    message.text = text
    return message
