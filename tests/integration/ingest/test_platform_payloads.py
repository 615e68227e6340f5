"""Payloads as the platforms document them (issue #19), posted to the real ingest process; the events
are read back from the broker and checked field by field: each is compared whole with the
MessageReceived (or WebhookPartDeadLettered) it must be, so a field not expected or missing fails.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.request
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from prometheus_client.parser import text_string_to_metric_families

from pronto import envelope, event_ids, topics
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels import email as mail
from services.ingest.channels.identity import conversation_id
from tests.plugins.ingest import CHANNEL_SECRETS
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


def at_ms(milliseconds: int) -> Timestamp:
    """A platform's time in milliseconds (Messenger's ``timestamp``, X's), to the millisecond."""
    stamp = Timestamp()
    stamp.FromMilliseconds(milliseconds)
    return stamp


def without_received_at(
    letter: events_pb2.WebhookPartDeadLettered, since: float
) -> events_pb2.WebhookPartDeadLettered:
    """A copy of the dead letter without ``received_at``, the one field that cannot be expected: it
    is ingest's clock when the request came, checked here to lie between ``since`` (taken before
    the request was sent) and now."""
    assert since - 1 <= letter.received_at.ToNanoseconds() / 1e9 <= time.time() + 1, letter.received_at
    copy = events_pb2.WebhookPartDeadLettered()
    copy.CopyFrom(letter)
    copy.ClearField("received_at")
    return copy


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

    Both are counted under the channel they belong to, ``whatsapp``, not under Meta's route: the
    dead letter next to the accepted text, none under ``channel="meta"``; the retry's two parts are
    counted as deduplicated.

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
    labels = {"whatsapp": {"channel": "whatsapp"}, "meta": {"channel": "meta"}}
    before = {
        (name, route): counted(ingest, f"pronto_events_{name}_total", **labels[route], **extra)
        for name, extra in (("accepted", {}), ("rejected", {"reason": "dead_lettered"}), ("deduplicated", {}))
        for route in labels
    }

    def added(name: str, route: str) -> float:
        extra = {"reason": "dead_lettered"} if name == "rejected" else {}
        return counted(ingest, f"pronto_events_{name}_total", **labels[route], **extra) - before[name, route]

    since = time.time()
    status, answer = await deliver(ingest, "meta", body)
    assert status == 200, answer
    assert (answer["accepted"], answer["duplicates"], answer["dead_lettered"]) == (1, 0, 1)
    assert (added("accepted", "whatsapp"), added("rejected", "whatsapp")) == (1, 1)
    assert (added("accepted", "meta"), added("rejected", "meta")) == (0, 0)
    retried_status, retried = await deliver(ingest, "meta", body)
    assert retried_status == 200, retried
    assert (retried["accepted"], retried["duplicates"], retried["dead_lettered"]) == (0, 1, 1)
    assert retried["event_ids"] == answer["event_ids"]
    assert (added("accepted", "whatsapp"), added("rejected", "whatsapp")) == (1, 1)
    assert (added("deduplicated", "whatsapp"), added("deduplicated", "meta")) == (2, 0)

    (published,) = await records(broker, topics.INBOUND.name, answer["event_ids"])
    assert published.id == event_ids.from_channel_message("shop-a", "whatsapp", f"wamid.{run}-text")
    assert published.tenant == "shop-a"
    # The whole event: WhatsApp names no language, the text is Italian; "ordine" is an order.
    assert published.payload == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:393471234567"),
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-text",
        sender=C.Sender(id="393471234567", phone="+393471234567", display_name="Giulia Rossi"),
        text="Buongiorno, il mio ordine non è ancora arrivato",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821647),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
    )

    path = "body.entry[0].changes[0].value.messages[1]"
    (dead,) = await records(broker, topics.DEADLETTER.name, [dead_letter_id("meta", body, path)])
    assert dead.tenant == "shop-a"
    letter = dead.payload
    assert isinstance(letter, K.WebhookPartDeadLettered)
    # The whole record; body: the raw payload, as it came and as it was signed.
    assert without_received_at(letter, since) == K.WebhookPartDeadLettered(
        channel=C.CHANNEL_WHATSAPP,
        route="meta",
        path=path,
        reason=f"{path}.timestamp must be an integer, got 'yesterday'",
        body=body,
        content_type="application/json",
    )


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

    since = time.time()
    status, answer = await deliver(ingest, route, raw)

    assert status == 200, answer
    assert (answer["accepted"], answer["event_ids"], answer["dead_lettered"]) == (0, [], 1)
    (dead,) = await records(broker, topics.DEADLETTER.name, [dead_letter_id(route, raw, "body")])
    assert dead.tenant == "shop-a"
    letter = dead.payload
    assert isinstance(letter, K.WebhookPartDeadLettered)
    assert without_received_at(letter, since) == K.WebhookPartDeadLettered(
        channel=channel,  # type: ignore[arg-type]
        route=route,
        path="body",
        reason=reason,
        body=raw,
        content_type="application/json",
    )


