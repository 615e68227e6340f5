"""Meta's documented payloads through ingest: chat plugin guests, WhatsApp locations, Instagram mentions.

Meta's payloads as the platforms document them (issue #19), posted to the real ingest process: a
Messenger chat plugin's guest, WhatsApp locations and contact cards, Instagram mentions and quick
replies. The events are read back from the broker and each is compared whole with the
MessageReceived it must be, so a field not expected or missing fails.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import pytest

from pronto import event_ids, topics
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import (
    PAGE,
    PHONE_NUMBER_ID,
    at,
    at_ms,
    deliver,
    messages,
    records,
    whatsapp,
)

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


async def test_a_messenger_chat_plugin_guest_is_identified_by_its_user_ref(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A guest of the website chat plugin has no PSID: Messenger names them by ``sender.user_ref``.
    It becomes the sender id, marked as a user_ref, and keys the conversation.

    Shape: https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messages
    (sender.user_ref: "only available for webhook event from the chat plugin"; the same field in
    https://developers.facebook.com/docs/messenger-platform/reference/webhook-events/messaging_postbacks)
    """
    run = uuid.uuid4().hex[:12]
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": PAGE,
                    "time": 1794821650123,
                    "messaging": [
                        {
                            "sender": {"user_ref": f"guest-{run}"},
                            "recipient": {"id": PAGE},
                            "timestamp": 1794821649876,
                            "message": {"mid": f"m_{run}", "text": "Hallo, wo ist meine Bestellung?"},
                        }
                    ],
                }
            ],
        }
    ).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (1, 0)
    (published,) = await records(broker, topics.INBOUND.name, answer["event_ids"])
    assert published.id == event_ids.from_channel_message("shop-a", "facebook", f"m_{run}")
    # The whole event: the guest is known by the user_ref only (no name, no PSID); Messenger names
    # no language, the text is German, "Bestellung" an order; the message's own time, to the ms.
    assert published.payload == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "facebook", f"{PAGE}:user_ref:guest-{run}"),
        channel=C.CHANNEL_FACEBOOK,
        channel_message_id=f"m_{run}",
        sender=C.Sender(id=f"user_ref:guest-{run}"),
        text="Hallo, wo ist meine Bestellung?",
        language="de",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at_ms(1794821649876),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
    )


