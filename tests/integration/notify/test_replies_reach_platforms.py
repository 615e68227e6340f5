"""Checks operators' replies reach each platform's own API once: payloads, email, WhatsApp, phone, widget.

The right endpoint, auth and payload, exactly once; an email reply in the customer's thread;
WhatsApp's closed window answered with the template; a phone customer answered by a callback task;
a web chat reply pushed to the open widget.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest

from pronto.v1 import common_pb2, events_pb2
from services.notify.delivery.platforms.webchat import token as widget_token
from tests.integration.notify.replies_system import (
    OPERATOR,
    OPERATOR_NAME,
    SHOP_SENDER,
    TENANT,
    WIDGET_SECRET,
    Running,
    customer_writes,
    notifications,
    once,
    operator_replies,
)
from tests.support import platforms
from tests.support.processes import eventually

pytestmark = pytest.mark.integration


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