X_ACCOUNT = "1587342901136441344"


def counted(ingest: IngestService, name: str, **labels: str) -> float:
    """The value of ingest's counter ``name`` with these labels, 0 when it was never counted."""
    with urllib.request.urlopen(f"{ingest.http_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    wanted = {"service": "ingest", **labels}
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and s.labels == wanted
    )


async def test_an_x_delivery_keeps_the_direct_message_it_can_read_and_dead_letters_the_other(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Two direct messages in one Account Activity delivery, the second without its
    ``message_create.sender_id``: the first is published once, the second is dead-lettered with the
    body as it came, the answer is 200 (X would otherwise retry both and then drop them), and both
    are counted. A retry of the delivery writes nothing new.

    Shape: https://developer.x.com/en/docs/x-api/enterprise/account-activity-api/guides/account-activity-data-objects
    (for_user_id, direct_message_events, users) and
    https://developer.x.com/en/docs/direct-messages/sending-and-receiving/guides/message-create-object
    (type message_create, id, created_timestamp, message_create.target.recipient_id, sender_id,
    message_data.text and entities)
    """
    run = uuid.uuid4().hex[:12]
    customer = str(1_322_081_944_190_853_123 + int(run[:8], 16))
    readable_id, broken_id = (str(2_122_273_670_143_280_441 + int(run[:8], 16) * 2 + i) for i in range(2))
    readable = {
        "type": "message_create",
        "id": readable_id,
        "created_timestamp": "1794824447557",
        "message_create": {
            "target": {"recipient_id": X_ACCOUNT},
            "sender_id": customer,
            "source_app_id": "268278",
            "message_data": {
                "text": "Hello, my parcel never arrived and the tracking page has not changed for a week.",
                "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
            },
        },
    }
    create = readable["message_create"]
    assert isinstance(create, dict)
    broken = {
        **readable,
        "id": broken_id,
        "message_create": {k: v for k, v in create.items() if k != "sender_id"},
    }
    body = json.dumps(
        {
            "for_user_id": X_ACCOUNT,
            "direct_message_events": [readable, broken],
            "users": {
                customer: {
                    "id": customer,
                    "created_timestamp": "1604412455108",
                    "name": "Sarah O'Connor",
                    "screen_name": "sarahoc_dublin",
                    "protected": False,
                    "verified": False,
                },
                X_ACCOUNT: {
                    "id": X_ACCOUNT,
                    "created_timestamp": "1667215502114",
                    "name": "Pronto Shop Help",
                    "screen_name": "prontoshop_help",
                    "protected": False,
                    "verified": False,
                },
            },
        }
    ).encode()
    accepted_before = counted(ingest, "pronto_events_accepted_total", channel="x")
    dead_before = counted(ingest, "pronto_events_rejected_total", channel="x", reason="dead_lettered")

    since = time.time()
    status, answer = await deliver(ingest, "x", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["duplicates"], answer["dead_lettered"]) == (1, 0, 1)
    assert counted(ingest, "pronto_events_accepted_total", channel="x") - accepted_before == 1
    assert (
        counted(ingest, "pronto_events_rejected_total", channel="x", reason="dead_lettered") - dead_before
        == 1
    )
    retried_status, retried = await deliver(ingest, "x", body)
    assert retried_status == 200, retried
    assert (retried["accepted"], retried["duplicates"], retried["dead_lettered"]) == (0, 1, 1)
    assert retried["event_ids"] == answer["event_ids"]

    (published,) = await records(broker, topics.INBOUND.name, answer["event_ids"])
    assert published.id == event_ids.from_channel_message("shop-a", "x", readable_id)
    assert published.tenant == "shop-a"
    # The whole event: the sender's name from ``users``, a direct message (not public), English,
    # a parcel and its tracking are shipping; created_timestamp to the millisecond.
    assert published.payload == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "x", f"dm:{customer}"),
        channel=C.CHANNEL_X,
        channel_message_id=readable_id,
        sender=C.Sender(id=customer, display_name="Sarah O'Connor"),
        text="Hello, my parcel never arrived and the tracking page has not changed for a week.",
        language="en",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at_ms(1794824447557),
        topic_hints=[C.SUPPORT_TOPIC_SHIPPING],
    )

    path = "body.direct_message_events[1]"
    (dead,) = await records(broker, topics.DEADLETTER.name, [dead_letter_id("x", body, path)])
    assert dead.tenant == "shop-a"
    letter = dead.payload
    assert isinstance(letter, K.WebhookPartDeadLettered)
    # The whole record; body: the raw payload, as it came and as it was signed.
    assert without_received_at(letter, since) == K.WebhookPartDeadLettered(
        channel=C.CHANNEL_X,
        route="x",
        path=path,
        reason=f"{path}.message_create.sender_id is required",
        body=body,
        content_type="application/json",
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
    # The whole event: Polish, a parcel ("paczka") is shipping, the Date header's time. An e-mail's
    # In-Reply-To is its thread (the conversation), not a reply_to_message_id; this one has none.
    assert message == K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "jan.kowalski@example.pl", f"<{run}@mail.example.pl>", None, None
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=f"<{run}@mail.example.pl>",
        sender=C.Sender(
            id="jan.kowalski@example.pl", display_name="Jan Kowalski", email="jan.kowalski@example.pl"
        ),
        subject="Paczka",
        text="Dzień dobry, gdzie jest moja paczka? \ufffd\ufffd",
        language="pl",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794817200),
        topic_hints=[C.SUPPORT_TOPIC_SHIPPING],
        notes=[
            "the text's charset 'x-no-such-charset' is unknown: it was read as UTF-8, "
            "undecodable bytes replaced with U+FFFD"
        ],
    )


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
    # The whole event: Italian; changing ("cambiare") a size ("taglia") is an exchange about a product.
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "web_chat", f"s-{run}"),
        channel=C.CHANNEL_WEB_CHAT,
        channel_message_id=f"s-{run}:m-1",
        sender=C.Sender(id=f"v-{run}", display_name="Giulia Rossi", tier=C.CUSTOMER_TIER_GOLD),
        text="Ciao, vorrei cambiare la taglia della maglietta \ufffd",
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794820860),
        topic_hints=[C.SUPPORT_TOPIC_RETURNS, C.SUPPORT_TOPIC_PRODUCT],
        notes=[
            "the payload had lone UTF-16 surrogates (text cut in the middle of a character): "
            "each is replaced with U+FFFD"
        ],
    )


# ---------------------------------------------------------------- 6. Mailgun multipart, SendGrid Parse


def form_data(*parts: tuple[str, bytes, str | None, str | None]) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578): (name, bytes, filename or None, Content-Type or None)."""
    boundary = f"----pronto{uuid.uuid4().hex}"
    body = b""
    for name, data, filename, content_type in parts:
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        head += f"Content-Type: {content_type}\r\n" if content_type else ""
        body += head.encode() + b"\r\n" + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def fields(pairs: dict[str, str]) -> list[tuple[str, bytes, str | None, str | None]]:
    return [(name, value.encode(), None, None) for name, value in pairs.items()]


def mailgun_signature(run: str) -> dict[str, str]:
    """timestamp, token (50 characters) and signature, as Mailgun signs them now."""
    timestamp, token = str(int(time.time())), (run * 5)[:50]
    key = CHANNEL_SECRETS["mailgun_signing_key"]
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


PDF = b"%PDF-1.4\n" + bytes(range(256)) * 6 + b"\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(255, -1, -1)) * 3 + b"\xff\xd9"


async def test_a_mailgun_forward_with_attachments_is_multipart_and_accepted_with_them(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Mailgun sends multipart/form-data when the message has attachments (the files
    ``attachment-1`` .. ``attachment-N``, counted by ``attachment-count``); it was a 401 "timestamp,
    token and signature are required". The signature fields are read from the multipart body, the
    files become the message's attachments.

    Shape: https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/receive-http
    ("Receiving Messages via HTTP through a forward() action"), signature:
    https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
    """
    run = uuid.uuid4().hex[:12]
    own_id = f"<trinity-{run}-1794823360877@3c-app-webde-bs52>"
    in_reply_to = "<20261116101544.3c7d9e0f1a2b4c58@mg.prontoshop.example>"
    references = f"<20261113094512.{run}@mg.prontoshop.example> {in_reply_to}"
    headers = [
        ("X-Mailgun-Incoming", "Yes"),
        ("X-Envelope-From", "<jonas.becker@web.de>"),
        ("Mime-Version", "1.0"),
        ("Message-Id", own_id),
        ("From", "Jonas Becker <jonas.becker@web.de>"),
        ("To", '"Pronto Support" <support@mg.prontoshop.example>'),
        ("Subject", "Aw: Ihre Bestellung DE-30982"),
        ("Content-Type", 'multipart/mixed; boundary="abmob-3f8a1c2e"'),
        ("Date", "Mon, 16 Nov 2026 11:22:40 +0100"),
        ("In-Reply-To", in_reply_to),
        ("References", references),
    ]
    text = "Hallo,\n\nanbei der Lieferschein und ein Foto vom beschädigten Karton."
    body, content_type = form_data(
        *fields(
            {
                "recipient": "support@mg.prontoshop.example",
                "sender": "jonas.becker@web.de",
                "from": "Jonas Becker <jonas.becker@web.de>",
                "subject": "Aw: Ihre Bestellung DE-30982",
                "body-plain": f"{text}\n\nViele Grüße\nJonas Becker\n",
                "stripped-text": text,
                "stripped-signature": "Viele Grüße\nJonas Becker",
                "body-html": "<html><body><div>Hallo,</div></body></html>",
                "stripped-html": "<html><body><div>Hallo,</div></body></html>",
                "attachment-count": "2",
                "message-headers": json.dumps(headers),
                "content-id-map": "{}",
                **mailgun_signature(run),
                # forward() posts every header again as a field of its own.
                **dict(headers),
            }
        ),
        ("attachment-1", PDF, "Lieferschein DE-30982.pdf", "application/pdf"),
        ("attachment-2", JPEG, "karton.jpg", "image/jpeg"),
    )
    path = "/webhooks/shop-a/email/mailgun"

    status, answer = await post(ingest.http_url, path, body, {"Content-Type": content_type})

    assert status == 200, answer
    assert answer["accepted"] == 1
    (published,) = await records(broker, topics.INBOUND.name, answer["event_ids"])
    assert published.id == event_ids.from_channel_message("shop-a", "email", own_id)
    # The whole event: the thread from In-Reply-To and References (the conversation, not a
    # reply_to_message_id), the text without the signature (``stripped-text``), the files as
    # metadata (their content stays with Mailgun's post), German, an order ("Bestellung") and a
    # damaged ("beschädigten") box, the Date header's time.
    assert published.payload == K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "jonas.becker@web.de", own_id, in_reply_to, references
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(id="jonas.becker@web.de", display_name="Jonas Becker", email="jonas.becker@web.de"),
        subject="Aw: Ihre Bestellung DE-30982",
        text=text,
        attachments=[
            C.Attachment(
                filename="Lieferschein DE-30982.pdf", content_type="application/pdf", size_bytes=len(PDF)
            ),
            C.Attachment(filename="karton.jpg", content_type="image/jpeg", size_bytes=len(JPEG)),
        ],
        language="de",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794824560),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_COMPLAINT],
    )


async def test_a_mailgun_store_notification_names_its_message_only_in_message_headers(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A route's store(notify=...) posts no ``Message-Id`` field: the id is in ``message-headers``
    (it was a 422 "Message-Id is required"); the attachments stay with Mailgun, described by
    ``attachments`` (JSON: url, content-type, name, size), multipart/form-data as Mailgun posts it
    when there are some.

    Shape: https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/storing-and-recieveing-messages
    ("Storing and Retrieving Messages"), signature:
    https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
    """
    run = uuid.uuid4().hex[:12]
    own_id = f"<CAF{run}=kx2Q@mail.gmail.com>"
    storage = f"https://storage-europe-west1.api.mailgun.net/v3/domains/mg.prontoshop.example/messages/{run}"
    headers = [
        ["Message-Id", own_id],
        ["From", "Giulia Bianchi <giulia.bianchi87@gmail.com>"],
        ["To", "assistenza@mg.prontoshop.example"],
        ["Subject", "Reso ordine IT-48213"],
        ["Date", "Mon, 16 Nov 2026 10:40:02 +0100"],
        ["Content-Language", "it"],
    ]
    attachments = [
        {
            "url": f"{storage}/attachments/0",
            "content-type": "image/png",
            "name": "etichetta.png",
            "size": 48213,
        }
    ]
    body, content_type = form_data(
        *fields(
            {
                "domain": "mg.prontoshop.example",
                "recipient": "assistenza@mg.prontoshop.example",
                "sender": "giulia.bianchi87@gmail.com",
                "from": "Giulia Bianchi <giulia.bianchi87@gmail.com>",
                "subject": "Reso ordine IT-48213",
                "body-plain": "Buongiorno, allego l'etichetta del reso. Quando passa il corriere?\n",
                "stripped-text": "Buongiorno, allego l'etichetta del reso. Quando passa il corriere?",
                "stripped-signature": "",
                "body-html": "<div>Buongiorno, allego l'etichetta del reso.</div>",
                "stripped-html": "<div>Buongiorno, allego l'etichetta del reso.</div>",
                "attachments": json.dumps(attachments),
                "message-url": storage,
                "message-headers": json.dumps(headers),
                "content-id-map": "{}",
                **mailgun_signature(run),
            }
        )
    )

    status, answer = await post(
        ingest.http_url, "/webhooks/shop-a/email/mailgun", body, {"Content-Type": content_type}
    )

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    # The whole event: the id, sender, subject and time from ``message-headers``, the attachment
    # where Mailgun stored it, Italian as Content-Language declares and the text reads (so no
    # note), an order ("ordine"), its return ("reso") and the courier ("corriere").
    assert message == K.MessageReceived(
        conversation_id=mail.thread_conversation("shop-a", "giulia.bianchi87@gmail.com", own_id, None, None),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(
            id="giulia.bianchi87@gmail.com",
            display_name="Giulia Bianchi",
            email="giulia.bianchi87@gmail.com",
        ),
        subject="Reso ordine IT-48213",
        text="Buongiorno, allego l'etichetta del reso. Quando passa il corriere?",
        attachments=[
            C.Attachment(
                filename="etichetta.png",
                content_type="image/png",
                size_bytes=48213,
                url=f"{storage}/attachments/0",
            )
        ],
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794822002),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING, C.SUPPORT_TOPIC_RETURNS],
    )


