"""The system the reply tests run against, and their helpers to write messages and read notifications.

A real broker, ingest and notify as processes (started by the ``running`` fixture in conftest.py),
loopback servers behaving like Telegram, WhatsApp, Messenger, Instagram, Viber and X
(tests/support/platforms.py), and a real SMTP server. The tests write each customer's message and its
assignment onto their topics, post the operator's reply over ingest's gRPC API, and check what
reaches the platform.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2, operator_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService, NotifyService
from tests.support import platforms
from tests.support.platforms import FakePlatforms
from tests.support.processes import eventually
from tests.support.receivers import HttpReceiver, Mailbox
from tests.support.webhooks import signed_headers

TENANT = "shop-out"
TOKEN = "token-out-0123456789abcdef"
OPERATOR, OPERATOR_NAME = "ottavia", "Ottavia"
SHOP_SENDER = "Negozio Rossi <aiuto@negozio.example>"
WIDGET_SECRET = "widget-secret-0123456789"
HOOK_SECRET = "hook-secret-0123456789"


@dataclass
class Running:
    broker: EmbeddedBroker
    ingest: IngestService
    notify: NotifyService
    platforms: FakePlatforms
    mailbox: Mailbox
    receiver: HttpReceiver


async def _produce(bootstrap_servers: str, events: list[tuple[str, Envelope]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for topic, event in events:
            headers, value = envelope.encode(event)
            key = event.payload.conversation_id  # type: ignore[attr-defined]
            await producer.send_and_wait(topic, value, key=key.encode(), headers=headers)
    finally:
        await producer.stop()


def _event(payload: Message, at: datetime | None = None) -> Envelope:
    return Envelope(str(uuid.uuid4()), "/test", TENANT, payload, at or datetime.now(UTC))


async def customer_writes(
    running: Running, channel: int, customer: str, *, wrote: datetime | None = None, **sender: Any
) -> str:
    """A customer's message and its assignment to Ottavia, as ingest and routing would write them."""
    conversation = f"out-{uuid.uuid4().hex[:12]}"
    message = events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=channel,  # type: ignore[arg-type]
        channel_message_id=sender.pop("message_id", f"{conversation}-1"),
        sender=common_pb2.Sender(id=customer, display_name="Giulia Rossi", **sender),
        text="Dov'è il mio ordine?",
        language="it",
        subject="Ordine 4512",
    )
    if wrote is not None:
        message.sent_at.FromDatetime(wrote)
    assigned = events_pb2.ConversationAssigned(
        conversation_id=conversation,
        operator_id=OPERATOR,
        operator_display_name=OPERATOR_NAME,
        channel=channel,  # type: ignore[arg-type]
    )
    await _produce(
        running.broker.bootstrap_servers,
        [(topics.INBOUND.name, _event(message)), (topics.CONVERSATIONS.name, _event(assigned))],
    )
    # An operator answers after being assigned: notify has taken the assignment (and Ottavia's name
    # for the signature) in once it asked for the customer's introduction.
    requested = await notifications(running, events_pb2.NotificationRequested, conversation, 2)
    assert "assigned" in {r.kind for r in requested}
    return conversation


async def operator_replies(running: Running, conversation: str) -> str:
    text = f"Arriva domani, codice {uuid.uuid4().hex[:8]}."
    async with ProntoClient(running.ingest.grpc_target, TOKEN) as client:
        await client.operators.PostReply(
            operator_pb2.PostReplyRequest(conversation_id=conversation, operator_id=OPERATOR, text=text),
            metadata=client.metadata,
        )
    return text


async def notifications(running: Running, kind: type, conversation: str, expect: int = 1) -> list[Any]:
    def keep(record: Any) -> bool:
        payload = envelope.decode(record.headers, record.value).payload
        return isinstance(payload, kind) and getattr(payload, "conversation_id", "") == conversation

    found = await read_records(
        running.broker.bootstrap_servers, topics.NOTIFICATIONS.name, keep, expect, 30, 0.5
    )
    return [envelope.decode(r.headers, r.value).payload for r in found]


async def once(running: Running, platform: str, text: str) -> platforms.Call:
    await eventually(lambda: running.platforms.to(platform, text), 30, f"{platform} receiving the reply")
    await asyncio.sleep(1.0)  # anything sent twice would come now
    (call,) = running.platforms.to(platform, text, status=None)
    assert call.status in (200, 201), call
    return call


def whatsapp_statuses(*statuses: dict[str, Any]) -> bytes:
    """A WhatsApp Cloud API webhook with these statuses, as Meta posts it."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": platforms.WHATSAPP_NUMBER},
        "statuses": list(statuses),
    }
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


async def post_meta(running: Running, body: bytes) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        url = f"{running.ingest.http_url}/webhooks/{TENANT}/meta"
        async with http.post(url, data=body, headers=signed_headers("meta", body)) as response:
            assert response.status == 200, await response.text()
            answer: dict[str, Any] = await response.json()
            return answer


async def _introduced(running: Running, platform: str, customer: str) -> None:
    """The introduction ("sono Ottavia") went out: the next call to the platform is the reply."""
    await eventually(lambda: running.platforms.to(platform, customer), 30, "the introduction")
