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

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from pronto import envelope, event_ids, topics
from pronto.broker.embedded import EmbeddedBroker
from pronto.kafka.reader import header, read_records
from pronto.services import IngestService
from pronto.v1 import common_pb2, events_pb2
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