def sendgrid_parse(
    run: str, *, header_block: str, envelope_from: str | None, text: bytes
) -> tuple[bytes, str]:
    """SendGrid's Inbound Parse post (default settings, not raw): multipart/form-data, the text in
    the charset ``charsets`` names, one attachment described by ``attachment-info``."""
    return form_data(
        *fields(
            {
                "headers": header_block,
                "dkim": "{@gmail.com : pass}",
                "to": "Assistenza Pronto Shop <assistenza@parse.prontoshop.example>",
                "from": "Giulia Bianchi <giulia.bianchi87@gmail.com>",
                "subject": "Re: Ordine IT-48213 consegnato ma non ricevuto",
                "sender_ip": "209.85.128.41",
                "spam_report": "Spam detection software has NOT identified this incoming email as spam.\n",
                "envelope": json.dumps(
                    {"to": ["assistenza@parse.prontoshop.example"], "from": envelope_from}
                ),
                "attachments": "1",
                "spam_score": "0.011",
                "attachment-info": json.dumps(
                    {
                        "attachment1": {
                            "filename": "ricevuta_corriere.pdf",
                            "name": "ricevuta_corriere.pdf",
                            "type": "application/pdf",
                        }
                    }
                ),
                "charsets": json.dumps(
                    {
                        "to": "UTF-8",
                        "html": "UTF-8",
                        "subject": "UTF-8",
                        "from": "UTF-8",
                        "text": "iso-8859-1",
                    }
                ),
                "SPF": "pass",
            }
        ),
        ("text", text, None, None),
        ("html", '<div dir="ltr">Il numero di tracking è 1Z999AA10123456784.</div>'.encode(), None, None),
        ("attachment1", PDF, "ricevuta_corriere.pdf", "application/pdf"),
    )


