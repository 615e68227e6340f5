"""Meta's webhooks, one endpoint per app: Messenger, Instagram messaging, WhatsApp Cloud API,
and public comments on Facebook Page posts and Instagram media.

The body is signed with X-Hub-Signature-256 (checked by the entry point).
One delivery may batch several entries, each with several events: every
customer message becomes one MessageReceived; what is not a customer
message (echoes of our own replies, deliveries, reads, WhatsApp statuses)
is acknowledged and left out. Timestamps: Messenger and Instagram DMs in
milliseconds, comments and WhatsApp in seconds.

What the operator needs to read a message in its context travels with it: the
message it replies to (``reply_to_message_id``), the message an edit or a
deletion changes (``original_message_id``), and the ad, post or link that
brought the customer (``referral``, see ``referral_of``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from functools import partial

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.cards import contact_line, place, vcard
from services.ingest.channels.errors import MalformedPayload
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.notices import notice
from services.ingest.channels.payload import Obj, Unreadable, each_part, from_epoch, load_json

Message = events_pb2.MessageReceived
Read = Iterator[Message | Unreadable]

_ATTACHMENT_KINDS = {
    "image": events_pb2.MESSAGE_KIND_IMAGE,
    "video": events_pb2.MESSAGE_KIND_VIDEO,
    "audio": events_pb2.MESSAGE_KIND_AUDIO,
    "file": events_pb2.MESSAGE_KIND_FILE,
    "document": events_pb2.MESSAGE_KIND_FILE,
    "location": events_pb2.MESSAGE_KIND_LOCATION,
    "sticker": events_pb2.MESSAGE_KIND_STICKER,
    "voice": events_pb2.MESSAGE_KIND_AUDIO,
}


def parse(tenant: str, raw: bytes) -> list[Message | Unreadable]:
    """Every customer message of the delivery, and the parts that cannot be read as Unreadable.

    A body that is not Meta's shape at all (not JSON, an unknown ``object``, no ``entry`` list) is
    refused whole; past that, each entry, messaging event, change and WhatsApp message is read on
    its own, so one Pronto cannot read does not take the others down with it.
    """
    body = Obj(load_json(raw))
    kind = body.str("object")
    if kind not in _OBJECTS:
        raise MalformedPayload(
            f"body.object {kind!r} is not one Pronto handles (page, instagram, whatsapp_business_account)"
        )
    read, channel = _OBJECTS[kind]
    return list(each_part(body, "entry", channel, partial(read, tenant), required=True))


# ---------------------------------------------------------------- Messenger and Instagram DMs


def _page_entry(tenant: str, entry: Obj) -> Read:
    page = entry.str("id")
    facebook = common_pb2.CHANNEL_FACEBOOK
    yield from each_part(entry, "messaging", facebook, partial(_direct, tenant, "facebook", facebook, page))
    yield from each_part(entry, "changes", facebook, partial(_page_change, tenant, page))


def _page_change(tenant: str, page: str, change: Obj) -> Iterator[Message]:
    if change.str("field") != "feed":
        return
    value = change.obj("value")
    if value.str("item", "") in _VISITOR_POSTS:
        yield from _visitor_post(tenant, page, value)
    else:
        yield from _feed_comment(tenant, page, value)


def _instagram_entry(tenant: str, entry: Obj) -> Read:
    account = entry.str("id")
    instagram = common_pb2.CHANNEL_INSTAGRAM
    yield from each_part(
        entry, "messaging", instagram, partial(_direct, tenant, "instagram", instagram, account)
    )
    yield from each_part(entry, "changes", instagram, partial(_instagram_change, tenant, account, entry))


def _instagram_change(tenant: str, account: str, entry: Obj, change: Obj) -> Iterator[Message]:
    field = change.str("field")
    if field == "comments" and change.obj("value").obj("from").str("id") != account:
        yield _instagram_comment(tenant, account, change.obj("value"), entry)  # not the shop's own reply
    elif field == "mentions":
        yield _instagram_mention(tenant, change.obj("value"), entry)


def _customer(sender: Obj) -> str:
    """The sender's page-scoped id, or for a guest of the website chat plugin (who has none) its
    ``user_ref``, marked as such: the two name different people and are answered differently."""
    if sender.has("id"):
        return sender.str("id")
    if sender.has("user_ref"):
        return f"user_ref:{sender.str('user_ref')}"
    raise MalformedPayload(f"{sender.path}.id (or {sender.path}.user_ref) is required")


def _direct(tenant: str, label: str, channel: int, account: str, event: Obj) -> Iterator[Message]:
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
            kind = _ATTACHMENT_KINDS.get(attachments[0].str("type", "file"), events_pb2.MESSAGE_KIND_FILE)
        result = _with(base, message.str("mid"), kind, message.str("text", "") or _quick_reply(message))
        result.attachments.extend(_meta_attachment(a) for a in attachments)
        result.reply_to_message_id = _replied_to(message)
        _refer(result, message.maybe("referral") or event.maybe("referral"))
        yield result
    elif (postback := event.maybe("postback")) is not None:
        # A button the customer pressed: its title is what they "said".
        mid = postback.str("mid", "") or f"postback:{customer}:{event.int('timestamp')}"
        pressed = _with(
            base, mid, events_pb2.MESSAGE_KIND_TEXT, postback.str("title", postback.str("payload", ""))
        )
        _refer(pressed, postback.maybe("referral"))  # Get Started from an ad or an m.me link
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


def referral_of(referral: Obj) -> common_pb2.Referral:
    """Meta's referral object, of either family, as one shape.

    Messenger and Instagram (``messaging_referrals``, a postback's or a message's ``referral``):
    ``ref``, ``source`` (ADS, SHORTLINK, CUSTOMER_CHAT_PLUGIN...), ``type``, ``ad_id``,
    ``referer_uri`` and ``ads_context_data`` (ad_title, photo_url, video_url, post_id).
    WhatsApp's Click-to-WhatsApp ads and posts: ``source_type``, ``source_id``, ``source_url``,
    ``headline``, ``body``, ``image_url``/``video_url``/``thumbnail_url``, ``ctwa_clid``.
    """
    ads = referral.maybe("ads_context_data")
    context = ads.str if ads is not None else (lambda _key, default="": default)
    media = (
        referral.str("image_url", "")
        or referral.str("video_url", "")
        or referral.str("thumbnail_url", "")
        or context("photo_url", "")
        or context("video_url", "")
    )
    return common_pb2.Referral(
        source=referral.str("source", "") or referral.str("source_type", ""),
        type=referral.str("type", ""),
        ref=referral.str("ref", ""),
        ad_id=referral.str("ad_id", "") or referral.str("source_id", ""),
        post_id=context("post_id", ""),
        url=referral.str("source_url", "") or referral.str("referer_uri", ""),
        headline=referral.str("headline", "") or context("ad_title", ""),
        body=referral.str("body", ""),
        media_url=media,
        click_id=referral.str("ctwa_clid", ""),
    )


def _refer(message: Message, referral: Obj | None) -> None:
    if referral is not None:
        message.referral.CopyFrom(referral_of(referral))


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


# ---------------------------------------------------------------- public comments


_FEED_KINDS = {
    "add": events_pb2.MESSAGE_KIND_TEXT,
    "edited": events_pb2.MESSAGE_KIND_EDITED,
    "remove": events_pb2.MESSAGE_KIND_DELETED,
}

# What an edit of a feed item says: its content and its time.
_EDIT_FIELDS = ("created_time", "message", "link", "photo_id", "video_id")


def _feed_id(item: str, verb: str, value: Obj) -> str:
    """The id of a comment's or a visitor post's event: the item's own id when it is added,
    ``#deleted`` after it for its removal, and for each edit ``#edit:`` and a digest of what the
    edit says (its ``created_time``, text, link and media).

    The edit id must tell two edits of one item apart even when Meta batches them in one entry
    (the entry's ``time`` is the same for both, so it cannot), and must be the same when Meta retries
    the delivery, or sends the change again in another entry (with another ``time``, at another
    index), or the retry would be a second edit. The change's own content is both: it is what
    Meta sends again, whatever the batch around it. Two edits saying the same thing at the same
    time are one edit as far as the operator can tell.
    """
    if verb == "add":
        return item
    if verb == "remove":
        return f"{item}#deleted"
    said = {field: value.data[field] for field in _EDIT_FIELDS if field in value.data}
    digest = hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()[:20]
    return f"{item}#edit:{digest}"


def _feed_comment(tenant: str, page: str, value: Obj) -> Iterator[Message]:
    """A public comment, its edits (each one an event, told apart by what it says) and its removal."""
    verb = value.str("verb", "add")
    if value.str("item", "") != "comment" or verb not in _FEED_KINDS:
        return
    author = value.obj("from")
    if author.str("id") == page:
        return  # the page answering in public
    kind = _FEED_KINDS[verb]
    message = Message(
        conversation_id=conversation_id(
            tenant, "facebook", f"post:{value.str('post_id')}:{author.str('id')}"
        ),
        channel=common_pb2.CHANNEL_FACEBOOK,
        channel_message_id=_feed_id(value.str("comment_id"), verb, value),
        sender=common_pb2.Sender(id=author.str("id"), display_name=author.str("name", "")),
        text="" if verb == "remove" else value.str("message", ""),
        kind=kind,
        is_public=True,
        original_message_id=value.str("comment_id") if verb != "add" else "",
    )
    if value.has("created_time"):
        message.sent_at.CopyFrom(from_epoch(value.int("created_time"), f"{value.path}.created_time"))
    yield message


# Feed items a visitor posts on the Page itself: text (status, post), a photo, a video, a link.
_VISITOR_POSTS = {"status", "post", "photo", "video", "share"}


def _visitor_post(tenant: str, page: str, value: Obj) -> Iterator[Message]:
    """A visitor's post on the Page's timeline, its edits and its removal: public, like a comment,
    and the conversation is the post's thread with its author (their comments under it join it).
    A photo, video or link comes as ``link`` (and ``photo_id`` / ``video_id``): an attachment."""
    verb = value.str("verb", "add")
    author = value.maybe("from")
    if verb not in _FEED_KINDS or author is None or author.str("id") == page:
        return  # the Page's own posts, and what is not a post's life (hide, unhide...)
    kind = _FEED_KINDS[verb]
    post = value.str("post_id")
    message = Message(
        conversation_id=conversation_id(tenant, "facebook", f"post:{post}:{author.str('id')}"),
        channel=common_pb2.CHANNEL_FACEBOOK,
        channel_message_id=_feed_id(post, verb, value),
        sender=common_pb2.Sender(id=author.str("id"), display_name=author.str("name", "")),
        text="" if verb == "remove" else value.str("message", ""),
        kind=kind,
        is_public=True,
        original_message_id=post if verb != "add" else "",
    )
    item = value.str("item")
    if verb != "remove" and value.str("link", ""):
        media = value.str("photo_id", "") or value.str("video_id", "")
        message.attachments.add(filename=media, content_type=item, url=value.str("link"))
        if kind == events_pb2.MESSAGE_KIND_TEXT and item in ("photo", "video"):
            message.kind = _ATTACHMENT_KINDS["image" if item == "photo" else "video"]
    if value.has("created_time"):
        message.sent_at.CopyFrom(from_epoch(value.int("created_time"), f"{value.path}.created_time"))
    yield message


def _instagram_comment(tenant: str, account: str, value: Obj, entry: Obj) -> Message:
    author = value.obj("from")
    media = value.obj("media").str("id")
    message = Message(
        conversation_id=conversation_id(tenant, "instagram", f"media:{media}:{author.str('id')}"),
        channel=common_pb2.CHANNEL_INSTAGRAM,
        channel_message_id=value.str("id"),
        sender=common_pb2.Sender(id=author.str("id"), display_name=author.str("username", "")),
        text=value.str("text", ""),
        kind=events_pb2.MESSAGE_KIND_TEXT,
        is_public=True,
    )
    if entry.has("time"):
        message.sent_at.CopyFrom(from_epoch(entry.int("time"), f"{entry.path}.time"))
    return message


def _instagram_mention(tenant: str, value: Obj, entry: Obj) -> Message:
    """The shop's account @mentioned in someone's comment (``comment_id``) or media caption.

    Meta's notification names only the comment and the media: who wrote it and what it says are
    for the Graph API (``mentioned_comment``, ``mentioned_media``), which ingest does not call. So
    the event says where the mention is; each mention is a conversation of its own, as there is
    no author to key it on, and the sender is the mention itself, marked as such.
    """
    media = value.str("media_id")
    comment = value.str("comment_id", "")
    where = f"comment:{comment}" if comment else f"media:{media}"
    text = (
        notice(f"@mention in comment {comment} on Instagram media {media}")
        if comment
        else notice(f"@mention in the caption of Instagram media {media}")
    )
    message = Message(
        conversation_id=conversation_id(tenant, "instagram", f"mention:{where}"),
        channel=common_pb2.CHANNEL_INSTAGRAM,
        channel_message_id=f"mention:{where}",
        sender=common_pb2.Sender(id=f"mention:{where}"),
        text=text,
        kind=events_pb2.MESSAGE_KIND_TEXT,
        is_public=True,
    )
    if entry.has("time"):
        # Seconds for changes; an entry that also carries messaging events has milliseconds.
        time = entry.int("time")
        message.sent_at.CopyFrom(from_epoch(time, f"{entry.path}.time", milliseconds=time > 10**11))
    return message


# ---------------------------------------------------------------- WhatsApp


def _whatsapp_entry(tenant: str, entry: Obj) -> Read:
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
    _refer(message, item.maybe("referral"))
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
        return _ATTACHMENT_KINDS[kind_name], caption, kind_name
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


_OBJECTS: dict[str, tuple[Callable[[str, Obj], Read], int]] = {
    "page": (_page_entry, common_pb2.CHANNEL_FACEBOOK),
    "instagram": (_instagram_entry, common_pb2.CHANNEL_INSTAGRAM),
    "whatsapp_business_account": (_whatsapp_entry, common_pb2.CHANNEL_WHATSAPP),
}
