"""What the #19 trial still found lost or wrong with payloads shaped like the platforms' documentation:
Telegram contacts, venues, coordinate-less locations and polls, WhatsApp orders and Flow replies, X
retweets. Posted signed to the real ingest process; the events are read back from the broker and
checked whole.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import pytest

from pronto import topics
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.test_platform_payloads import (
    PHONE_NUMBER_ID,
    at,
    dead_letter_id,
    deliver,
    messages,
    records,
    whatsapp,
)

pytestmark = pytest.mark.integration

K = events_pb2
C = common_pb2


def vcard_url(card: str) -> str:
    return "data:text/vcard;charset=utf-8," + quote(card, safe="")


# ---------------------------------------------------------------- Telegram


def telegram_update(run: str, chat: int, number: int, **content: Any) -> dict[str, Any]:
    """An update with a private chat's message, as https://core.telegram.org/bots/api#update and
    https://core.telegram.org/bots/api#message describe them."""
    person = {"first_name": "Marta", "last_name": "Nowak"}
    return {
        "update_id": 910_000_000 + int(run[:6], 16) + number,
        "message": {
            "message_id": number,
            "from": {"id": chat, "is_bot": False, **person, "username": "marta_n", "language_code": "pl"},
            "chat": {"id": chat, **person, "type": "private"},
            "date": 1794821600 + number,
            **content,
        },
    }


async def telegram(ingest: IngestService, *updates: dict[str, Any]) -> list[dict[str, Any]]:
    """Each update posted on its own, as Telegram sends them; the answers."""
    answers = []
    for update in updates:
        status, answer = await deliver(ingest, "telegram", json.dumps(update).encode())
        assert status == 200, answer
        answers.append(answer)
    return answers


async def test_a_telegram_contact_becomes_text_and_a_vcard(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A contact shared from the address book (with the ``vcard`` Telegram's clients attach: kept as
    the customer sent it) and one typed in (no ``vcard``: one is built from the fields), read as
    WhatsApp's contacts are: "Contact: name, phone" and a ``text/vcard`` attachment.

    Shape: https://core.telegram.org/bots/api#contact (phone_number, first_name, last_name,
    user_id, vcard) in https://core.telegram.org/bots/api#message (contact)
    """
    run = uuid.uuid4().hex[:12]
    chat = 710_000_000 + int(run[:6], 16)
    shared_card = "BEGIN:VCARD\nVERSION:3.0\nFN:Anna Kowalska\nTEL;TYPE=CELL:+48 601 234 567\nEND:VCARD"
    shared = {
        "phone_number": "+48601234567",
        "first_name": "Anna",
        "last_name": "Kowalska",
        "user_id": 5_123_456_789,
        "vcard": shared_card,
    }
    typed = {"phone_number": "48221234567", "first_name": "Biuro"}

    answers = await telegram(
        ingest, telegram_update(run, chat, 1, contact=shared), telegram_update(run, chat, 2, contact=typed)
    )

    assert [(a["accepted"], a["dead_lettered"]) for a in answers] == [(1, 0), (1, 0)]
    first, second = await messages(broker, [a["event_ids"][0] for a in answers])
    conversation = conversation_id("shop-a", "telegram", str(chat))
    sender = C.Sender(id=str(chat), display_name="Marta Nowak")
    assert first == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:1",
        sender=sender,
        text="Contact: Anna Kowalska, +48601234567",
        attachments=[
            C.Attachment(
                filename="Anna Kowalska.vcf",
                content_type="text/vcard",
                size_bytes=len(shared_card.encode()),
                url=vcard_url(shared_card),
            )
        ],
        kind=K.MESSAGE_KIND_FILE,
        sent_at=at(1794821601),
    )
    built = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Biuro\r\nN:;Biuro;;;\r\nTEL:48221234567\r\nEND:VCARD\r\n"
    assert second == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:2",
        sender=sender,
        text="Contact: Biuro, 48221234567",
        attachments=[
            C.Attachment(
                filename="Biuro.vcf",
                content_type="text/vcard",
                size_bytes=len(built.encode()),
                url=vcard_url(built),
            )
        ],
        kind=K.MESSAGE_KIND_FILE,
        sent_at=at(1794821602),
    )


async def test_a_telegram_venue_keeps_its_title_and_address_and_a_bare_location_its_coordinates(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A venue (which, the Bot API says, also sets the message's ``location``) becomes "title,
    address" and a ``geo:`` link named after it, as WhatsApp's named places do; a location is its
    ``geo:`` link.

    Shapes: https://core.telegram.org/bots/api#venue (location, title, address, foursquare_id,
    google_place_id), https://core.telegram.org/bots/api#location (latitude, longitude,
    horizontal_accuracy) and https://core.telegram.org/bots/api#message (venue, location)
    """
    run = uuid.uuid4().hex[:12]
    chat = 720_000_000 + int(run[:6], 16)
    where = {"latitude": 52.231958, "longitude": 21.006725}
    venue = {
        "location": where,
        "title": "Pałac Kultury i Nauki",
        "address": "plac Defilad 1, 00-901 Warszawa",
        "foursquare_id": "4b3a5c8ef964a520c16625e3",
        "google_place_id": "ChIJAZ-GmmbMHkcR_NPqiCq-8HI",
    }
    current = {"latitude": 52.2297, "longitude": 21.0122, "horizontal_accuracy": 15.5}

    answers = await telegram(
        ingest,
        telegram_update(run, chat, 1, venue=venue, location=where),
        telegram_update(run, chat, 2, location=current),
    )

    assert [(a["accepted"], a["dead_lettered"]) for a in answers] == [(1, 0), (1, 0)]
    place, here = await messages(broker, [a["event_ids"][0] for a in answers])
    conversation = conversation_id("shop-a", "telegram", str(chat))
    sender = C.Sender(id=str(chat), display_name="Marta Nowak")
    assert place == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:1",
        sender=sender,
        text="Pałac Kultury i Nauki, plac Defilad 1, 00-901 Warszawa",
        # No language: the venue's name and address are the place's, not the customer's words.
        attachments=[
            C.Attachment(
                filename="Pałac Kultury i Nauki", content_type="location", url="geo:52.231958,21.006725"
            )
        ],
        kind=K.MESSAGE_KIND_LOCATION,
        sent_at=at(1794821601),
    )
    assert here == K.MessageReceived(
        conversation_id=conversation,
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:2",
        sender=sender,
        attachments=[C.Attachment(content_type="location", url="geo:52.2297,21.0122")],
        kind=K.MESSAGE_KIND_LOCATION,
        sent_at=at(1794821602),
    )


