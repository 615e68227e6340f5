"""Payloads as the platforms document them (issue #19), posted to the real ingest process; the events
are read back from the broker and checked field by field.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any
from urllib.parse import unquote

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from pronto import envelope, event_ids, topics
from pronto.broker.embedded import EmbeddedBroker
from pronto.kafka.reader import header, read_records
from pronto.services import IngestService
from pronto.v1 import common_pb2, events_pb2
from services.ingest.channels import email as mail
from services.ingest.channels.identity import conversation_id
from tests.support.webhooks import post, signed_headers

pytestmark = pytest.mark.integration

K = events_pb2
C = common_pb2
WABA = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
PAGE = "109876543210987"


async def deliver(ingest: IngestService, route: str, body: bytes) -> tuple[int, Any]:
    path = f"/webhooks/shop-a/{route}"
    return await post(ingest.http_url, path, body, signed_headers(route, body, ingest.http_url + path))


async def records(broker: EmbeddedBroker, topic: str, ids: list[str]) -> list[envelope.Envelope]:
    """The records with these event ids, read until a second after the last one showed up (so that a
    duplicate would show too)."""
    wanted = set(ids)
    found = await read_records(
        broker.bootstrap_servers,
        topic,
        lambda r: header(r, "ce_id") in wanted,
        expect=len(ids),
        timeout=15,
        settle=1.0,
    )
    return [envelope.decode(r.headers, r.value) for r in found]


async def messages(broker: EmbeddedBroker, ids: list[str]) -> list[events_pb2.MessageReceived]:
    found = []
    for event in await records(broker, topics.INBOUND.name, ids):
        assert isinstance(event.payload, events_pb2.MessageReceived)
        assert event.tenant == "shop-a"
        found.append(event.payload)
    return found


def at(seconds: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromSeconds(seconds)
    return stamp


def whatsapp(run: str, *messages: dict[str, Any], wa_id: str = "393471234567") -> dict[str, Any]:
    """A messages webhook as WhatsApp Cloud API sends it: one entry, one change, these messages."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA,
                "changes": [
                    {
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "390287654321",
                                "phone_number_id": PHONE_NUMBER_ID,
                            },
                            "contacts": [{"profile": {"name": "Giulia Rossi"}, "wa_id": wa_id}],
                            "messages": list(messages),
                        },
                        "field": "messages",
                    }
                ],
            }
        ],
    }


def dead_letter_id(route: str, body: bytes, path: str) -> str:
    return event_ids.from_channel_message(
        "shop-a", route, f"deadletter:{hashlib.sha256(body).hexdigest()}:{path}"
    )


# ---------------------------------------------------------------- 1. a batch is not refused whole