def sendgrid_headers(run: str, *extra: str) -> str:
    return (
        "\n".join(
            [
                "Received: by mx0047p1mdw1.sendgrid.net with SMTP id 9Vw3Rk2aQe "
                "Mon, 16 Nov 2026 09:14:09 +0000 (UTC)",
                "MIME-Version: 1.0",
                "From: Giulia Bianchi <giulia.bianchi87@gmail.com>",
                "Date: Mon, 16 Nov 2026 10:37:52 +0100",
                "References: <CAJx7Vq2mN8kR4tYp0sW3bZ1hL9cF6dG5eA2uX7iO0nQ+4vMk3w@mail.gmail.com>",
                "In-Reply-To: <CAJx7Vq2mN8kR4tYp0sW3bZ1hL9cF6dG5eA2uX7iO0nQ+4vMk3w@mail.gmail.com>",
                f"Message-ID: <CAJx7Vq0{run}@mail.gmail.com>",
                "Subject: Re: Ordine IT-48213 consegnato ma non ricevuto",
                "To: Assistenza Pronto Shop <assistenza@parse.prontoshop.example>",
                'Content-Type: multipart/mixed; boundary="0000000000004e7b1f05f2c1a9d3"',
                *extra,
            ]
        )
        + "\n"
    )


def basic(token: str) -> str:
    return "Basic " + base64.b64encode(f"pronto:{token}".encode()).decode()


