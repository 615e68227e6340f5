"""Messenger and Instagram messages in their conversation: replies, referrals, edits, story replies.

What a message means in its conversation, as Messenger and Instagram send it (issue #19, "Gaps a
shop notices"): the message it replies to, the ad, post or link that brought the customer, the
message an edit or deletion changes, and the story a reply answers.

Posted to the real ingest process; the events are read back from the broker and checked field by
field. Each test names the documentation page its payload follows. Values (ids, names, texts) are
ours; a run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto import event_ids
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import PAGE, at, at_ms, deliver, messages

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


def page_delivery(*messaging: dict[str, object]) -> bytes:
    return json.dumps(
        {"object": "page", "entry": [{"id": PAGE, "time": 1794821650123, "messaging": list(messaging)}]}
    ).encode()


async def test_messenger_replies_and_referrals_are_recorded(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A reply (``reply_to.mid``); Get Started pressed after following an m.me link (the postback's
    ``referral``); a customer with a thread already open coming back through an ad
    (``messaging_referrals``: no message, recorded as the platform's notice, ``AUTOMATIC``).

    Shapes: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages
    ("Reply Message"), https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_postbacks
    and https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_referrals
    ("Ad Referral")
    """
    run = uuid.uuid4().hex[:12]
    psid = f"69{int(run[:8], 16):014d}"
    body = page_delivery(
        {
            "sender": {"id": psid},
            "recipient": {"id": PAGE},
            "timestamp": 1794821640000,
            "postback": {
                "mid": f"m_{run}-started",
                "title": "Inizia",
                "payload": "GET_STARTED",
                "referral": {"ref": "natale-2026", "source": "SHORTLINK", "type": "OPEN_THREAD"},
            },
        },
        {
            "sender": {"id": psid},
            "recipient": {"id": PAGE},
            "timestamp": 1794821649876,
            "message": {
                "mid": f"m_{run}-reply",
                "text": "Sì, è ancora disponibile in taglia M?",
                "reply_to": {"mid": f"m_{run}-ours", "is_self_reply": False},
            },
        },
        {
            "sender": {"id": psid},
            "recipient": {"id": PAGE},
            "timestamp": 1794821700000,
            "referral": {
                "ref": "cappotti",
                "ad_id": "6045246247433",
                "source": "ADS",
                "type": "OPEN_THREAD",
                "ads_context_data": {
                    "ad_title": "Cappotti in saldo",
                    "photo_url": "https://scontent.xx.fbcdn.net/v/cappotto.jpg",
                    "post_id": "109876543210987_4567",
                    "product_id": "10422",
                },
            },
        },
    )

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (3, 0)
    started, reply, back = await messages(broker, answer["event_ids"])
    conversation = conversation_id("shop-a", "facebook", f"{PAGE}:{psid}")
    sender = C.Sender(id=psid)
    # The whole events. The postback's text is the button's title, Italian like the shop's page.
    assert started == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=f"m_{run}-started",
        sender=sender,
        text="Inizia",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821640),
        referral=C.Referral(source="SHORTLINK", type="OPEN_THREAD", ref="natale-2026"),
    )
    assert reply == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=f"m_{run}-reply",
        sender=sender,
        text="Sì, è ancora disponibile in taglia M?",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at_ms(1794821649876),
        topic_hints=[C.SUPPORT_TOPIC_PRODUCT],
        reply_to_message_id=f"m_{run}-ours",
    )
    # The notice's text is Pronto's own English sentence, not the customer's words (they wrote
    # nothing): it says nothing of the customer's language, which stays unknown.
    assert back == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=f"referral:{psid}:1794821700000",
        sender=sender,
        text="(came back to the conversation through the ad Cappotti in saldo, ref cappotti)",
        language="",
        kind=K.MESSAGE_KIND_AUTOMATIC,
        sent_at=at(1794821700),
        notes=["a referral notice from the platform: the customer wrote nothing"],
        referral=C.Referral(
            source="ADS",
            type="OPEN_THREAD",
            ref="cappotti",
            ad_id="6045246247433",
            post_id="109876543210987_4567",
            headline="Cappotti in saldo",
            media_url="https://scontent.xx.fbcdn.net/v/cappotto.jpg",
        ),
    )
    assert answer["event_ids"][2] == event_ids.from_channel_message(
        "shop-a", "facebook", f"referral:{psid}:1794821700000"
    )


