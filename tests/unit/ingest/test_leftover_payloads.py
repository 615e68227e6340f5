"""The edges of what the #19 trial's leftovers fixed (Telegram contacts, venues, locations and polls,
WhatsApp orders and Flow replies, X retweets), read by the parsers alone. The whole payloads, posted
through ingest, are in tests/integration/ingest/test_platform_leftovers.py.
"""

from __future__ import annotations

import json
from typing import Any

from pronto.v1 import events_pb2
from services.ingest.channels import telegram
from services.ingest.channels.payload import Unreadable


def telegram_message(**content: Any) -> list[events_pb2.MessageReceived | Unreadable]:
    """https://core.telegram.org/bots/api#message in an https://core.telegram.org/bots/api#update"""
    chat = {"id": 42, "first_name": "Marta", "type": "private"}
    update = {
        "update_id": 1,
        "message": {"message_id": 7, "from": {**chat, "is_bot": False}, "chat": chat, "date": 1794821600}
        | content,
    }
    return telegram.parse("shop-a", json.dumps(update).encode())


def test_a_telegram_venue_without_coordinates_is_unreadable() -> None:
    (part,) = telegram_message(venue={"location": {}, "title": "Sklep", "address": "Marszałkowska 1"})
    assert isinstance(part, Unreadable)
    assert part.reason == "body.message.venue.location.latitude is required and must be a number"


def test_a_telegram_location_out_of_range_is_unreadable() -> None:
    (part,) = telegram_message(location={"latitude": 91.5, "longitude": 21.0})
    assert isinstance(part, Unreadable)
    assert part.reason == "body.message.location.latitude must be within ±90, got 91.5"


def test_a_telegram_contact_with_only_a_name_says_no_number_and_keeps_a_card() -> None:
    (message,) = telegram_message(contact={"first_name": "Biuro", "phone_number": ""})
    assert isinstance(message, events_pb2.MessageReceived)
    assert message.text == "Contact: Biuro"
    assert [a.filename for a in message.attachments] == ["Biuro.vcf"]


def test_a_poll_without_options_is_its_question_and_a_poll_state_update_a_no_op() -> None:
    (message,) = telegram_message(poll={"id": "1", "question": "Kiedy?", "options": []})
    assert isinstance(message, events_pb2.MessageReceived)
    assert message.text == "(poll: Kiedy?)"
    state = {"update_id": 2, "poll": {"id": "1", "question": "Kiedy?", "options": [], "is_closed": True}}
    assert telegram.parse("shop-a", json.dumps(state).encode()) == []
