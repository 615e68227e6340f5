"""A WhatsApp message of a type Pronto does not read is kept as a file message that says what it was.

Its words read right for any type (issue #19): not "(a request_welcome message)"."""

from __future__ import annotations

import json
from typing import Any

from pronto.v1 import events_pb2
from services.ingest.channels import meta


def whatsapp(message: dict[str, Any]) -> bytes:
    """One message in a messages webhook, as https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
    shows them (entry, changes, value with metadata, contacts and messages)."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390287654321", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Giulia Rossi"}, "wa_id": "393471234567"}],
        "messages": [{"from": "393471234567", "id": "wamid.1", "timestamp": "1794821647", **message}],
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }
    return json.dumps(body).encode()


def text_of(message: dict[str, Any]) -> str:
    (parsed,) = meta.parse("shop-a", whatsapp(message))
    assert isinstance(parsed, events_pb2.MessageReceived)
    assert parsed.kind == events_pb2.MESSAGE_KIND_FILE
    return parsed.text


def test_a_type_pronto_does_not_read_says_its_type_in_neutral_words() -> None:
    """A welcome request (a customer opening the chat for the first time), one of the Cloud API's
    message types Pronto has no reading for: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/components
    (orders, the earlier example here, are read since bd9e2f6)."""
    assert text_of({"type": "request_welcome"}) == "(message of type request_welcome)"
    assert text_of({"type": "a_type_from_next_year", "a_type_from_next_year": {}}) == (
        "(message of type a_type_from_next_year)"
    )


def test_an_unsupported_message_says_why() -> None:
    """https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples#unknown-messages"""
    errors = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "details": "Message type is not currently supported",
        }
    ]
    assert (
        text_of({"type": "unsupported", "errors": errors})
        == "(message of type unsupported: Message type unknown)"
    )
