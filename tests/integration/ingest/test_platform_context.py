"""What a message means in its conversation, as the platforms send it (issue #19, "Gaps a shop
notices"): the message it replies to, the message an edit or deletion changes, and the ad, post or
link that brought the customer. Posted to the real ingest process; the events are read back from
the broker and checked field by field.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from pronto import event_ids
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
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


def at_ms(milliseconds: int) -> Timestamp:
    """A platform's time in milliseconds (Messenger's ``timestamp``, Viber's), to the millisecond."""
    stamp = Timestamp()
    stamp.FromMilliseconds(milliseconds)
    return stamp


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
    # The whole events. WhatsApp names no language: it is the text's, Italian. The referral's
    # media_type and welcome_message (the shop's own greeting) have no field in Referral.
    assert first == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-ad",
        sender=sender,
        text="Ciao! Vorrei sapere di più su questa offerta.",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821600),
        referral=C.Referral(
            source="ad",
            ad_id="120226305854810726",
            url="https://fb.me/3cr4Wqqkv",
            headline="Scrivici su WhatsApp",
            body="Saldi d'inverno: -30% su tutti i cappotti",
            media_url="https://scontent.xx.fbcdn.net/v/t45.1600-4/cappotti.jpg",
            click_id=f"Aff-{run}",
        ),
    )
    assert second == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-reply",
        sender=sender,
        text="Sì, il numero d'ordine è 10422",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821647),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        reply_to_message_id=f"wamid.{run}-ours",
    )


async def test_a_whatsapp_product_enquiry_names_its_product_and_a_forward_is_marked(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A message sent with "Message business" from a product of the shop's catalogue
    (``context.referred_product``) and a forwarded one (``context.forwarded``), in one batch.

    Shapes: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#product-enquiry-messages
    and https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/text
    ("context": "forwarded", "frequently_forwarded")
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39348{int(run[:6], 16):07d}"
    enquiry = {
        "from": customer,
        "id": f"wamid.{run}-enquiry",
        "text": {"body": "Avete questo cappotto nella taglia M?"},
        "context": {
            "from": PHONE_NUMBER_ID,
            "id": f"wamid.{run}-catalogue",
            "referred_product": {"catalog_id": "1728903746521", "product_retailer_id": "CAPP-NERO-M"},
        },
        "timestamp": "1794821700",
        "type": "text",
    }
    forward = {
        "context": {"forwarded": True},
        "from": customer,
        "id": f"wamid.{run}-forward",
        "timestamp": "1794821760",
        "text": {"body": "Il tuo pacco è in consegna oggi"},
        "type": "text",
    }
    body = json.dumps(whatsapp(run, enquiry, forward, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (2, 0)
    asked, forwarded = await messages(broker, answer["event_ids"])
    conversation = conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}")
    sender = C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi")
    # The whole events: a size ("taglia") is a product question, a parcel ("pacco") shipping.
    assert asked == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-enquiry",
        sender=sender,
        text="Avete questo cappotto nella taglia M?",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821700),
        topic_hints=[C.SUPPORT_TOPIC_PRODUCT],
        reply_to_message_id=f"wamid.{run}-catalogue",
        referred_product=K.ProductReference(catalog_id="1728903746521", product_retailer_id="CAPP-NERO-M"),
    )
    assert forwarded == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-forward",
        sender=sender,
        text="Il tuo pacco è in consegna oggi",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821760),
        topic_hints=[C.SUPPORT_TOPIC_SHIPPING],
        forwarded=True,
    )


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
    conversation = conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}")
    sender = C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi")
    # The whole events; a revoke has no text, so no language or topic either.
    assert edited == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-edit",
        sender=sender,
        text="Il numero d'ordine è 10423, non 10422",
        language="it",
        kind=K.MESSAGE_KIND_EDITED,
        sent_at=at(1794821700),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        reply_to_message_id=f"wamid.{run}-ours",
        original_message_id=f"wamid.{run}-original",
    )
    assert revoked == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-revoke",
        sender=sender,
        kind=K.MESSAGE_KIND_DELETED,
        sent_at=at(1794821760),
        original_message_id=f"wamid.{run}-other",
    )


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


