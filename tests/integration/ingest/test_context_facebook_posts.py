"""A visitor's posts and comments on the shop's Facebook page are public messages, each edit an event.

What a visitor writes on the shop's page, as the Graph API's feed webhook sends it (issue #19, "Gaps
a shop notices"): a post on the page is a public message, and two edits of one post or comment in
one entry are two events.

Posted to the real ingest process; the events are read back from the broker and checked field by
field. Each test names the documentation page its payload follows. Values (ids, names, texts) are
ours; a run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest

from pronto import event_ids
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import PAGE, at, deliver, messages

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


def feed_edit_id(item: str, value: dict[str, object]) -> str:
    """The channel message id of an edit of a feed item: the item's id, ``#edit:`` and a digest of
    what the edit says, its created_time, text, link and media (services/ingest/channels/meta_comments.py,
    ``_feed_id``: the same for a retried or re-sent edit, different for two edits in one entry)."""
    said = {f: value[f] for f in ("created_time", "message", "link", "photo_id", "video_id") if f in value}
    return f"{item}#edit:" + hashlib.sha256(json.dumps(said, sort_keys=True).encode()).hexdigest()[:20]


async def test_a_visitors_post_on_the_page_is_a_public_message(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A visitor posts on the Page (text, then a photo), edits the text post, and the Page's own post
    is left out.

    Shape: https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed (``feed``:
    from, post_id, verb, item status/photo/post, message, link, photo_id, created_time) and
    https://developers.facebook.com/docs/pages-api/webhooks-for-pages
    """
    run = uuid.uuid4().hex[:12]
    visitor = f"81{int(run[:8], 16):014d}"
    post, picture = f"{PAGE}_{int(run[:10], 16)}", f"{PAGE}_{int(run[2:12], 16)}"

    def change(value: dict[str, object]) -> dict[str, object]:
        return {"field": "feed", "value": value}

    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "time": 1794820950,
                    "changes": [
                        change(
                            {
                                "from": {"id": visitor, "name": "Paolo Verdi"},
                                "post_id": post,
                                "verb": "add",
                                "item": "status",
                                "created_time": 1794820944,
                                "message": "Ordine 10422 mai arrivato e nessuno risponde alle mail!",
                                "published": 1,
                            }
                        ),
                        change(
                            {
                                "from": {"id": visitor, "name": "Paolo Verdi"},
                                "link": "https://scontent.xx.fbcdn.net/v/t39.30808-6/pacco.jpg",
                                "message": "Ecco com'è arrivato il pacco",
                                "post_id": picture,
                                "created_time": 1794820946,
                                "item": "photo",
                                "photo_id": "122187452390118299",
                                "published": 1,
                                "verb": "add",
                            }
                        ),
                        change(
                            {
                                "from": {"id": PAGE, "name": "Pronto Shop"},
                                "post_id": f"{PAGE}_1",
                                "verb": "add",
                                "item": "status",
                                "created_time": 1794820947,
                                "message": "Saldi d'inverno!",
                                "published": 1,
                            }
                        ),
                        change(
                            {
                                "from": {"id": visitor, "name": "Paolo Verdi"},
                                "post_id": post,
                                "verb": "edited",
                                "item": "status",
                                "created_time": 1794820948,
                                "message": "Ordine 10422 mai arrivato!",
                                "published": 1,
                            }
                        ),
                    ],
                }
            ],
        }
    ).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (3, 0)
    found = {m.channel_message_id: m for m in await messages(broker, answer["event_ids"])}
    edit_id = feed_edit_id(
        post, {"created_time": 1794820948, "message": "Ordine 10422 mai arrivato!", "published": 1}
    )
    assert set(found) == {post, picture, edit_id}
    text, image, edited = found[post], found[picture], found[edit_id]
    sender = C.Sender(id=visitor, display_name="Paolo Verdi")
    thread = conversation_id("shop-a", "facebook", f"post:{post}:{visitor}")
    # The whole events: public, in the thread of each post with its author; the time is each
    # change's created_time. The photo's content type is the feed's item word, as Meta's attachment
    # types are for Messenger ("image", "video", "file").
    assert text == K.MessageReceived(
        conversation_id=thread,
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=post,
        sender=sender,
        text="Ordine 10422 mai arrivato e nessuno risponde alle mail!",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794820944),
        is_public=True,
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
    )
    assert image == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "facebook", f"post:{picture}:{visitor}"),
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=picture,
        sender=sender,
        text="Ecco com'è arrivato il pacco",
        attachments=[
            C.Attachment(
                filename="122187452390118299",
                content_type="photo",
                url="https://scontent.xx.fbcdn.net/v/t39.30808-6/pacco.jpg",
            )
        ],
        language="it",
        kind=K.MESSAGE_KIND_IMAGE,
        sent_at=at(1794820946),
        is_public=True,
        topic_hints=[C.SUPPORT_TOPIC_SHIPPING],
    )
    assert edited == K.MessageReceived(
        conversation_id=thread,
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=edit_id,
        sender=sender,
        text="Ordine 10422 mai arrivato!",
        language="it",
        kind=K.MESSAGE_KIND_EDITED,
        sent_at=at(1794820948),
        is_public=True,
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        original_message_id=post,
    )