async def test_a_telegram_location_without_coordinates_is_dead_lettered_not_geo_none(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A ``location`` without its (required) latitude and longitude cannot be shown on a map: the
    update is dead-lettered, as a WhatsApp location without valid coordinates is, and nothing
    carrying ``geo:None,None`` is published.

    Shape: https://core.telegram.org/bots/api#location (latitude and longitude are required; here
    they are missing) in https://core.telegram.org/bots/api#message
    """
    run = uuid.uuid4().hex[:12]
    chat = 730_000_000 + int(run[:6], 16)
    raw = json.dumps(telegram_update(run, chat, 1, location={"horizontal_accuracy": 20})).encode()

    status, answer = await deliver(ingest, "telegram", raw)

    assert status == 200, answer
    assert (answer["accepted"], answer["event_ids"], answer["dead_lettered"]) == (0, [], 1)
    (dead,) = await records(broker, topics.DEADLETTER.name, [dead_letter_id("telegram", raw, "body")])
    letter = dead.payload
    assert isinstance(letter, K.WebhookPartDeadLettered)
    assert (letter.channel, letter.route, letter.path, letter.reason, letter.body) == (
        C.CHANNEL_TELEGRAM,
        "telegram",
        "body",
        "body.message.location.latitude is required and must be a number",
        raw,
    )


async def test_a_telegram_poll_sent_by_the_customer_is_recorded_as_its_question_and_options(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A message holding a poll the customer created: recorded, in Pronto's words, with the question
    and the options, instead of "(text message without text)".

    Shape: https://core.telegram.org/bots/api#poll (id, question, options, total_voter_count,
    is_closed, is_anonymous, type, allows_multiple_answers), https://core.telegram.org/bots/api#polloption
    and https://core.telegram.org/bots/api#message (poll)
    """
    run = uuid.uuid4().hex[:12]
    chat = 740_000_000 + int(run[:6], 16)
    poll = {
        "id": f"5{int(run[:8], 16)}",
        "question": "Który kolor płaszcza?",
        "options": [
            {"text": "Czarny", "voter_count": 0},
            {"text": "Granatowy", "voter_count": 0},
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
    }

    (answer,) = await telegram(ingest, telegram_update(run, chat, 1, poll=poll))

    assert (answer["accepted"], answer["dead_lettered"]) == (1, 0)
    (message,) = await messages(broker, answer["event_ids"])
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "telegram", str(chat)),
        channel=C.CHANNEL_TELEGRAM,
        channel_message_id=f"{chat}:1",
        sender=C.Sender(id=str(chat), display_name="Marta Nowak"),
        text="(poll: Który kolor płaszcza? — Czarny / Granatowy)",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821601),
        topic_hints=[C.SUPPORT_TOPIC_PRODUCT],
    )


