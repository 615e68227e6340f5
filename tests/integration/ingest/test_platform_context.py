"""What a message means in its conversation, as the platforms send it (issue #19, "Gaps a shop
notices"): the message it replies to, the message an edit or deletion changes, and the ad, post or
link that brought the customer. Posted to the real ingest process; the events are read back from
the broker and checked field by field.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid

import pytest

from pronto import event_ids
from pronto.broker.embedded import EmbeddedBroker
from pronto.services import IngestService
from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.test_platform_payloads import (
    PAGE,
    PHONE_NUMBER_ID,
    at,
    deliver,
    messages,
    whatsapp,
)

pytestmark = pytest.mark.integration

K = events_pb2
C = common_pb2


# ---------------------------------------------------------------- WhatsApp


async def test_whatsapp_replies_name_their_message_and_an_ad_click_its_ad(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A reply to the shop's message (``context.id``) and a first message sent from a
    Click-to-WhatsApp ad (``referral``), in one batch.

    Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/text
    ("context" of a reply, "referral" of a message sent via a Click to WhatsApp ad)
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39347{int(run[:6], 16):07d}"
    reply = {
        "context": {"from": "390287654321", "id": f"wamid.{run}-ours"},
        "from": customer,
        "id": f"wamid.{run}-reply",
        "timestamp": "1794821647",
        "text": {"body": "Sì, il numero d'ordine è 10422"},
        "type": "text",
    }
    from_ad = {
        "from": customer,
        "id": f"wamid.{run}-ad",
        "timestamp": "1794821600",
        "text": {"body": "Ciao! Vorrei sapere di più su questa offerta."},
        "type": "text",
        "referral": {
            "source_url": "https://fb.me/3cr4Wqqkv",
            "source_id": "120226305854810726",
            "source_type": "ad",
            "body": "Saldi d'inverno: -30% su tutti i cappotti",
            "headline": "Scrivici su WhatsApp",
            "media_type": "image",
            "image_url": "https://scontent.xx.fbcdn.net/v/t45.1600-4/cappotti.jpg",
            "ctwa_clid": f"Aff-{run}",
            "welcome_message": {"text": "Ciao! Come possiamo aiutarti?"},
        },
    }
    body = json.dumps(whatsapp(run, from_ad, reply, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (2, 0)
    first, second = await messages(broker, answer["event_ids"])
    conversation = conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}")
    sender = C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi")
    assert (first.conversation_id, second.conversation_id) == (conversation, conversation)
    assert (first.sender, second.sender) == (sender, sender)
    assert first.channel_message_id == f"wamid.{run}-ad"
    assert first.text == "Ciao! Vorrei sapere di più su questa offerta."
    assert first.kind == K.MESSAGE_KIND_TEXT
    assert first.sent_at == at(1794821600)
    assert first.reply_to_message_id == ""
    assert first.referral == C.Referral(
        source="ad",
        ad_id="120226305854810726",
        url="https://fb.me/3cr4Wqqkv",
        headline="Scrivici su WhatsApp",
        body="Saldi d'inverno: -30% su tutti i cappotti",
        media_url="https://scontent.xx.fbcdn.net/v/t45.1600-4/cappotti.jpg",
        click_id=f"Aff-{run}",
    )
    assert second.channel_message_id == f"wamid.{run}-reply"
    assert second.text == "Sì, il numero d'ordine è 10422"
    assert second.kind == K.MESSAGE_KIND_TEXT
    assert second.sent_at == at(1794821647)
    assert second.reply_to_message_id == f"wamid.{run}-ours"
    assert not second.HasField("referral")
    assert second.original_message_id == ""


async def test_whatsapp_edits_and_deletions_name_the_original_message(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """An edit (its new content, a reply itself) and a revoke, each naming the message it changes.

    Shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/edit
    and https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/revoke
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39348{int(run[:6], 16):07d}"
    edit = {
        "from": customer,
        "id": f"wamid.{run}-edit",
        "timestamp": "1794821700",
        "type": "edit",
        "edit": {
            "original_message_id": f"wamid.{run}-original",
            "message": {
                "context": {"id": f"wamid.{run}-ours"},
                "type": "text",
                "text": {"body": "Il numero d'ordine è 10423, non 10422"},
            },
        },
    }
    revoke = {
        "from": customer,
        "id": f"wamid.{run}-revoke",
        "timestamp": "1794821760",
        "type": "revoke",
        "revoke": {"original_message_id": f"wamid.{run}-other"},
    }
    body = json.dumps(whatsapp(run, edit, revoke, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (2, 0)
    edited, revoked = await messages(broker, answer["event_ids"])
    assert edited.channel_message_id == f"wamid.{run}-edit"
    assert edited.kind == K.MESSAGE_KIND_EDITED
    assert edited.text == "Il numero d'ordine è 10423, non 10422"
    assert edited.original_message_id == f"wamid.{run}-original"
    assert edited.reply_to_message_id == f"wamid.{run}-ours"
    assert edited.sent_at == at(1794821700)
    assert revoked.channel_message_id == f"wamid.{run}-revoke"
    assert revoked.kind == K.MESSAGE_KIND_DELETED
    assert revoked.text == ""
    assert revoked.original_message_id == f"wamid.{run}-other"
    assert revoked.reply_to_message_id == ""
    assert revoked.sent_at == at(1794821760)


# ---------------------------------------------------------------- Messenger and Instagram


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
    for message in (started, reply, back):
        assert message.conversation_id == conversation
        assert message.channel == C.CHANNEL_FACEBOOK
        assert message.sender == C.Sender(id=psid)
    assert started.channel_message_id == f"m_{run}-started"
    assert started.text == "Inizia"
    assert started.kind == K.MESSAGE_KIND_TEXT
    assert started.referral == C.Referral(source="SHORTLINK", type="OPEN_THREAD", ref="natale-2026")
    assert started.sent_at == at(1794821640)

    assert reply.channel_message_id == f"m_{run}-reply"
    assert reply.text == "Sì, è ancora disponibile in taglia M?"
    assert reply.kind == K.MESSAGE_KIND_TEXT
    assert reply.reply_to_message_id == f"m_{run}-ours"
    assert not reply.HasField("referral")

    assert back.channel_message_id == f"referral:{psid}:1794821700000"
    assert back.kind == K.MESSAGE_KIND_AUTOMATIC
    assert back.text == "(came back to the conversation through the ad Cappotti in saldo, ref cappotti)"
    assert back.referral == C.Referral(
        source="ADS",
        type="OPEN_THREAD",
        ref="cappotti",
        ad_id="6045246247433",
        post_id="109876543210987_4567",
        headline="Cappotti in saldo",
        media_url="https://scontent.xx.fbcdn.net/v/cappotto.jpg",
    )
    assert list(back.notes) == ["a referral notice from the platform: the customer wrote nothing"]
    assert back.sent_at == at(1794821700)
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
    assert edited.channel_message_id == f"m_{run}-a#edit1"
    assert edited.kind == K.MESSAGE_KIND_EDITED
    assert edited.text == "Taglia L, non M"
    assert edited.original_message_id == f"m_{run}-a"
    assert deleted.channel_message_id == f"m_{run}-b#deleted"
    assert deleted.kind == K.MESSAGE_KIND_DELETED
    assert deleted.original_message_id == f"m_{run}-b"


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
    assert to_message.channel == C.CHANNEL_INSTAGRAM
    assert to_message.reply_to_message_id == f"aWdf{run}-ours"
    assert to_story.reply_to_message_id == f"story:story-{run}"
    assert to_story.text == "Bellissimo! C'è in blu?"