async def test_two_edits_of_one_post_or_comment_in_one_entry_are_two_events(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Meta batches changes: one entry (one ``time``) can hold two edits of a visitor's post and two of
    a comment. Each edit is its own event; a retry of the delivery, or the same edit sent again in
    another entry with another ``time``, is a duplicate.

    Shape: https://developers.facebook.com/docs/graph-api/webhooks/reference/page/#feed (``feed``:
    from, post_id, comment_id, verb ``edited``, item status/comment, message, created_time)
    """
    run = uuid.uuid4().hex[:12]
    visitor = f"81{int(run[:8], 16):014d}"
    post = f"{PAGE}_{int(run[:10], 16)}"
    comment = f"{int(run[:10], 16)}_{int(run[2:12], 16)}"
    author = {"id": visitor, "name": "Paolo Verdi"}
    post_edits: list[dict[str, object]] = [
        {
            "from": author,
            "post_id": post,
            "verb": "edited",
            "item": "status",
            "created_time": 1794820948,
            "message": "Ordine 10422 mai arrivato!",
            "published": 1,
        },
        {
            "from": author,
            "post_id": post,
            "verb": "edited",
            "item": "status",
            "created_time": 1794820949,
            "message": "Ordine 10422 mai arrivato! Aiuto!",
            "published": 1,
        },
    ]
    comment_edits: list[dict[str, object]] = [
        {
            "from": author,
            "post_id": post,
            "comment_id": comment,
            "parent_id": post,
            "verb": "edited",
            "item": "comment",
            "created_time": 1794820944,
            "message": text,
        }
        for text in ("Dove è il mio pacco?", "Dov'è il mio pacco?")
    ]

    def delivery(time: int, *values: dict[str, object]) -> bytes:
        changes = [{"field": "feed", "value": value} for value in values]
        return json.dumps(
            {"object": "page", "entry": [{"id": PAGE, "time": time, "changes": changes}]}
        ).encode()

    body = delivery(1794820950, *post_edits, *comment_edits)
    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["duplicates"], answer["dead_lettered"]) == (4, 0, 0)
    assert len(set(answer["event_ids"])) == 4
    found = {m.channel_message_id: m for m in await messages(broker, answer["event_ids"])}

    def edit(item: str, value: dict[str, object], topic: C.SupportTopic) -> K.MessageReceived:
        """The whole event of one edit: public, in the post's thread with its author, at the
        change's created_time; Italian, about the order (the post) or the parcel (the comment)."""
        created = value["created_time"]
        assert isinstance(created, int)
        return K.MessageReceived(
            conversation_id=conversation_id("shop-a", "facebook", f"post:{post}:{visitor}"),
            channel=C.CHANNEL_FACEBOOK,
            channel_message_id=feed_edit_id(item, value),
            sender=C.Sender(id=visitor, display_name="Paolo Verdi"),
            text=str(value["message"]),
            language="it",
            kind=K.MESSAGE_KIND_EDITED,
            sent_at=at(created),
            is_public=True,
            topic_hints=[topic],
            original_message_id=item,
        )

    expected = [edit(post, v, C.SUPPORT_TOPIC_ORDERS) for v in post_edits] + [
        edit(comment, v, C.SUPPORT_TOPIC_SHIPPING) for v in comment_edits
    ]
    assert found == {e.channel_message_id: e for e in expected}
    assert answer["event_ids"] == [
        event_ids.from_channel_message("shop-a", "facebook", e.channel_message_id) for e in expected
    ]

    retried_status, retried = await deliver(ingest, "meta", body)
    assert retried_status == 200, retried
    assert (retried["accepted"], retried["duplicates"]) == (0, 4)
    assert retried["event_ids"] == answer["event_ids"]
    again_status, again = await deliver(ingest, "meta", delivery(1794821010, post_edits[1]))
    assert again_status == 200, again
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert again["event_ids"] == answer["event_ids"][1:2]