# ---------------------------------------------------------------- WhatsApp


async def test_a_whatsapp_order_is_readable_and_names_its_catalogue(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A cart sent from the shop's catalogue: the customer's note and each product (retailer id,
    quantity, price) in the text, the catalogue in ``referred_product``.

    Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/order/
    (order: catalog_id, text, product_items[]: product_retailer_id, quantity, item_price, currency)
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39349{int(run[:6], 16):07d}"
    order = {
        "from": customer,
        "id": f"wamid.{run}-order",
        "timestamp": "1794821800",
        "type": "order",
        "order": {
            "catalog_id": "1728903746521",
            "text": "Li vorrei entro sabato, grazie",
            "product_items": [
                {"product_retailer_id": "CAPP-NERO-M", "quantity": 1, "item_price": 129.9, "currency": "EUR"},
                {"product_retailer_id": "SCIARPA-ROSSA", "quantity": 2, "item_price": 25, "currency": "EUR"},
            ],
        },
    }
    body = json.dumps(whatsapp(run, order, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (1, 0)
    (message,) = await messages(broker, answer["event_ids"])
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}"),
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-order",
        sender=C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi"),
        text=(
            "Li vorrei entro sabato, grazie\n"
            "Order from catalogue 1728903746521:\n"
            "- 1 x CAPP-NERO-M, 129.9 EUR each\n"
            "- 2 x SCIARPA-ROSSA, 25 EUR each"
        ),
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821800),
        topic_hints=[C.SUPPORT_TOPIC_ORDERS],
        referred_product=K.ProductReference(catalog_id="1728903746521"),
    )


async def test_a_whatsapp_flow_reply_is_its_body_and_the_customers_answers(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """A WhatsApp Flow the customer completed (``interactive.type: nfm_reply``): the reply's body,
    then each answer of ``response_json`` as "key: value" (the shop's own ``flow_token`` left out),
    replying to the message that carried the Flow.

    Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/flows/guides/receiveflowresponse
    (interactive: type nfm_reply, nfm_reply: name, body, response_json)
    """
    run = uuid.uuid4().hex[:12]
    customer = f"39340{int(run[:6], 16):07d}"
    response = {
        "flow_token": f"reso-{run}",
        "numero_ordine": "10422",
        "motivo": "Taglia sbagliata",
        "articoli": ["CAPP-NERO-M"],
    }
    reply = {
        "context": {"from": "390287654321", "id": f"wamid.{run}-flow"},
        "from": customer,
        "id": f"wamid.{run}-answers",
        "type": "interactive",
        "interactive": {
            "type": "nfm_reply",
            "nfm_reply": {"name": "flow", "body": "Sent", "response_json": json.dumps(response)},
        },
        "timestamp": "1794821900",
    }
    body = json.dumps(whatsapp(run, reply, wa_id=customer)).encode()

    status, answer = await deliver(ingest, "meta", body)

    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (1, 0)
    (message,) = await messages(broker, answer["event_ids"])
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "whatsapp", f"{PHONE_NUMBER_ID}:{customer}"),
        channel=C.CHANNEL_WHATSAPP,
        channel_message_id=f"wamid.{run}-answers",
        sender=C.Sender(id=customer, phone=f"+{customer}", display_name="Giulia Rossi"),
        text='Sent\nnumero_ordine: 10422\nmotivo: Taglia sbagliata\narticoli: ["CAPP-NERO-M"]',
        language="it",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794821900),
        topic_hints=[C.SUPPORT_TOPIC_PRODUCT],
        reply_to_message_id=f"wamid.{run}-flow",
    )