# ---------------------------------------------------------------- Telegram


def telegram_chat(chat_id: int) -> dict[str, object]:
    return {"id": chat_id, "first_name": "Marta", "last_name": "Nowak", "type": "private"}


def telegram_user(user_id: int) -> dict[str, object]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": "Marta",
        "last_name": "Nowak",
        "username": "marta_n",
        "language_code": "pl",
    }


async def test_a_telegram_reply_and_an_edit_name_their_messages(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A reply to the shop's bot message (``reply_to_message``, itself a whole Message) and an edit
    (``edited_message``, same message_id, with ``edit_date``).

    Shapes: https://core.telegram.org/bots/api#update and https://core.telegram.org/bots/api#message
    (reply_to_message, edit_date)
    """
    run = uuid.uuid4().hex[:12]
    chat = 700_000_000 + int(run[:6], 16)
    bot = {"id": 7_000_000_001, "is_bot": True, "first_name": "Sklep", "username": "sklep_bot"}
    reply = {
        "update_id": 900_000_001,
        "message": {
            "message_id": 58,
            "from": telegram_user(chat),
            "chat": telegram_chat(chat),
            "date": 1794821647,
            "reply_to_message": {
                "message_id": 57,
                "from": bot,
                "chat": telegram_chat(chat),
                "date": 1794821600,
                "text": "Jaki jest numer zamówienia?",
            },
            "text": "Numer zamówienia to 10422",
        },
    }
    edit = {
        "update_id": 900_000_002,
        "edited_message": {
            "message_id": 58,
            "from": telegram_user(chat),
            "chat": telegram_chat(chat),
            "date": 1794821647,
            "edit_date": 1794821700,
            "text": "Numer zamówienia to 10423",
        },
    }

    answers = [await deliver(ingest, "telegram", json.dumps(u).encode()) for u in (reply, edit)]

    assert [status for status, _ in answers] == [200, 200], answers
    replied, edited = await messages(broker, [a["event_ids"][0] for _, a in answers])
    conversation = conversation_id("shop-a", "telegram", str(chat))
    sender = C.Sender(id=str(chat), display_name="Marta Nowak")
    # The whole events: Polish texts about the order ("zamówienia"); the edit's time is edit_date.
    assert replied == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:58",
        sender=sender,
        text="Numer zamówienia to 10422",
        language="pl",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821647),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        reply_to_message_id=f"{chat}:57",
    )
    assert edited == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:58#edit1794821700",
        sender=sender,
        text="Numer zamówienia to 10423",
        language="pl",
        kind=K.MESSAGE_KIND_EDITED,
        sent_at=at(1794821700),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        original_message_id=f"{chat}:58",
    )


async def test_a_telegram_forward_is_marked_as_forwarded(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A message the customer forwarded from a channel (``forward_origin``, Bot API 7.0), and one
    from a client that still sends the older ``forward_from``/``forward_date``.

    Shapes: https://core.telegram.org/bots/api#message (forward_origin) and
    https://core.telegram.org/bots/api#messageoriginchannel
    """
    run = uuid.uuid4().hex[:12]
    chat = 710_000_000 + int(run[:6], 16)
    origin = {
        "type": "channel",
        "date": 1794821000,
        "chat": {"id": -1001234567890, "title": "Poczta Polska", "type": "channel"},
        "message_id": 4410,
    }
    updates = [
        {
            "update_id": 900_000_011,
            "message": {
                "message_id": 61,
                "from": telegram_user(chat),
                "chat": telegram_chat(chat),
                "date": 1794821647,
                "forward_origin": origin,
                "text": "Przesyłka zatrzymana w sortowni",
            },
        },
        {
            "update_id": 900_000_012,
            "message": {
                "message_id": 62,
                "from": telegram_user(chat),
                "chat": telegram_chat(chat),
                "date": 1794821650,
                "forward_from": {"id": 555, "is_bot": False, "first_name": "Kurier"},
                "forward_date": 1794821100,
                "text": "Będę jutro",
            },
        },
        {
            "update_id": 900_000_013,
            "message": {
                "message_id": 63,
                "from": telegram_user(chat),
                "chat": telegram_chat(chat),
                "date": 1794821655,
                "text": "Co mam zrobić?",
            },
        },
    ]

    answers = [await deliver(ingest, "telegram", json.dumps(u).encode()) for u in updates]

    assert [status for status, _ in answers] == [200, 200, 200], answers
    events = await messages(broker, [a["event_ids"][0] for _, a in answers])

    def sent(
        number: int, date: int, text: str, forwarded: bool, *topics: C.SupportTopic
    ) -> K.MessageReceived:
        return K.MessageReceived(
            conversation_id=conversation_id("shop-a", "telegram", str(chat)),
            channel=C.CHANNEL_TELEGRAM,
            channel_message_id=f"{chat}:{number}",
            sender=C.Sender(id=str(chat), display_name="Marta Nowak"),
            text=text,
            language="pl",
            kind=K.MESSAGE_KIND_TEXT,
            sent_at=at(date),
            topic_hints=topics,
            forwarded=forwarded,
        )

    # The whole events; the time is the customer's message's (date), not the forwarded original's.
    assert events == [
        sent(61, 1794821647, "Przesyłka zatrzymana w sortowni", True, C.SUPPORT_TOPIC_SHIPPING),
        sent(62, 1794821650, "Będę jutro", True),
        sent(63, 1794821655, "Co mam zrobić?", False),
    ]


async def test_a_telegram_button_press_is_recorded_and_answered(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A ``callback_query``: the customer pressed an inline keyboard button under the shop's
    message. It is recorded as the customer's answer (the button's label, replying to the message
    that carried it), and the webhook's response is the ``answerCallbackQuery`` call, so the
    button stops spinning; a retry of the update is answered again and written once.

    Shapes: https://core.telegram.org/bots/api#callbackquery, https://core.telegram.org/bots/api#inlinekeyboardbutton;
    the answer: https://core.telegram.org/bots/api#making-requests-when-getting-updates and
    https://core.telegram.org/bots/api#answercallbackquery
    """
    run = uuid.uuid4().hex[:12]
    chat = 710_000_000 + int(run[:6], 16)
    query_id = f"{int(run, 16)}"
    update = {
        "update_id": 900_000_003,
        "callback_query": {
            "id": query_id,
            "from": telegram_user(chat),
            "message": {
                "message_id": 61,
                "from": {"id": 7_000_000_001, "is_bot": True, "first_name": "Sklep", "username": "sklep_bot"},
                "chat": telegram_chat(chat),
                "date": 1794821600,
                "text": "Czy problem został rozwiązany?",
                "reply_markup": {
                    "inline_keyboard": [
                        [
                            {"text": "Tak, dziękuję", "callback_data": "resolved:yes"},
                            {"text": "Nie, nadal czekam", "callback_data": "resolved:no"},
                        ]
                    ]
                },
            },
            "chat_instance": "-8344565178901234567",
            "data": "resolved:no",
        },
    }
    body = json.dumps(update).encode()

    first = await deliver(ingest, "telegram", body)
    again = await deliver(ingest, "telegram", body)

    call = {"method": "answerCallbackQuery", "callback_query_id": query_id}
    assert first == (200, call)
    assert again == (200, call)
    event_id = event_ids.from_channel_message("shop-a", "telegram", f"callback:{query_id}")
    (pressed,) = await messages(broker, [event_id])
    # The whole event. No sent_at: a CallbackQuery has no date, and the carrying message's date is
    # when the shop's bot wrote, not when the customer pressed.
    assert pressed == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "telegram", str(chat)),
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"callback:{query_id}",
        sender=C.Sender(id=str(chat), display_name="Marta Nowak"),
        text="Nie, nadal czekam",
        language="pl",
        kind=K.MESSAGE_KIND_TEXT,
        reply_to_message_id=f"{chat}:61",
    )


# ---------------------------------------------------------------- Viber


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


# ---------------------------------------------------------------- X media


X_ACCOUNT = "1587342901136441344"


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


# ---------------------------------------------------------------- Facebook visitor posts


def feed_edit_id(item: str, value: dict[str, object]) -> str:
    """The channel message id of an edit of a feed item: the item's id, ``#edit:`` and a digest of
    what the edit says, its created_time, text, link and media (services/ingest/channels/meta.py,
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