async def test_a_whatsapp_batch_keeps_what_it_can_read_and_dead_letters_the_rest(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A text and a message Pronto cannot read (its ``timestamp`` is not a number) in one batch: the
    text is published once, the other is dead-lettered with the body as it came, and the answer is 200,
    so that Meta does not retry the text forever. A retry of the delivery writes nothing new.

    Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/text
    """
    run = uuid.uuid4().hex[:12]
    text = {
        "from": "393471234567",
        "id": f"wamid.{run}-text",
        "timestamp": "1794821647",
        "text": {"body": "Buongiorno, il mio ordine non è ancora arrivato"},
        "type": "text",
    }
    broken = {**text, "id": f"wamid.{run}-broken", "timestamp": "yesterday"}
    body = json.dumps(whatsapp(run, text, broken)).encode()

    status, answer = await deliver(ingest, "meta", body)
    assert status == 200, answer
    assert (answer["accepted"], answer["duplicates"], answer["dead_lettered"]) == (1, 0, 1)
    retried_status, retried = await deliver(ingest, "meta", body)
    assert retried_status == 200, retried
    assert (retried["accepted"], retried["duplicates"], retried["dead_lettered"]) == (0, 1, 1)
    assert retried["event_ids"] == answer["event_ids"]

    (published,) = await records(broker, topics.INBOUND.name, answer["event_ids"])
    assert published.id == event_ids.from_channel_message("shop-a", "whatsapp", f"wamid.{run}-text")
    assert published.tenant == "shop-a"
    message = published.payload
    assert isinstance(message, K.MessageReceived)
    assert message.conversation_id == conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:393471234567")
    assert message.channel == C.CHANNEL_WHATSAPP
    assert message.channel_message_id == f"wamid.{run}-text"
    assert message.sender == C.Sender(id="393471234567", phone="+393471234567", display_name="Giulia Rossi")
    assert message.text == "Buongiorno, il mio ordine non è ancora arrivato"
    assert list(message.attachments) == []
    assert message.language == "it"
    assert message.kind == K.MESSAGE_KIND_TEXT
    assert message.sent_at == at(1794821647)
    assert not message.is_public
    assert C.SUPPORT_TOPIC_ORDERS in message.topic_hints
    assert message.subject == ""

    path = "body.entry[0].changes[0].value.messages[1]"
    (dead,) = await records(broker, topics.DEADLETTER.name, [dead_letter_id("meta", body, path)])
    assert dead.tenant == "shop-a"
    letter = dead.payload
    assert isinstance(letter, K.WebhookPartDeadLettered)
    assert letter.channel == C.CHANNEL_WHATSAPP
    assert letter.route == "meta"
    assert letter.path == path
    assert letter.reason == f"{path}.timestamp must be an integer, got 'yesterday'"
    assert letter.body == body, "the raw payload, as it came and as it was signed"
    assert letter.content_type == "application/json"
    assert letter.received_at.seconds > 0


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
    message = published.payload
    assert isinstance(message, K.MessageReceived)
    assert message.conversation_id == conversation_id("shop-a", "facebook", f"{PAGE}:user_ref:guest-{run}")
    assert message.channel == C.CHANNEL_FACEBOOK
    assert message.channel_message_id == f"m_{run}"
    assert message.sender == C.Sender(id=f"user_ref:guest-{run}")
    assert message.text == "Hallo, wo ist meine Bestellung?"
    assert message.kind == K.MESSAGE_KIND_TEXT
    assert message.language == "de"
    ms = Timestamp()
    ms.FromMilliseconds(1794821649876)
    assert message.sent_at == ms
    assert not message.is_public


@pytest.mark.parametrize(
    ("route", "channel", "body", "reason"),
    [
        (
            # https://core.telegram.org/bots/api#update (a Message without its required ``chat``)
            "telegram",
            C.CHANNEL_TELEGRAM,
            {
                "update_id": 918273645,
                "message": {
                    "message_id": 4411,
                    "from": {"id": 7261530241, "is_bot": False, "first_name": "Marco"},
                    "date": 1794821650,
                    "text": "RUN",
                },
            },
            "body.message.chat is required",
        ),
        (
            # https://developers.viber.com/docs/api/rest-bot-api/#receive-message-from-user (no ``sender``)
            "viber",
            C.CHANNEL_VIBER,
            {
                "event": "message",
                "timestamp": 1794821650123,
                "chat_hostname": "SN-376_",
                "message_token": 5741311803571721087,
                "message": {"type": "text", "text": "RUN"},
                "silent": False,
            },
            "body.sender is required",
        ),
    ],
    ids=["telegram", "viber"],
)
async def test_an_update_or_event_that_cannot_be_read_is_dead_lettered_not_refused(
    ingest: IngestService, broker: EmbeddedBroker, route: str, channel: int, body: dict[str, Any], reason: str
) -> None:
    """Telegram sends one update a request and Viber one event: the whole of it is the part that is
    dead-lettered, answered 200 so that the platform does not retry it and then drop it. The payload
    pages are cited by case above.
    """
    raw = json.dumps(body).replace("RUN", uuid.uuid4().hex).encode()

    status, answer = await deliver(ingest, route, raw)

    assert status == 200, answer
    assert (answer["accepted"], answer["event_ids"], answer["dead_lettered"]) == (0, [], 1)
    (dead,) = await records(broker, topics.DEADLETTER.name, [dead_letter_id(route, raw, "body")])
    letter = dead.payload
    assert isinstance(letter, K.WebhookPartDeadLettered)
    assert (letter.channel, letter.route, letter.path, letter.reason, letter.body) == (
        channel,
        route,
        "body",
        reason,
        raw,
    )


# ---------------------------------------------------------------- 2. WhatsApp locations and contact cards


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
    assert len(events) == 4
    conversation = conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:393471234567")
    sender = C.Sender(id="393471234567", phone="+393471234567", display_name="Giulia Rossi")
    for message in events.values():
        assert (message.conversation_id, message.channel, message.sender) == (
            conversation,
            C.CHANNEL_WHATSAPP,
            sender,
        )
        assert message.sent_at == at(1794821700)
        assert not message.is_public

    text = events[f"wamid.{run}-text"]
    assert (text.kind, text.text, list(text.attachments)) == (
        K.MESSAGE_KIND_TEXT,
        "Vi giro il contatto del nostro ufficio acquisti",
        [],
    )

    contacts = events[f"wamid.{run}-contacts"]
    assert contacts.kind == K.MESSAGE_KIND_FILE
    assert contacts.text == (
        "Contact: Marco Bianchi, Bianchi, Rossi & Co, +39 347 765 4321, marco.bianchi@example.it"
    )
    (vcard,) = contacts.attachments
    assert (vcard.filename, vcard.content_type) == ("Marco Bianchi.vcf", "text/vcard")
    prefix = "data:text/vcard;charset=utf-8,"
    assert vcard.url.startswith(prefix)
    lines = unquote(vcard.url.removeprefix(prefix)).split("\r\n")
    assert lines == [
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
    assert vcard.size_bytes == len("\r\n".join(lines).encode())

    here = events[f"wamid.{run}-location"]
    assert (here.kind, here.text) == (K.MESSAGE_KIND_LOCATION, "")
    assert list(here.attachments) == [C.Attachment(content_type="location", url="geo:45.464211,9.191383")]

    place = events[f"wamid.{run}-place"]
    assert (place.kind, place.text) == (
        K.MESSAGE_KIND_LOCATION,
        "Duomo di Milano, Piazza del Duomo, 20122 Milano, https://www.duomomilano.it",
    )
    assert list(place.attachments) == [
        C.Attachment(filename="Duomo di Milano", content_type="location", url="geo:45.4641,9.1919")
    ]


# ---------------------------------------------------------------- 3. Instagram mentions and quick replies

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
    for message in found.values():
        # The enricher guesses a language from the text ingest wrote itself (as for every placeholder
        # text): not the customer's, so not part of what this test pins.
        message.ClearField("language")
        message.ClearField("topic_hints")
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
    message.ClearField("language")  # whatever lingua makes of an e-mail address is not this test's
    sent = Timestamp()
    sent.FromMilliseconds(1794821859876)
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "instagram", f"{IG_ACCOUNT}:ig-{run}"),
        channel=C.CHANNEL_INSTAGRAM,
        channel_message_id=f"aWdf{run}",
        sender=C.Sender(id=f"ig-{run}"),
        text="anna.nowak@example.pl",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=sent,
    )


# ---------------------------------------------------------------- 4. kept, with replacement characters


async def test_an_email_in_an_unknown_charset_is_kept_with_replacement_characters_and_a_note(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A charset Python does not know was a 422: the text is now read as UTF-8, what does not
    decode becomes U+FFFD, and the message notes it.

    Shape: a MIME text/plain part with its charset parameter, https://www.rfc-editor.org/rfc/rfc2046#section-4.1.2
    and https://www.rfc-editor.org/rfc/rfc2045#section-5.1 (posted raw, as the README's /email route takes it)
    """
    run = uuid.uuid4().hex[:12]
    raw = (
        b"From: Jan Kowalski <jan.kowalski@example.pl>\r\n"
        b"To: obsluga@shop.example\r\n"
        b"Subject: Paczka\r\n"
        b"Date: Mon, 16 Nov 2026 09:20:00 +0100\r\n"
        b"Message-ID: <" + run.encode() + b"@mail.example.pl>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b"Dzie\xc5\x84 dobry, gdzie jest moja paczka? \xff\xfe\r\n"
    )

    status, answer = await deliver(ingest, "email", raw)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    assert message.conversation_id == mail.thread_conversation(
        "shop-a", "jan.kowalski@example.pl", f"<{run}@mail.example.pl>", None, None
    )
    assert message.channel == C.CHANNEL_EMAIL
    assert message.channel_message_id == f"<{run}@mail.example.pl>"
    assert message.sender == C.Sender(
        id="jan.kowalski@example.pl", display_name="Jan Kowalski", email="jan.kowalski@example.pl"
    )
    assert message.subject == "Paczka"
    assert message.text == "Dzień dobry, gdzie jest moja paczka? \ufffd\ufffd"
    assert list(message.attachments) == []
    assert message.language == "pl"
    assert message.kind == K.MESSAGE_KIND_TEXT
    assert message.sent_at == at(1794817200)
    assert not message.is_public
    assert list(message.notes) == [
        "the text's charset 'x-no-such-charset' is unknown: it was read as UTF-8, "
        "undecodable bytes replaced with U+FFFD"
    ]


async def test_a_chat_message_cut_mid_emoji_is_kept_with_a_replacement_character_and_a_note(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A widget cutting a text in the middle of an emoji sends half of its UTF-16 surrogate pair,
    escaped (``\\ud83d``): valid JSON text, but no string UTF-8 or protobuf can hold. It was a 422;
    the half is now U+FFFD and the message notes it.

    Shape: the web chat's own JSON (README, "Channel webhooks"; services/ingest/channels/shop.py), and
    https://www.rfc-editor.org/rfc/rfc8259#section-8.2 on unpaired surrogates in JSON strings
    """
    run = uuid.uuid4().hex[:12]
    body = json.dumps(
        {
            "session_id": f"s-{run}",
            "message_id": "m-1",
            "text": "Ciao, vorrei cambiare la taglia della maglietta \ud83d",
            "visitor": {"id": f"v-{run}", "name": "Giulia Rossi", "tier": "gold"},
            "sent_at": "2026-11-16T09:21:00Z",
        }
    ).encode()
    assert b"\\ud83d" in body

    status, answer = await deliver(ingest, "chat", body)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    assert message.conversation_id == conversation_id("shop-a", "web_chat", f"s-{run}")
    assert message.channel == C.CHANNEL_WEB_CHAT
    assert message.channel_message_id == f"s-{run}:m-1"
    assert message.sender == C.Sender(id=f"v-{run}", display_name="Giulia Rossi", tier=C.CUSTOMER_TIER_GOLD)
    assert message.text == "Ciao, vorrei cambiare la taglia della maglietta \ufffd"
    assert message.language == "it"
    assert message.kind == K.MESSAGE_KIND_TEXT
    assert message.sent_at == at(1794820860)
    assert list(message.notes) == [
        "the payload had lone UTF-16 surrogates (text cut in the middle of a character): "
        "each is replaced with U+FFFD"
    ]