async def test_sendgrid_inbound_parse_has_a_route_and_reads_its_charsets_headers_and_attachments(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """SendGrid's Inbound Parse had no route (404). It posts multipart/form-data: threading headers only
    in ``headers``, each text field in the charset ``charsets`` names (here ISO-8859-1), the files
    ``attachment1``..N described by ``attachment-info``. It signs nothing by default: its URL carries
    the tenant's e-mail token as basic-auth credentials, as Pronto takes Postmark's; without them, 401.

    Shape: https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
    ("Default Parameters"), https://twilio.com/docs/sendgrid/for-developers/parsing-email/inbound-email;
    security: https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/securing-your-parse-webhooks
    """
    run = uuid.uuid4().hex[:12]
    own_id = f"<CAJx7Vq0{run}@mail.gmail.com>"
    root = "<CAJx7Vq2mN8kR4tYp0sW3bZ1hL9cF6dG5eA2uX7iO0nQ+4vMk3w@mail.gmail.com>"
    text = "Aggiungo una cosa: il numero di tracking è 1Z999AA10123456784. La portineria riapre lunedì."
    body, content_type = sendgrid_parse(
        run,
        header_block=sendgrid_headers(run),
        envelope_from="giulia.bianchi87@gmail.com",
        text=(text + "\n\nGiulia\n").encode("iso-8859-1"),
    )
    path = "/webhooks/shop-a/email/sendgrid"

    refused = await post(ingest.http_url, path, body, {"Content-Type": content_type})
    wrong = await post(
        ingest.http_url, path, body, {"Content-Type": content_type, "Authorization": basic("no")}
    )
    status, answer = await post(
        ingest.http_url,
        path,
        body,
        {"Content-Type": content_type, "Authorization": basic(CHANNEL_SECRETS["email_token"])},
    )

    assert (refused[0], refused[1]["error"]) == (401, "unauthenticated")
    assert (wrong[0], wrong[1]["error"]) == (401, "unauthenticated")
    assert status == 200, answer
    (published,) = await records(broker, topics.INBOUND.name, answer["event_ids"])
    assert published.id == event_ids.from_channel_message("shop-a", "email", own_id)
    # The whole event: the thread from ``headers`` (References and In-Reply-To name the same root),
    # the ISO-8859-1 text decoded, the PDF as metadata, Italian, an order ("Ordine") and its
    # delivery ("consegnato", "tracking"), the Date header's time.
    assert published.payload == K.MessageReceived(
        conversation_id=mail.thread_conversation("shop-a", "giulia.bianchi87@gmail.com", own_id, root, root),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(
            id="giulia.bianchi87@gmail.com",
            display_name="Giulia Bianchi",
            email="giulia.bianchi87@gmail.com",
        ),
        subject="Re: Ordine IT-48213 consegnato ma non ricevuto",
        text=text + "\n\nGiulia",
        attachments=[
            C.Attachment(
                filename="ricevuta_corriere.pdf", content_type="application/pdf", size_bytes=len(PDF)
            )
        ],
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821872),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING],
    )


