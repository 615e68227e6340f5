"""Public comments and visitor posts on Facebook Pages and Instagram media, and @mentions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.meta_kinds import ATTACHMENT_KINDS, Message
from services.ingest.channels.notices import notice
from services.ingest.channels.payload import Obj, from_epoch


def page_change(tenant: str, page: str, change: Obj) -> Iterator[Message]:
    if change.str("field") != "feed":
        return
    value = change.obj("value")
    if value.str("item", "") in _VISITOR_POSTS:
        yield from _visitor_post(tenant, page, value)
    else:
        yield from _feed_comment(tenant, page, value)


def instagram_change(tenant: str, account: str, entry: Obj, change: Obj) -> Iterator[Message]:
    field = change.str("field")
    if field == "comments" and change.obj("value").obj("from").str("id") != account:
        yield _instagram_comment(tenant, account, change.obj("value"), entry)  # not the shop's own reply
    elif field == "mentions":
        yield _instagram_mention(tenant, change.obj("value"), entry)


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
            message.kind = ATTACHMENT_KINDS["image" if item == "photo" else "video"]
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
