"""Telegram contacts, venues, locations without coordinates and polls, as the #19 trial found them.

What the #19 trial still found lost or wrong with Telegram's payloads shaped like its documentation:
contacts, venues, coordinate-less locations and polls (WhatsApp's and X's are in
test_platform_leftovers_whatsapp_x.py). Posted signed to the real ingest process; the events are read
back from the broker and checked whole.

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
from tests.integration.ingest.platform_support import at, dead_letter_id, deliver, messages, records

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


def vcard_url(card: str) -> str:
    return "data:text/vcard;charset=utf-8," + quote(card, safe="")


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
