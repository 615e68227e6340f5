"""Checks what follows a reply's sending: status webhooks, WhatsApp's late refusal, dead letters, 429s.

The platforms' status webhooks moving the delivery state; WhatsApp reporting its window closed
after the fact; a permanent error on the dead-letter topic; a 429 retried after its Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import aiohttp
import pytest

from pronto import envelope, topics
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2
from tests.integration.notify.replies_system import (
    TENANT,
    Running,
    _introduced,
    customer_writes,
    notifications,
    once,
    operator_replies,
    post_meta,
    whatsapp_statuses,
)
from tests.support import platforms
from tests.support.processes import eventually
from tests.support.webhooks import signed_headers

pytestmark = pytest.mark.integration


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
