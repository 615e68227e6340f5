"""X (Twitter) Account Activity events: direct messages and public mentions.

Verified by x-twitter-webhooks-signature (base64 HMAC-SHA256 of the body
with the consumer secret); the GET challenge-response check is answered by
the entry point. Our own messages (sender is ``for_user_id``) and retweets
(``retweeted_status``: no words of the customer's) are left out; quote tweets are kept.

Media (photos, videos, GIFs) attached to a tweet (``extended_entities.media``,
in ``extended_tweet`` for long tweets) or a direct message
(``message_data.attachment.media``) become attachments: the picture's
``media_url_https``, or a video's best MP4 variant. Direct-message media are
only readable with the account's OAuth credentials (X's rule), which notify
holds; the URL is kept as X gave it.

One delivery may batch several direct messages (``direct_message_events``) and tweets
(``tweet_create_events``): each is read on its own, and one Pronto cannot read is returned as
Unreadable (dead-lettered by the webhook) instead of refusing the readable ones with it, as for
Meta's batches (issue #19).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Mapping
from email.utils import parsedate_to_datetime
from functools import partial

from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import signatures
from services.ingest.channels.identity import conversation_id
from services.ingest.channels.payload import Obj, Unreadable, each_part, from_epoch, load_json, timestamp
from services.ingest.errors import MalformedPayload

Message = events_pb2.MessageReceived


def parse(tenant: str, raw: bytes) -> list[Message | Unreadable]:
    """Every customer message of the delivery, and the events that cannot be read as Unreadable.

    A body that is not X's shape at all (not JSON, no ``for_user_id``, an event list or ``users``
    that is not one) is refused whole; past that, each direct message and tweet is read on its own.
    """
    body = Obj(load_json(raw))
    account = body.str("for_user_id")
    users = body.maybe("users")
    channel = common_pb2.CHANNEL_X
    return [
        *each_part(body, "direct_message_events", channel, partial(_direct_message, tenant, account, users)),
        *each_part(body, "tweet_create_events", channel, partial(_mention, tenant, account)),
    ]


def _direct_message(tenant: str, account: str, users: Obj | None, event: Obj) -> Iterator[Message]:
    if event.str("type") != "message_create":
        return
    create = event.obj("message_create")
    sender_id = create.str("sender_id")
    if sender_id == account:
        return
    user = users.maybe(sender_id) if users is not None else None
    data = create.obj("message_data")
    attachment = data.maybe("attachment")
    media = [attachment.obj("media")] if attachment is not None and attachment.has("media") else []
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id(tenant, "x", f"dm:{sender_id}"),
        channel=common_pb2.CHANNEL_X,
        channel_message_id=event.str("id"),
        sender=common_pb2.Sender(id=sender_id, display_name=user.str("name", "") if user else ""),
        text=data.str("text", ""),
        kind=_kind(media),
        attachments=[_attachment(m) for m in media],
    )
    message.sent_at.CopyFrom(
        from_epoch(event.int("created_timestamp"), f"{event.path}.created_timestamp", True)
    )
    yield message


def _mention(tenant: str, account: str, tweet: Obj) -> Iterator[Message]:
    author = tweet.obj("user")
    if _id(author) == account:
        return
    if tweet.has("retweeted_status"):
        # A retweet (of the shop's promotion, or of a tweet that mentions the shop) carries no words
        # of the retweeter's, only the original's "RT @shop: ..."; a campaign retweeted 500 times
        # would otherwise queue 500 conversations. Not recorded even as AUTOMATIC: each retweeter is
        # a conversation of their own, so there would be 500 silent ones in the console, and the
        # tweet itself, when a customer wrote it, already came as its own mention. A quote tweet
        # (``quoted_status``, the quoter's own text) is not a retweet and stays a message.
        return
    thread = tweet.str("in_reply_to_status_id_str", "") or tweet.str("id_str")
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id(
            tenant, "x", f"tweet:{thread}:{author.str('id_str', author.str('id'))}"
        ),
        channel=common_pb2.CHANNEL_X,
        channel_message_id=tweet.str("id_str"),
        sender=common_pb2.Sender(id=_id(author), display_name=author.str("name", "")),
        text=_tweet_text(tweet),
        kind=_kind(media := _tweet_media(tweet)),
        attachments=[_attachment(m) for m in media],
        is_public=True,
        reply_to_message_id=tweet.str("in_reply_to_status_id_str", "") or "",
    )
    if tweet.has("created_at"):
        try:
            message.sent_at.CopyFrom(timestamp(parsedate_to_datetime(tweet.str("created_at"))))
        except (TypeError, ValueError) as exc:
            raise MalformedPayload(
                f"{tweet.path}.created_at is not a date: {tweet.str('created_at')!r}"
            ) from exc
    yield message


def _id(user: Obj) -> str:
    return user.str("id_str") if user.has("id_str") else user.str("id")


def _tweet_text(tweet: Obj) -> str:
    extended = tweet.maybe("extended_tweet")
    return extended.str("full_text", "") if extended is not None else tweet.str("text", "")


_MEDIA_KINDS: dict[str, events_pb2.MessageKind] = {
    "photo": events_pb2.MESSAGE_KIND_IMAGE,
    "video": events_pb2.MESSAGE_KIND_VIDEO,
    "animated_gif": events_pb2.MESSAGE_KIND_VIDEO,
}


def _tweet_media(tweet: Obj) -> list[Obj]:
    """Every medium of the tweet: ``extended_entities`` lists them all (``entities`` only the
    first), inside ``extended_tweet`` when the tweet is over 140 characters."""
    for holder in (tweet.maybe("extended_tweet"), tweet):
        if holder is None:
            continue
        for key in ("extended_entities", "entities"):
            entities = holder.maybe(key)
            if entities is not None and entities.has("media"):
                return entities.list("media")
    return []


def _kind(media: list[Obj]) -> events_pb2.MessageKind:
    if not media:
        return events_pb2.MESSAGE_KIND_TEXT
    return _MEDIA_KINDS.get(media[0].str("type", "photo"), events_pb2.MESSAGE_KIND_FILE)


def _attachment(media: Obj) -> common_pb2.Attachment:
    """A picture's HTTPS URL, or for a video or GIF its MP4 variant of the highest bitrate."""
    url = media.str("media_url_https", "") or media.str("media_url", "")
    content_type = mimetypes.guess_type(url)[0] or ""
    video = media.maybe("video_info")
    if video is not None:
        variants = [v for v in video.list("variants", required=False) if v.has("url")]
        mp4 = [v for v in variants if v.str("content_type", "") == "video/mp4"] or variants
        if mp4:
            best = max(mp4, key=lambda v: v.int("bitrate", 0))
            url, content_type = best.str("url"), best.str("content_type", "")
    return common_pb2.Attachment(
        filename=media.str("id_str", ""), content_type=content_type or media.str("type", ""), url=url
    )


def check_signature(headers: Mapping[str, str], body: bytes, consumer_secret: str) -> None:
    """X signs with the consumer secret: ``X-Twitter-Webhooks-Signature: sha256=<base64>``."""
    signatures.check_x_signature(headers.get("x-twitter-webhooks-signature"), consumer_secret, body)