async def test_whatsapp_locations_keep_their_coordinates_and_contacts_become_text_and_a_vcard(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """One batch: a text, a contacts message (``contacts`` is a list of cards), a current location
    (coordinates only) and a named place. All four are published; the locations carry a ``geo:``
    link as Messenger's, Telegram's and Viber's do; the card is readable text plus a vCard.

    Shapes: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/contacts
    and https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/location/
    """
    run = uuid.uuid4().hex[:12]

    def item(kind: str, **content: Any) -> dict[str, Any]:
        return {
            "from": "393471234567",
            "id": f"wamid.{run}-{kind}",
            "timestamp": "1794821700",
            "type": kind,
        } | (content)

    card = {
        "addresses": [
            {
                "city": "Milano",
                "country": "Italia",
                "country_code": "IT",
                "state": "MI",
                "street": "Via Roma 1",
                "type": "WORK",
                "zip": "20121",
            }
        ],
        "birthday": "1985-04-12",
        "emails": [{"email": "marco.bianchi@example.it", "type": "WORK"}],
        "name": {
            "first_name": "Marco",
            "formatted_name": "Marco Bianchi",
            "last_name": "Bianchi",
            "middle_name": "",
            "prefix": "",
            "suffix": "",
        },
        "org": {"company": "Bianchi, Rossi & Co", "department": "Acquisti", "title": "Buyer"},
        "phones": [{"phone": "+39 347 765 4321", "wa_id": "393477654321", "type": "CELL"}],
        "urls": [{"url": "https://bianchi.example.it", "type": "WORK"}],
    }
    body = json.dumps(
        whatsapp(
            run,
            item("text", text={"body": "Vi giro il contatto del nostro ufficio acquisti"}),
            item("contacts", contacts=[card]),
            item("location", location={"latitude": 45.464211, "longitude": 9.191383}),
            item(
                "location",
                id=f"wamid.{run}-place",
                location={
                    "address": "Piazza del Duomo, 20122 Milano",
                    "latitude": 45.4641,
                    "longitude": 9.1919,
                    "name": "Duomo di Milano",
                    "url": "https://www.duomomilano.it",
                },
            ),
        )
    ).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (4, 0)
    events = {m.channel_message_id: m for m in await messages(broker, answer["event_ids"])}
    conversation = conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:393471234567")
    sender = C.Sender(id="393471234567", phone="+393471234567", display_name="Giulia Rossi")
    # The vCard 4.0 (RFC 6350) of the card, every field the payload gives, in a data: URL (RFC 2397).
    vcard = "\r\n".join(
        [
            "BEGIN:VCARD",
            "VERSION:4.0",
            "FN:Marco Bianchi",
            "N:Bianchi;Marco;;;",
            "ORG:Bianchi\\, Rossi & Co;Acquisti",
            "TITLE:Buyer",
            "TEL;TYPE=cell;X-WA-ID=393477654321:+39 347 765 4321",
            "EMAIL;TYPE=work:marco.bianchi@example.it",
            "ADR;TYPE=work:;;Via Roma 1;Milano;MI;20121;Italia",
            "URL;TYPE=work:https://bianchi.example.it",
            "BDAY:1985-04-12",
            "END:VCARD",
            "",
        ]
    )
    # The whole events. Only the text message holds words the customer wrote: it is Italian and
    # names no topic ("acquisti" is the office's name). The card's line (Pronto's "Contact:" and the
    # card's name, company, phone and address) and the place's name and address are not the
    # customer's words, so they tell no language (README, "Language": the detector sees the
    # customer's words only; a tourist sharing the Duomo's location is not writing Italian).
    assert events == {
        f"wamid.{run}-text": K.MessageReceived(
            conversation_id=conversation,
            channel=C.CHANNEL_WHATSAPP,
            channel_message_id=f"wamid.{run}-text",
            sender=sender,
            text="Vi giro il contatto del nostro ufficio acquisti",
            language="it",
            kind=K.MESSAGE_KIND_TEXT,
            sent_at=at(1794821700),
        ),
        f"wamid.{run}-contacts": K.MessageReceived(
            conversation_id=conversation,
            channel=C.CHANNEL_WHATSAPP,
            channel_message_id=f"wamid.{run}-contacts",
            sender=sender,
            text="Contact: Marco Bianchi, Bianchi, Rossi & Co, +39 347 765 4321, marco.bianchi@example.it",
            attachments=[
                C.Attachment(
                    filename="Marco Bianchi.vcf",
                    content_type="text/vcard",
                    size_bytes=len(vcard.encode()),
                    url="data:text/vcard;charset=utf-8," + quote(vcard, safe=""),
                )
            ],
            kind=K.MESSAGE_KIND_FILE,
            sent_at=at(1794821700),
        ),
        f"wamid.{run}-location": K.MessageReceived(
            conversation_id=conversation,
            channel=C.CHANNEL_WHATSAPP,
            channel_message_id=f"wamid.{run}-location",
            sender=sender,
            attachments=[C.Attachment(content_type="location", url="geo:45.464211,9.191383")],
            kind=K.MESSAGE_KIND_LOCATION,
            sent_at=at(1794821700),
        ),
        f"wamid.{run}-place": K.MessageReceived(
            conversation_id=conversation,
            channel=C.CHANNEL_WHATSAPP,
            channel_message_id=f"wamid.{run}-place",
            sender=sender,
            text="Duomo di Milano, Piazza del Duomo, 20122 Milano, https://www.duomomilano.it",
            attachments=[
                C.Attachment(filename="Duomo di Milano", content_type="location", url="geo:45.4641,9.1919")
            ],
            kind=K.MESSAGE_KIND_LOCATION,
            sent_at=at(1794821700),
        ),
    }


IG_ACCOUNT = "17841457392018465"


async def test_instagram_mentions_in_comments_and_captions_are_public_messages(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """``field: mentions`` names the comment (or, for a caption, only the media) where the shop's
    account was @mentioned, and nothing else: each becomes a public message saying where it is.

    Shape: https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram (mentions:
    ``comment_id``, ``media_id``) and https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/mentions
    """
    run = str(uuid.uuid4().int)[:17]
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": IG_ACCOUNT,
                    "time": 1794821800,
                    "changes": [
                        {"field": "mentions", "value": {"comment_id": f"1{run}", "media_id": f"2{run}"}},
                        {"field": "mentions", "value": {"media_id": f"3{run}"}},
                    ],
                }
            ],
        }
    ).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (2, 0)
    found = {m.channel_message_id: m for m in await messages(broker, answer["event_ids"])}
    # The whole events. The text is Pronto's, in parentheses, not the author's (who is not in the
    # payload): it tells no language and no topic (README, "Language"; notices.py).
    assert found == {
        f"mention:comment:1{run}": K.MessageReceived(
            conversation_id=conversation_id("shop-a", "instagram", f"mention:comment:1{run}"),
            channel=C.CHANNEL_INSTAGRAM,
            channel_message_id=f"mention:comment:1{run}",
            sender=C.Sender(id=f"mention:comment:1{run}"),
            text=f"(@mention in comment 1{run} on Instagram media 2{run})",
            kind=K.MESSAGE_KIND_TEXT,
            sent_at=at(1794821800),
            is_public=True,
        ),
        f"mention:media:3{run}": K.MessageReceived(
            conversation_id=conversation_id("shop-a", "instagram", f"mention:media:3{run}"),
            channel=C.CHANNEL_INSTAGRAM,
            channel_message_id=f"mention:media:3{run}",
            sender=C.Sender(id=f"mention:media:3{run}"),
            text=f"(@mention in the caption of Instagram media 3{run})",
            kind=K.MESSAGE_KIND_TEXT,
            sent_at=at(1794821800),
            is_public=True,
        ),
    }


async def test_an_instagram_quick_reply_without_text_is_its_payload(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A tapped quick reply arrives as a message with ``quick_reply.payload``; Instagram's e-mail
    quick reply has no text, only the payload (the customer's address). It is the message's text.

    Shape: https://developers.facebook.com/documentation/business-messaging/instagram-messaging/features/quick-replies.md
    and https://developers.facebook.com/documentation/instagram-platform/instagram-api-with-instagram-login/messaging-api/quick-replies
    """
    run = uuid.uuid4().hex[:12]
    body = json.dumps(
        {
            "object": "instagram",
            "entry": [
                {
                    "id": IG_ACCOUNT,
                    "time": 1794821860123,
                    "messaging": [
                        {
                            "sender": {"id": f"ig-{run}"},
                            "recipient": {"id": IG_ACCOUNT},
                            "timestamp": 1794821859876,
                            "message": {
                                "mid": f"aWdf{run}",
                                "quick_reply": {"payload": "anna.nowak@example.pl"},
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The whole event. An e-mail address is no language's words (README, "Language": the detector
    # does not see them), so no language; no topic either.
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "instagram", f"{IG_ACCOUNT}:ig-{run}"),
        channel=C.CHANNEL_INSTAGRAM,
        channel_message_id=f"aWdf{run}",
        sender=C.Sender(id=f"ig-{run}"),
        text="anna.nowak@example.pl",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at_ms(1794821859876),
    )