# ---------------------------------------------------------------- X


X_ACCOUNT = "1587342901136441344"
SHOP = {
    "id": int(X_ACCOUNT),
    "id_str": X_ACCOUNT,
    "name": "Pronto Shop Help",
    "screen_name": "prontoshop_help",
}


async def test_an_x_retweet_publishes_nothing_and_a_quote_tweet_is_a_message(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    """Two customers' tweets of the shop's promotion in one delivery: a plain retweet
    (``retweeted_status``, the text only "RT @prontoshop_help: ...") is acknowledged and publishes
    nothing; a quote tweet (``is_quote_status``, ``quoted_status``, words of the customer's own) is
    a public message.

    Shapes: https://developer.x.com/en/docs/twitter-api/enterprise/account-activity-api/guides/account-activity-data-objects
    (tweet_create_events, "Retweets and quote Tweets") and
    https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/tweet
    (retweeted_status, is_quote_status, quoted_status_id_str, quoted_status)
    """
    run = uuid.uuid4().hex[:12]
    promotion_id = str(2_122_275_000_000_000_000 + int(run[:8], 16))
    retweet_id, quote_id = (str(int(promotion_id) + i) for i in (1, 2))
    promotion = {
        "created_at": "Mon Nov 16 09:00:00 +0000 2026",
        "id": int(promotion_id),
        "id_str": promotion_id,
        "text": "Black Friday: -30% on every coat until Sunday",
        "user": SHOP,
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
    }
    retweeter = {
        "id": 1_322_081_944_190_853_001,
        "id_str": f"1322081944{int(run[:6], 16):09d}",
        "name": "Sam",
    }
    quoter = {
        "id": 1_322_081_944_190_853_002,
        "id_str": f"1422081944{int(run[:6], 16):09d}",
        "name": "Jo Quinn",
    }
    retweet = {
        "created_at": "Mon Nov 16 10:00:00 +0000 2026",
        "id": int(retweet_id),
        "id_str": retweet_id,
        "text": "RT @prontoshop_help: Black Friday: -30% on every coat until Sunday",
        "user": retweeter,
        "retweeted_status": promotion,
        "is_quote_status": False,
        "entities": {
            "hashtags": [],
            "urls": [],
            "user_mentions": [{"screen_name": "prontoshop_help", "id_str": X_ACCOUNT, "indices": [3, 19]}],
        },
    }
    quote = {
        "created_at": "Mon Nov 16 10:05:00 +0000 2026",
        "id": int(quote_id),
        "id_str": quote_id,
        "text": "Does this include the wool coats? My order from Friday was charged full price",
        "user": quoter,
        "is_quote_status": True,
        "quoted_status_id": int(promotion_id),
        "quoted_status_id_str": promotion_id,
        "quoted_status": promotion,
        "entities": {"hashtags": [], "urls": [], "user_mentions": []},
    }
    only_retweet = json.dumps({"for_user_id": X_ACCOUNT, "tweet_create_events": [retweet]}).encode()
    both = json.dumps({"for_user_id": X_ACCOUNT, "tweet_create_events": [retweet, quote]}).encode()

    alone_status, alone = await deliver(ingest, "x", only_retweet)
    status, answer = await deliver(ingest, "x", both)

    assert alone_status == 200, alone
    assert (alone["accepted"], alone["event_ids"], alone["dead_lettered"]) == (0, [], 0)
    assert status == 200, answer
    assert (answer["accepted"], answer["dead_lettered"]) == (1, 0)
    (message,) = await messages(broker, answer["event_ids"])
    assert message == K.MessageReceived(
        conversation_id=conversation_id("shop-a", "x", f"tweet:{quote_id}:{quoter['id_str']}"),
        channel=C.CHANNEL_X,
        channel_message_id=quote_id,
        sender=C.Sender(id=str(quoter["id_str"]), display_name="Jo Quinn"),
        text="Does this include the wool coats? My order from Friday was charged full price",
        language="en",
        kind=K.MESSAGE_KIND_TEXT,
        sent_at=at(1794823500),
        is_public=True,
        topic_hints=[C.SUPPORT_TOPIC_ORDERS, C.SUPPORT_TOPIC_PAYMENTS],
    )