async def test_messenger_edits_and_deletions_name_the_original_message(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Shapes: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-edits
    (``message_edit``: mid, text, num_edit) and the messages webhook's ``is_deleted`` (Instagram:
    https://developers.facebook.com/docs/instagram-platform/webhooks/examples, "Message Deleted")
    """
    run = uuid.uuid4().hex[:12]
    psid = f"68{int(run[:8], 16):014d}"
    body = page_delivery(
        {
            "sender": {"id": psid},
            "recipient": {"id": PAGE},
            "timestamp": 1794821760000,
            "message_edit": {"mid": f"m_{run}-a", "text": "Taglia L, non M", "num_edit": 1},
        },
        {
            "sender": {"id": psid},
            "recipient": {"id": PAGE},
            "timestamp": 1794821770000,
            "message": {"mid": f"m_{run}-b", "is_deleted": True},
        },
    )

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    edited, deleted = await messages(broker, answer["event_ids"])
    conversation = conversation_id("shop-a", "facebook", f"{PAGE}:{psid}")
    # The whole events; a deletion has no text, so no language or topic either.
    assert edited == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=f"m_{run}-a#edit1",
        sender=C.Sender(id=psid),
        text="Taglia L, non M",
        language="it",
        kind=K.MESSAGE_KIND_EDITED,
        sent_at=at(1794821760),
        topic_hints=[C.SUPPORT_TOPIC_PRODUCT],
        original_message_id=f"m_{run}-a",
    )
    assert deleted == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=f"m_{run}-b#deleted",
        sender=C.Sender(id=psid),
        kind=K.MESSAGE_KIND_DELETED,
        sent_at=at(1794821770),
        original_message_id=f"m_{run}-b",
    )


async def test_an_instagram_reply_names_its_message_and_a_story_reply_its_story(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Shape: https://developers.facebook.com/docs/instagram-platform/webhooks/examples ("Message
    with reply_to": ``reply_to.mid``; a story reply: ``reply_to.story`` with its ``url`` and ``id``)
    """
    run = uuid.uuid4().hex[:12]
    account, igsid = "17841400008460056", f"53{int(run[:8], 16):014d}"
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": account,
                    "time": 1794821650123,
                    "messaging": [
                        {
                            "sender": {"id": igsid},
                            "recipient": {"id": account},
                            "timestamp": 1794821649000,
                            "message": {
                                "mid": f"aWdf{run}-1",
                                "text": "Quanto costa?",
                                "reply_to": {"mid": f"aWdf{run}-ours"},
                            },
                        },
                        {
                            "sender": {"id": igsid},
                            "recipient": {"id": account},
                            "timestamp": 1794821659000,
                            "message": {
                                "mid": f"aWdf{run}-2",
                                "text": "Bellissimo! C'è in blu?",
                                "reply_to": {
                                    "story": {
                                        "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
                                        "id": f"story-{run}",
                                    }
                                },
                            },
                        },
                    ],
                }
            ],
        }
    ).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    to_message, to_story = await messages(broker, answer["event_ids"])
    conversation = conversation_id("shop-a", "instagram", f"{account}:{igsid}")
    # The whole events. "Quanto costa?" is two words: too short for the detector to be sure
    # (services/ingest/channels/language.py gives no language rather than a guess).
    assert to_message == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_INSTAGRAM,
        channel_message_id=f"aWdf{run}-1",
        sender=C.Sender(id=igsid),
        text="Quanto costa?",
        language="",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821649),
        reply_to_message_id=f"aWdf{run}-ours",
    )
    # A story reply names the story as ``story:<id>`` (README, "Instagram").
    assert to_story == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_INSTAGRAM,
        channel_message_id=f"aWdf{run}-2",
        sender=C.Sender(id=igsid),
        text="Bellissimo! C'è in blu?",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821659),
        reply_to_message_id=f"story:story-{run}",
    )
