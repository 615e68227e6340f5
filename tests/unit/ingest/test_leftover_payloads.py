"""The edges of what the #19 trial's leftovers fixed, read by the parsers alone.

The leftovers are Telegram contacts, venues, locations and polls, WhatsApp orders and Flow replies, X
retweets. The whole payloads, posted through ingest, are in
tests/integration/ingest/test_platform_leftovers.py and test_platform_leftovers_whatsapp_x.py.
"""

from __future__ import annotations

import json
from typing import Any

from pronto.v1 import events_pb2
from services.ingest.channels import meta, telegram, x
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


def whatsapp(message: dict[str, Any]) -> events_pb2.MessageReceived:
    """https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples"""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390287654321", "phone_number_id": "106540352242922"},
        "messages": [{"from": "393471234567", "id": "wamid.1", "timestamp": "1794821647", **message}],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"value": value, "field": "messages"}]}],
    }
    (parsed,) = meta.parse("shop-a", json.dumps(body).encode())
    assert isinstance(parsed, events_pb2.MessageReceived)
    return parsed


def test_an_order_without_a_note_or_prices_still_lists_its_products() -> None:
    order = {"catalog_id": "17", "product_items": [{"product_retailer_id": "SKU-1", "quantity": "3"}]}
    parsed = whatsapp({"type": "order", "order": order})
    assert (parsed.kind, parsed.text) == (
        events_pb2.MESSAGE_KIND_TEXT,
        "Order from catalogue 17:\n- 3 x SKU-1",
    )
    assert parsed.referred_product == events_pb2.ProductReference(catalog_id="17")


def test_a_flow_reply_whose_response_is_not_an_object_keeps_it_as_it_came() -> None:
    flow = {"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "not json"}}
    assert whatsapp({"type": "interactive", "interactive": flow}).text == "Sent\nresponse: not json"


def test_an_address_message_reply_is_read_as_a_flow_reply() -> None:
    """``nfm_reply`` with ``name: address_message``: the customer's address, field by field."""
    answer = {"name": "Giulia Rossi", "city": "Milano", "in_pin_code": ""}
    reply = {"name": "address_message", "response_json": json.dumps({"values": answer})}
    text = whatsapp({"type": "interactive", "interactive": {"type": "nfm_reply", "nfm_reply": reply}}).text
    assert text == 'values: {"name": "Giulia Rossi", "city": "Milano", "in_pin_code": ""}'


def test_a_retweet_of_someone_elses_tweet_is_a_no_op_too() -> None:
    """https://developer.x.com/en/docs/twitter-api/v1/data-dictionary/object-model/tweet (retweeted_status)"""
    original = {"id_str": "10", "text": "@prontoshop_help where is my parcel?", "user": {"id_str": "5"}}
    retweet = {
        "id_str": "11",
        "text": "RT @someone: ...",
        "user": {"id_str": "6"},
        "retweeted_status": original,
    }
    body = {"for_user_id": "1", "tweet_create_events": [retweet]}
    assert x.parse("shop-a", json.dumps(body).encode()) == []
