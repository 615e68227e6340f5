"""Operators' replies reach customers through each platform's own API, once.

A real broker, ingest and notify as processes, loopback servers behaving like
Telegram, WhatsApp, Messenger, Instagram, Viber and X (tests/support/platforms.py),
and a real SMTP server. The test writes each customer's message and its
assignment onto their topics, posts the operator's reply over ingest's gRPC
API, and checks what reaches the platform: the right endpoint, auth and
payload, exactly once; WhatsApp's closed window answered with the template;
the platforms' status webhooks moving the delivery state; a permanent error on
the dead-letter topic; a 429 retried after its Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2, operator_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.services import IngestService, NotifyService
from services.notify.delivery.platforms.webchat import token as widget_token
from tests.plugins.ingest import CHANNEL_SECRETS
from tests.support import platforms
from tests.support.platforms import FakePlatforms, fake_platforms
from tests.support.processes import eventually
from tests.support.receivers import HttpReceiver, Mailbox, http_receiver, smtp_server
from tests.support.webhooks import signed_headers

pytestmark = pytest.mark.integration

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


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    run_dir = tmp_path_factory.mktemp("replies")
    with (
        EmbeddedBroker(log_path=run_dir / "tansu.log") as broker,
        fake_platforms() as fakes,
        smtp_server() as mailbox,
        http_receiver() as receiver,
    ):
        provision(broker.bootstrap_servers)
        shop = {
            "name": "Negozio Rossi",
            "timezone": "Europe/Rome",
            "outbound": platforms.outbound(fakes, SHOP_SENDER, WIDGET_SECRET),
            "customer_webhooks": {"*": {"url": receiver.url("/ok/customers"), "secret": HOOK_SECRET}},
            "operator_default": {"webhook": {"url": receiver.url("/ok/operators"), "secret": HOOK_SECRET}},
        }
        common = {"PRONTO_KAFKA_IDEMPOTENT": "false"}
        ingest = IngestService(
            broker.bootstrap_servers,
            run_dir / "ingest.log",
            env={
                **common,
                "PRONTO_INGEST_TOKENS": json.dumps({TENANT: TOKEN}),
                "PRONTO_INGEST_CHANNELS": json.dumps({TENANT: CHANNEL_SECRETS}),
            },
        )
        notify = NotifyService(
            broker.bootstrap_servers,
            run_dir / "notify.log",
            env={
                **common,
                "PRONTO_NOTIFY_SHOPS": json.dumps({TENANT: shop}),
                "PRONTO_NOTIFY_SMTP_PORT": str(mailbox.port),
                "PRONTO_NOTIFY_ATTEMPTS": "3",
                "PRONTO_NOTIFY_BACKOFF_INITIAL_S": "0.2",
                "PRONTO_NOTIFY_JOURNAL": str(run_dir / "notify.journal"),
            },
        )
        try:
            ingest.start()
            notify.start()
            ingest.wait_ready(60)
            notify.wait_ready(60)
            yield Running(broker, ingest, notify, fakes, mailbox, receiver)
        finally:
            notify.stop()
            ingest.stop()


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


CHANNELS = {
    "telegram": (common_pb2.CHANNEL_TELEGRAM, "telegram"),
    "whatsapp": (common_pb2.CHANNEL_WHATSAPP, "graph"),
    "facebook": (common_pb2.CHANNEL_FACEBOOK, "graph"),
    "instagram": (common_pb2.CHANNEL_INSTAGRAM, "graph"),
    "viber": (common_pb2.CHANNEL_VIBER, "viber"),
    "x": (common_pb2.CHANNEL_X, "x"),
}


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_reply_over_grpc_reaches_the_platform_once_with_its_payload(
    running: Running, channel: str
) -> None:
    value, platform = CHANNELS[channel]
    customer = {"whatsapp": "393331234567", "x": "2244994945"}.get(
        channel, f"{channel}-customer-{uuid.uuid4().hex[:6]}"
    )
    conversation = await customer_writes(running, value, customer)
    text = await operator_replies(running, conversation)
    call = await once(running, platform, text)

    signed = f"{text}\n\n— {OPERATOR_NAME}, assistenza clienti · Negozio Rossi"
    body, headers = call.body, call.headers
    if channel == "telegram":
        assert call.path == f"/telegram/bot{platforms.TELEGRAM_TOKEN}/sendMessage"
        assert body == {"chat_id": customer, "text": signed}
    elif channel == "whatsapp":
        assert call.path == f"/graph/{platforms.WHATSAPP_NUMBER}/messages"
        assert headers["Authorization"] == f"Bearer {platforms.WHATSAPP_TOKEN}"
        assert (body["to"], body["type"], body["text"]["body"]) == (customer, "text", signed)
        assert body["biz_opaque_callback_data"]
    elif channel in ("facebook", "instagram"):
        token = platforms.MESSENGER_TOKEN if channel == "facebook" else platforms.INSTAGRAM_TOKEN
        assert (call.path, headers["Authorization"]) == ("/graph/me/messages", f"Bearer {token}")
        assert body == {
            "recipient": {"id": customer},
            "message": {"text": signed},
            "messaging_type": "RESPONSE",
        }
    elif channel == "viber":
        assert headers["X-Viber-Auth-Token"] == platforms.VIBER_TOKEN
        assert (body["receiver"], body["sender"], body["type"], body["text"]) == (
            customer,
            {"name": "Negozio"},
            "text",
            signed,
        )
    else:
        assert call.path == f"/x/2/dm_conversations/with/{customer}/messages"
        assert (headers["Authorization"], body) == (f"Bearer {platforms.X_TOKEN}", {"text": signed})

    delivered = [
        d
        for d in await notifications(running, events_pb2.NotificationDelivered, conversation, 2)
        if d.platform_message_id
    ]
    answered = call.answer
    platform_id = {
        "telegram": lambda: str(answered["result"]["message_id"]),
        "whatsapp": lambda: answered["messages"][0]["id"],
        "facebook": lambda: answered["message_id"],
        "instagram": lambda: answered["message_id"],
        "viber": lambda: str(answered["message_token"]),
        "x": lambda: answered["data"]["dm_event_id"],
    }[channel]()
    assert platform_id in {d.platform_message_id for d in delivered}
    assert {d.adapter for d in delivered} == {channel}


async def test_an_email_reply_joins_the_customers_thread(running: Running) -> None:
    address = f"giulia-{uuid.uuid4().hex[:6]}@example.com"
    conversation = await customer_writes(
        running, common_pb2.CHANNEL_EMAIL, address, email=address, message_id="<m1.4512@mail.example>"
    )
    text = await operator_replies(running, conversation)

    def replies() -> list[EmailMessage]:
        return [m for m in running.mailbox.to(address) if text in m.get_body(("plain",)).get_content()]  # type: ignore[union-attr]

    await eventually(replies, 30, "the e-mail reply")
    await asyncio.sleep(1.0)
    (mail,) = replies()
    assert mail["From"] == SHOP_SENDER
    assert mail["Subject"] == "Re: Ordine 4512"
    assert mail["In-Reply-To"] == "<m1.4512@mail.example>"
    assert mail["References"] == "<m1.4512@mail.example>"
    assert mail.get_content_type() == "multipart/alternative"
    html = mail.get_body(("html",))
    assert html is not None
    assert text in html.get_content()
    assert "— Ottavia, assistenza clienti" in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_whatsapp_outside_its_window_sends_the_template_and_says_so(running: Running) -> None:
    customer = f"3934{uuid.uuid4().int % 10**8:08d}"
    conversation = await customer_writes(
        running, common_pb2.CHANNEL_WHATSAPP, customer, wrote=datetime.now(UTC) - timedelta(hours=25)
    )
    text = await operator_replies(running, conversation)
    call = await once(running, "graph", text)
    template = call.body["template"]
    assert (call.body["type"], template["name"], template["language"]) == (
        "template",
        "support_reply",
        {"code": "it"},
    )
    assert [p["text"] for p in template["components"][0]["parameters"]] == [
        OPERATOR_NAME,
        f"{text} — {OPERATOR_NAME}, assistenza clienti · Negozio Rossi",
    ]
    assert not [
        c for c in running.platforms.to("graph", customer, status=None) if c.body.get("type") == "text"
    ]
    delivered = await notifications(running, events_pb2.NotificationDelivered, conversation, 2)
    reply = [d for d in delivered if d.via_template and "24-hour window" in d.note]
    assert len(reply) == 1
    # The "I am Ottavia" introduction is not a person's answer: no template speaks for it.
    (introduction,) = await notifications(running, events_pb2.NotificationFailed, conversation)
    assert (introduction.error_code, introduction.final) == ("131047", True)


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


async def test_whatsapp_reporting_its_window_closed_gets_the_template(running: Running) -> None:
    """WhatsApp takes free text outside its window and reports 131047 afterwards, in a failed status."""
    customer = f"3935{uuid.uuid4().int % 10**8:08d}"
    conversation = await customer_writes(running, common_pb2.CHANNEL_WHATSAPP, customer)
    text = await operator_replies(running, conversation)
    call = await once(running, "graph", text)
    assert call.body["type"] == "text"
    failed = {
        "id": call.answer["messages"][0]["id"],
        "status": "failed",
        "timestamp": str(int(time.time())),
        "recipient_id": customer,
        "biz_opaque_callback_data": call.body["biz_opaque_callback_data"],
        "errors": [platforms.WHATSAPP_REENGAGEMENT],
    }
    await post_meta(running, whatsapp_statuses(failed))
    await eventually(
        lambda: len(running.platforms.to("graph", text)) == 2, 30, "the template after the report"
    )
    await asyncio.sleep(1.0)
    calls = running.platforms.to("graph", text, status=None)
    assert [(c.status, c.body["type"]) for c in calls] == [(200, "text"), (200, "template")]
    changed = await notifications(running, events_pb2.NotificationStatusChanged, conversation)
    assert [(c.status, c.error_code) for c in changed] == [(events_pb2.DELIVERY_STATUS_FAILED, "131047")]
    delivered = await notifications(running, events_pb2.NotificationDelivered, conversation, 3)
    again = [d for d in delivered if d.via_template]
    assert len(again) == 1
    assert "reported its 24-hour window closed (131047)" in again[0].note
    assert again[0].platform_message_id == calls[1].answer["messages"][0]["id"]


async def test_status_webhooks_move_the_delivery_state(running: Running) -> None:
    customer = f"3936{uuid.uuid4().int % 10**8:08d}"
    conversation = await customer_writes(running, common_pb2.CHANNEL_WHATSAPP, customer)
    text = await operator_replies(running, conversation)
    call = await once(running, "graph", text)
    wamid, notification = call.answer["messages"][0]["id"], call.body["biz_opaque_callback_data"]

    def status(name: str, at: int, echoed: bool = True) -> dict[str, Any]:
        """``echoed``: with the notification id WhatsApp hands back; else found by its wamid."""
        found = {"id": wamid, "status": name, "timestamp": str(at), "recipient_id": customer}
        return found | {"biz_opaque_callback_data": notification} if echoed else found

    now = int(time.time())
    answer = await post_meta(
        running,
        whatsapp_statuses(
            status("sent", now),
            status("delivered", now + 1, echoed=False),
            status("read", now + 2),
            status("delivered", now + 1),
        ),
    )
    assert answer["statuses"] == 4

    changed = await notifications(running, events_pb2.NotificationStatusChanged, conversation, 2)
    ours = [c for c in changed if c.notification_id == notification]
    assert [(c.status, c.platform_message_id) for c in ours] == [
        (events_pb2.DELIVERY_STATUS_DELIVERED, wamid),
        (events_pb2.DELIVERY_STATUS_READ, wamid),
    ]


async def test_viber_seen_callbacks_are_correlated_by_message_token(running: Running) -> None:
    customer = f"viber-{uuid.uuid4().hex[:8]}="
    conversation = await customer_writes(running, common_pb2.CHANNEL_VIBER, customer)
    text = await operator_replies(running, conversation)
    call = await once(running, "viber", text)
    message_token = call.answer["message_token"]
    async with aiohttp.ClientSession() as http:
        for event in ("delivered", "seen"):
            body = json.dumps(
                {
                    "event": event,
                    "timestamp": int(time.time() * 1000),
                    "message_token": message_token,
                    "user_id": customer,
                }
            ).encode()
            url = f"{running.ingest.http_url}/webhooks/{TENANT}/viber"
            async with http.post(url, data=body, headers=signed_headers("viber", body)) as response:
                assert response.status == 200, await response.text()
    changed = await notifications(running, events_pb2.NotificationStatusChanged, conversation, 2)
    assert [c.status for c in changed] == [
        events_pb2.DELIVERY_STATUS_DELIVERED,
        events_pb2.DELIVERY_STATUS_READ,
    ]
    assert {c.platform_message_id for c in changed} == {str(message_token)}


async def _introduced(running: Running, platform: str, customer: str) -> None:
    """The introduction ("sono Ottavia") went out: the next call to the platform is the reply."""
    await eventually(lambda: running.platforms.to(platform, customer), 30, "the introduction")


async def test_a_permanent_error_ends_in_the_dead_letter_topic(running: Running) -> None:
    customer = f"tg-blocked-{uuid.uuid4().hex[:6]}"
    conversation = await customer_writes(running, common_pb2.CHANNEL_TELEGRAM, customer)
    await _introduced(running, "telegram", customer)
    running.platforms.fail_next("telegram", platforms.TELEGRAM_BLOCKED)
    text = await operator_replies(running, conversation)

    def dead(record: Any) -> bool:
        payload = envelope.decode(record.headers, record.value).payload
        return isinstance(payload, events_pb2.NotificationFailed) and payload.conversation_id == conversation

    found = await read_records(running.broker.bootstrap_servers, topics.DEADLETTER.name, dead, 1, 30, 0.5)
    (failed,) = [envelope.decode(r.headers, r.value).payload for r in found]
    assert isinstance(failed, events_pb2.NotificationFailed)
    assert failed.final
    assert failed.error_code == "403"
    assert "bot was blocked by the user" in failed.error
    assert failed.attempts == 1
    assert [c.status for c in running.platforms.to("telegram", text, status=None)] == [403]


async def test_a_429_is_retried_after_its_retry_after(running: Running) -> None:
    customer = f"tg-flood-{uuid.uuid4().hex[:6]}"
    conversation = await customer_writes(running, common_pb2.CHANNEL_TELEGRAM, customer)
    await _introduced(running, "telegram", customer)
    running.platforms.fail_next("telegram", platforms.TELEGRAM_FLOOD)
    text = await operator_replies(running, conversation)
    await eventually(lambda: running.platforms.to("telegram", text), 30, "the retried reply")
    await asyncio.sleep(1.0)
    calls = running.platforms.to("telegram", text, status=None)
    assert [c.status for c in calls] == [429, 200]
    # Telegram asked for 2 s (parameters.retry_after); the backoff alone would wait 0.2-1.2 s.
    assert calls[1].at - calls[0].at >= 2.0


async def test_a_phone_customer_is_answered_by_the_operators_callback_task(running: Running) -> None:
    conversation = await customer_writes(
        running, common_pb2.CHANNEL_PHONE, "+390612345678", phone="+390612345678"
    )
    text = await operator_replies(running, conversation)

    def callbacks() -> list[Any]:
        return [
            r.json
            for r in running.receiver.answered("/ok/operators")
            if r.json["kind"] == "callback" and text in r.json["text"]
        ]

    await eventually(callbacks, 30, "the callback task")
    (task,) = callbacks()
    assert task["recipient"] == {"kind": "operator", "id": OPERATOR}
    assert "Call Giulia Rossi back on +390612345678" in task["text"]
    assert not [r for r in running.receiver.answered("/ok/customers") if text in r.json["text"]]


@pytest.fixture
async def widget(running: Running) -> AsyncIterator[tuple[str, asyncio.Queue[dict[str, Any]]]]:
    """A web chat widget listening on notify's event stream."""
    visitor = f"visitor-{uuid.uuid4().hex[:6]}"
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    url = f"{running.notify.http_url}/v1/webchat/{TENANT}/{visitor}/events"

    async def listen(http: aiohttp.ClientSession) -> None:
        token = widget_token(WIDGET_SECRET, TENANT, visitor)
        # From the shop's page (another origin): allowed by the shop's web chat settings (CORS).
        async with http.get(
            url, params={"token": token}, headers={"Origin": "https://shop.example"}
        ) as response:
            assert response.status == 200
            assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
            async for line in response.content:
                if line.startswith(b"data: "):
                    received.put_nowait(json.loads(line[6:]))

    async with aiohttp.ClientSession() as http:
        for wrong in ("wrong", "é"):
            async with http.get(url, params={"token": wrong}) as refused:
                assert refused.status == 401
        task = asyncio.create_task(listen(http))
        await asyncio.sleep(0.3)
        yield visitor, received
        task.cancel()


async def test_a_web_chat_reply_is_pushed_to_the_open_widget(
    running: Running, widget: tuple[str, asyncio.Queue[dict[str, Any]]]
) -> None:
    visitor, received = widget
    conversation = await customer_writes(running, common_pb2.CHANNEL_WEB_CHAT, visitor)
    text = await operator_replies(running, conversation)
    deadline = time.monotonic() + 30
    seen: list[dict[str, Any]] = []
    while not any(text in m["text"] for m in seen):
        seen.append(await asyncio.wait_for(received.get(), max(0.1, deadline - time.monotonic())))
    reply = next(m for m in seen if text in m["text"])
    assert (reply["kind"], reply["operator"], reply["language"]) == ("reply", OPERATOR_NAME, "it")
    delivered = await notifications(running, events_pb2.NotificationDelivered, conversation, 2)
    to_widget = [d for d in delivered if d.adapter == "web_chat"]
    assert len(to_widget) == 2  # the introduction and the reply
    assert {d.note for d in to_widget} == {"pushed to the open widget"}