# ---------------------------------------------------------------- 7. automatic e-mails: recorded only


def raw_email(
    run: str, *headers: str, content_type: str = "text/plain; charset=utf-8", body: str = ""
) -> bytes:
    lines = [
        "From: Anna Nowak <anna.nowak@example.pl>",
        "To: obsluga@shop.example",
        "Subject: Automatyczna odpowiedź: Re: Zamówienie PL-7781",
        "Date: Mon, 16 Nov 2026 09:30:00 +0100",
        f"Message-ID: <{run}@mail.example.pl>",
        "In-Reply-To: <n-1@pronto.notify>",
        "MIME-Version: 1.0",
        f"Content-Type: {content_type}",
        *headers,
        "",
        body or "Jestem na urlopie do 30 listopada. W pilnych sprawach proszę pisać do biuro@example.pl.",
    ]
    return "\r\n".join(lines).encode() + b"\r\n"


DSN = (
    "--dsn-boundary\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    "This is the mail system at host mx.example.pl. Your message could not be delivered.\r\n"
    "--dsn-boundary\r\n"
    "Content-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.pl\r\n\r\n"
    "Final-Recipient: rfc822; anna.nowak@example.pl\r\n"
    "Action: failed\r\n"
    "Status: 5.1.1\r\n\r\n"
    "--dsn-boundary\r\n"
    "Content-Type: text/rfc822-headers\r\n\r\n"
    "From: obsluga@shop.example\r\nSubject: Re: Zamówienie PL-7781\r\n\r\n"
    "--dsn-boundary--"
)


