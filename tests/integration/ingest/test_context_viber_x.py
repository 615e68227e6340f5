"""Viber senders' languages, and X media on tweets and direct messages kept as attachments.

What a message carries beside its text, as the platforms send it (issue #19, "Gaps a shop
notices"): the language of a Viber sender, which the text's own overrides, and the photos and videos of
X tweets and direct messages.

Posted to the real ingest process; the events are read back from the broker and checked field by
field. Each test names the documentation page its payload follows. Values (ids, names, texts) are
ours; a run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import X_ACCOUNT, at, at_ms, deliver, messages

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


@pytest.mark.parametrize(
    ("language", "text", "expected", "notes", "topics"),
    [
        # The phone's language, and a text too short to contradict it.
        ("pl", "Dzięki!", "pl", [], []),
        # A phone set to English, a customer writing Italian: the text wins, with a note.
        (
            "en",
            "Buongiorno, il mio ordine non è ancora arrivato, potete controllare?",
            "it",
            ["declared language 'en' (the sender's Viber language), but the text reads as 'it'"],
            [C.SUPPORT_TOPIC_ORDERS],
        ),
    ],
)
async def test_the_viber_senders_language_is_the_messages_unless_the_text_says_otherwise(
    ingest: IngestService,
    broker: EmbeddedBroker,
    language: str,
    text: str,
    expected: str,
    notes: list[str],
    topics: list[C.SupportTopic],
) -> None:
    """Shape: https://developers.viber.com/docs/api/rest-bot-api/#receive-message-from-user
    (``sender.language``: "User's phone language")
    """
    run = uuid.uuid4().hex[:12]
    token = 4_912_661_846_655_238_145 - int(run[:8], 16)
    body = {
        "event": "message",
        "timestamp": 1794821647123,
        "chat_hostname": "SN-376_",
        "message_token": token,
        "sender": {
            "id": f"{run}A=",
            "name": "Anna",
            "avatar": "https://avatar.example.com/anna.jpg",
            "country": "IT",
            "language": language,
            "api_version": 1,
        },
        "message": {"type": "text", "text": text},
        "silent": False,
    }

    status, answer = await deliver(ingest, "viber", json.dumps(body).encode())

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The whole event; the time is Viber's, in milliseconds. The sender's avatar and country have no
    # field in Sender.
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "viber", f"{run}A="),
        channel=C.CHANNEL_VIBER,
        channel_message_id=str(token),
        sender=C.Sender(id=f"{run}A=", display_name="Anna"),
        text=text,
        language=expected,
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at_ms(1794821647123),
        topic_hints=topics,
        notes=notes,
    )


def photo(media_id: str) -> dict[str, object]:
    """A photo entity as X describes it (https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/entities#media)."""
    return {
        "id": int(media_id),
        "id_str": media_id,
        "indices": [40, 63],
        "media_url": f"http://pbs.twimg.com/media/{media_id}.jpg",
        "media_url_https": f"https://pbs.twimg.com/media/{media_id}.jpg",
        "url": "https://t.co/5J1WJSRCy9",
        "display_url": "pic.twitter.com/5J1WJSRCy9",
        "expanded_url": f"https://twitter.com/javimorales_tf/status/{media_id}/photo/1",
        "type": "photo",
        "sizes": {"large": {"w": 1536, "h": 2048, "resize": "fit"}},
    }


async def test_x_media_on_tweets_and_direct_messages_are_attachments(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A mention in reply to one of the shop's tweets with a photo and a video (every medium is in
    ``extended_entities``, ``entities`` names only the first), and a direct message with a photo
    (``message_data.attachment``).

    Shapes: https://developer.x.com/en/docs/twitter-api/enterprise/account-activity-api/guides/account-activity-data-objects
    (tweet_create_events, direct_message_events), https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/extended-entities
    (media, video_info.variants) and https://developer.x.com/en/docs/direct-messages/sending-and-receiving/guides/message-create-object
    (attachment: type media)
    """
    run = uuid.uuid4().hex[:12]
    tweet_id, dm_id = str(2_122_274_088_546_076_834 + int(run[:8], 16)), str(1_900_000_000 + int(run[:6], 16))
    author = {
        "id": 1455102983311872005,
        "id_str": "1455102983311872005",
        "name": "Javier Morales",
        "screen_name": "javimorales_tf",
    }
    video = {
        **photo("1930077847535812611"),
        "type": "video",
        "video_info": {
            "aspect_ratio": [9, 16],
            "duration_millis": 10704,
            "variants": [
                {
                    "content_type": "application/x-mpegURL",
                    "url": "https://video.twimg.com/ext_tw_video/1/pl/a.m3u8",
                },
                {
                    "bitrate": 632000,
                    "content_type": "video/mp4",
                    "url": "https://video.twimg.com/ext_tw_video/1/vid/320x568/a.mp4",
                },
                {
                    "bitrate": 2176000,
                    "content_type": "video/mp4",
                    "url": "https://video.twimg.com/ext_tw_video/1/vid/720x1280/a.mp4",
                },
            ],
        },
    }
    tweets = {
        "for_user_id": X_ACCOUNT,
        "tweet_create_events": [
            {
                "created_at": "Mon Nov 16 10:22:27 +0000 2026",
                "id": int(tweet_id),
                "id_str": tweet_id,
                "text": "@prontoshop_help la caja llegó así 😡 https://t.co/5J1WJSRCy9",
                "in_reply_to_status_id": 2122274088546070000,
                "in_reply_to_status_id_str": "2122274088546070000",
                "in_reply_to_user_id_str": X_ACCOUNT,
                "user": author,
                "entities": {
                    "hashtags": [],
                    "urls": [],
                    "user_mentions": [],
                    "media": [photo("1930077847535812610")],
                },
                "extended_entities": {"media": [photo("1930077847535812610"), video]},
            }
        ],
    }
    dms = {
        "for_user_id": X_ACCOUNT,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": dm_id,
                "created_timestamp": "1794821647000",
                "message_create": {
                    "target": {"recipient_id": X_ACCOUNT},
                    "sender_id": "1455102983311872005",
                    "message_data": {
                        "text": "Aquí está la foto del ticket https://t.co/6K2XKTSDz0",
                        "entities": {"hashtags": [], "symbols": [], "urls": [], "user_mentions": []},
                        "attachment": {"type": "media", "media": photo("1930077847535812612")},
                    },
                },
            }
        ],
        "users": {"1455102983311872005": {**author, "id": "1455102983311872005"}},
    }

    answers = [await deliver(ingest, "x", json.dumps(body).encode()) for body in (tweets, dms)]

    assert [status for status, _ in answers] == [200, 200], answers
    found = {m.channel_message_id: m for m in await messages(broker, [a["event_ids"][0] for _, a in answers])}
    tweet, dm = found[tweet_id], found[dm_id]
    sender = C.Sender(id="1455102983311872005", display_name="Javier Morales")
    # The whole events. The mention's conversation is the thread it answers (the shop's tweet) with
    # its author; its time is created_at, Mon Nov 16 10:22:27 +0000 2026. The video is its best
    # mp4 variant.
    assert tweet == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "x", "tweet:2122274088546070000:1455102983311872005"),
        channel=C.CHANNEL_X,
        channel_message_id=tweet_id,
        sender=sender,
        text="@prontoshop_help la caja llegó así 😡 https://t.co/5J1WJSRCy9",
        attachments=[
            C.Attachment(
                filename="1930077847535812610",
                content_type="image/jpeg",
                url="https://pbs.twimg.com/media/1930077847535812610.jpg",
            ),
            C.Attachment(
                filename="1930077847535812611",
                content_type="video/mp4",
                url="https://video.twimg.com/ext_tw_video/1/vid/720x1280/a.mp4",
            ),
        ],
        language="es",
        kind=K.MESSAGE_KIND_IMAGE,
        sent_at=at(1794824547),
        is_public=True,
        reply_to_message_id="2122274088546070000",
    )
    # "Aquí está la foto del ticket" is Spanish (the detector reads it so on its own); the t.co link
    # after it is no language and must not make it unknown.
    assert dm == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "x", "dm:1455102983311872005"),
        channel=C.CHANNEL_X,
        channel_message_id=dm_id,
        sender=sender,
        text="Aquí está la foto del ticket https://t.co/6K2XKTSDz0",
        attachments=[
            C.Attachment(
                filename="1930077847535812612",
                content_type="image/jpeg",
                url="https://pbs.twimg.com/media/1930077847535812612.jpg",
            )
        ],
        language="es",
        kind=K.MESSAGE_KIND_IMAGE,
        sent_at=at(1794821647),
    )
