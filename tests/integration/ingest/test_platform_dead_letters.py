"""A delivery's part ingest cannot read is dead-lettered and the rest kept, never the whole refused.

A platform's delivery with a part ingest cannot read keeps the rest and dead-letters that part,
answered 200 rather than refused whole (issue #19): a WhatsApp batch, a Telegram update, a Viber
event and an X Account Activity delivery.

Posted to the real ingest process; the MessageReceived and WebhookPartDeadLettered events are read
back from the broker and each is compared whole with what it must be, so a field not expected or
missing fails; the dead letters are counted in ingest's metrics.

Each test names the documentation page its payload follows. Values (ids, names, texts) are ours; a
run id keeps them apart from other tests' events on the session broker.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from pronto import event_ids, topics
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.ingest.channels.identity import conversation_id
from tests.integration.ingest.platform_support import (
    PHONE_NUMBER_ID,
    X_ACCOUNT,
    at,
    at_ms,
    counted,
    dead_letter_id,
    deliver,
    records,
    whatsapp,
)

pytestmark = pytest.mark.integration
K = events_pb2
C = common_pb2


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