@pytest.mark.parametrize(
    ("headers", "content_type", "body", "reason"),
    [
        # RFC 3834 section 5: https://www.rfc-editor.org/rfc/rfc3834#section-5
        (["Auto-Submitted: auto-replied"], None, "", "Auto-Submitted: auto-replied"),
        (["Auto-Submitted: auto-generated"], None, "", "Auto-Submitted: auto-generated"),
        # Auto-responders older than RFC 3834 (vacation, procmail, cPanel):
        # https://www.rfc-editor.org/rfc/rfc3834#section-3.1.8 ("Precedence"), and their own headers
        (["X-Autoreply: yes"], None, "", "X-Autoreply: yes"),
        (["X-Autorespond: Jestem na urlopie"], None, "", "X-Autorespond: Jestem na urlopie"),
        (["Precedence: bulk"], None, "", "Precedence: bulk"),
        (["Precedence: auto_reply"], None, "", "Precedence: auto_reply"),
        (["Precedence: list"], None, "", "Precedence: list"),
        # Exchange: https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxcmail/ced68690-498a-4567-9d14-5c01f974d8b1
        (["X-Auto-Response-Suppress: All"], None, "", "X-Auto-Response-Suppress: All"),
        # A null return path: https://www.rfc-editor.org/rfc/rfc5321#section-4.5.5
        (["Return-Path: <>"], None, "", "Return-Path: <> (a null return path)"),
        # A delivery-status report: https://www.rfc-editor.org/rfc/rfc3464 and rfc6522
        (
            [],
            'multipart/report; report-type=delivery-status; boundary="dsn-boundary"',
            DSN,
            "Content-Type: multipart/report; report-type=delivery-status "
            "(a delivery-status or disposition report)",
        ),
    ],
)
async def test_an_automatic_email_is_recorded_as_automatic_never_as_the_customer_writing(
    ingest: IngestService,
    broker: EmbeddedBroker,
    headers: list[str],
    content_type: str | None,
    body: str,
    reason: str,
) -> None:
    """An out-of-office reply, an auto-responder's answer, a bulk or list mail or a bounce is written
    by a machine: it is kept (kind AUTOMATIC, the note saying what gave it away), and routing, SLA and
    notify never open a conversation for it or acknowledge it (tests/e2e/test_auto_replies.py).

    Shape: an RFC 5322 message (https://www.rfc-editor.org/rfc/rfc5322) with the header each case
    cites, posted raw as the README's /email route takes it.
    """
    run = uuid.uuid4().hex[:12]
    raw = raw_email(run, *headers, content_type=content_type or "text/plain; charset=utf-8", body=body)

    status, answer = await deliver(ingest, "email", raw)

    assert status == 200, answer
    (message,) = await messages(broker, answer["event_ids"])
    own_id = f"<{run}@mail.example.pl>"
    # The whole event, each case's own fields merged into what all cases share.
    expected = K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "anna.nowak@example.pl", own_id, "<n-1@pronto.notify>", None
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(id="anna.nowak@example.pl", display_name="Anna Nowak", email="anna.nowak@example.pl"),
        subject="Automatyczna odpowiedź: Re: Zamówienie PL-7781",
        kind=K.MESSAGE_KIND_AUTOMATIC,
        sent_at=at(1794817800),
        notes=[mail.automatic_note(reason)],
    )
    if not body:
        # The out-of-office text is Polish; the subject names an order ("Zamówienie").
        expected.MergeFrom(
            K.MessageReceived(
                text="Jestem na urlopie do 30 listopada. "
                "W pilnych sprawach proszę pisać do biuro@example.pl.",
                language="pl",
                topic_hints=[C.SUPPORT_TOPIC_ORDERS],
            )
        )
    else:
        # The report's human-readable part is the text (English), an order in the subject, a
        # failed delivery. Both subject and text are a machine's words here, Polish and English:
        # the language is what detection reads in the two together (README, "Language"), Polish;
        # no documented rule prefers the body. The report's other parts are attachments, each its
        # size as sent: the part's body up to the CRLF that belongs to the next boundary (RFC 2046
        # section 5.1.1), 116 and 62 octets.
        status_part = (
            b"Reporting-MTA: dns; mx.example.pl\r\n\r\n"
            b"Final-Recipient: rfc822; anna.nowak@example.pl\r\n"
            b"Action: failed\r\nStatus: 5.1.1\r\n"
        )
        headers_part = "From: obsluga@shop.example\r\nSubject: Re: Zamówienie PL-7781\r\n".encode()
        expected.MergeFrom(
            K.MessageReceived(
                text="This is the mail system at host mx.example.pl. Your message could not be delivered.",
                attachments=[
                    C.Attachment(content_type="message/delivery-status", size_bytes=len(status_part)),
                    C.Attachment(content_type="text/rfc822-headers", size_bytes=len(headers_part)),
                ],
                language="pl",
                topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING],
            )
        )
    assert message == expected


async def test_automatic_emails_through_mailgun_and_sendgrid_are_recorded_as_automatic(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """The same recognition on the providers' forms: Mailgun's ``message-headers`` carrying
    ``Auto-Submitted``, SendGrid's ``envelope`` with a null sender (a bounce's MAIL FROM:<>).

    Shapes: https://documentation.mailgun.com/docs/mailgun/user-manual/receive-forward-store/receive-http,
    https://www.twilio.com/docs/sendgrid/for-developers/parsing-email/setting-up-the-inbound-parse-webhook
    ("Default Parameters": envelope.from is the return path); RFC 3834 section 5.
    """
    run = uuid.uuid4().hex[:12]
    own_id = f"<ooo-{run}@web.de>"
    headers = [
        ["Message-Id", own_id],
        ["From", "Jonas Becker <jonas.becker@web.de>"],
        ["Subject", "Abwesenheitsnotiz: Re: Ihre Bestellung DE-30982"],
        ["Date", "Mon, 16 Nov 2026 11:22:40 +0100"],
        ["Auto-Submitted", "auto-replied"],
        ["In-Reply-To", "<n-2@pronto.notify>"],
    ]
    mailgun = urlencode(
        {
            "recipient": "support@mg.prontoshop.example",
            "sender": "jonas.becker@web.de",
            "from": "Jonas Becker <jonas.becker@web.de>",
            "subject": "Abwesenheitsnotiz: Re: Ihre Bestellung DE-30982",
            "body-plain": "Ich bin bis zum 30. November nicht im Büro.",
            "message-headers": json.dumps(headers),
            **mailgun_signature(run),
        }
    ).encode()
    sendgrid, content_type = sendgrid_parse(
        run, header_block=sendgrid_headers(run), envelope_from=None, text=b"Delivery failed.\n"
    )

    from_mailgun = await post(
        ingest.http_url,
        "/webhooks/shop-a/email/mailgun",
        mailgun,
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    from_sendgrid = await post(
        ingest.http_url,
        "/webhooks/shop-a/email/sendgrid",
        sendgrid,
        {"Content-Type": content_type, "Authorization": f"Bearer {CHANNEL_SECRETS['email_token']}"},
    )

    assert from_mailgun[0] == 200, from_mailgun
    assert from_sendgrid[0] == 200, from_sendgrid
    by_mailgun, by_sendgrid = await messages(
        broker, from_mailgun[1]["event_ids"] + from_sendgrid[1]["event_ids"]
    )
    if by_mailgun.channel_message_id != own_id:
        by_mailgun, by_sendgrid = by_sendgrid, by_mailgun
    # The whole events. Mailgun's: German, an order in the subject, the Date header's time.
    assert by_mailgun == K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "jonas.becker@web.de", own_id, "<n-2@pronto.notify>", None
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=own_id,
        sender=C.Sender(id="jonas.becker@web.de", display_name="Jonas Becker", email="jonas.becker@web.de"),
        subject="Abwesenheitsnotiz: Re: Ihre Bestellung DE-30982",
        text="Ich bin bis zum 30. November nicht im Büro.",
        language="de",
        kind=K.MESSAGE_KIND_AUTOMATIC,
        sent_at=at(1794824560),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        notes=[mail.automatic_note("Auto-Submitted: auto-replied")],
    )
    # SendGrid's: the message its ``headers`` describe (Giulia's thread, subject, Date and PDF),
    # only its envelope's sender is null. Its words are mostly the Italian subject ("Delivery
    # failed." is two): Italian; an order and its delivery.
    sendgrid_id = f"<CAJx7Vq0{run}@mail.gmail.com>"
    root = "<CAJx7Vq2mN8kR4tYp0sW3bZ1hL9cF6dG5eA2uX7iO0nQ+4vMk3w@mail.gmail.com>"
    assert by_sendgrid == K.MessageReceived(
        conversation_id=mail.thread_conversation(
            "shop-a", "giulia.bianchi87@gmail.com", sendgrid_id, root, root
        ),
        channel=C.CHANNEL_EMAIL,
        channel_message_id=sendgrid_id,
        sender=C.Sender(
            id="giulia.bianchi87@gmail.com",
            display_name="Giulia Bianchi",
            email="giulia.bianchi87@gmail.com",
        ),
        subject="Re: Ordine IT-48213 consegnato ma non ricevuto",
        text="Delivery failed.",
        attachments=[
            C.Attachment(
                filename="ricevuta_corriere.pdf", content_type="application/pdf", size_bytes=len(PDF)
            )
        ],
        language="it",
        kind=K.MESSAGE_KIND_AUTOMATIC,
        sent_at=at(1794821872),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_SHIPPING],
        notes=[mail.automatic_note("a null return path (MAIL FROM:<>)")],
    )
