"""A second notify replica joining while deliveries wait to be retried: each still arrives once.

Found in review: the worker losing a partition let its retries run on while
the new owner started the same deliveries again, and both succeeded.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import NotifyService
from tests.support.receivers import http_receiver, wait_for

pytestmark = pytest.mark.integration


@pytest.mark.timeout(240)
async def test_deliveries_waiting_to_be_retried_move_to_the_new_owner_once(
    private_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    with http_receiver() as http:
        hook = {"url": http.url("/stubborn/all"), "secret": "rebalance-secret-0123"}
        shops = {"s": {"customer_webhooks": {"*": hook}, "operator_default": {"webhook": hook}}}

        def replica(name: str) -> NotifyService:
            return NotifyService(
                private_broker.bootstrap_servers,
                tmp_path / f"notify-{name}.log",
                env={
                    "PRONTO_KAFKA_IDEMPOTENT": "false",
                    "PRONTO_NOTIFY_SHOPS": json.dumps(shops),
                    "PRONTO_NOTIFY_ATTEMPTS": "8",
                    "PRONTO_NOTIFY_BACKOFF_INITIAL_S": "4",
                    "PRONTO_NOTIFY_BACKOFF_MAX_S": "8",
                    "PRONTO_NOTIFY_JOURNAL": str(tmp_path / f"journal-{name}"),
                },
            )

        first = replica("a").start().wait_ready(timeout=90)
        second = replica("b")
        try:
            producer = AIOKafkaProducer(bootstrap_servers=private_broker.bootstrap_servers)
            await producer.start()
            try:
                conversations = [f"c{n}" for n in range(6)]
                for c in conversations:
                    sender = common_pb2.Sender(id=f"customer-{c}", display_name="Kim")
                    message = events_pb2.MessageReceived(
                        conversation_id=c, channel=common_pb2.CHANNEL_WEB_CHAT, sender=sender, language="en"
                    )
                    await _send(producer, topics.INBOUND.name, c, message)
                await asyncio.sleep(2)
                for n, c in enumerate(conversations):
                    assigned = events_pb2.ConversationAssigned(conversation_id=c, operator_id=f"op{n}")
                    await _send(producer, topics.CONVERSATIONS.name, c, assigned)
            finally:
                await producer.stop()
            # Every notification failed once and waits seconds for its retry: now the group changes.
            wait_for(lambda: len(http.answered("/stubborn", 503)) >= 12, 60, "a first failed attempt of each")
            second.start().wait_ready(timeout=90)
            wait_for(lambda: len(http.answered("/stubborn")) >= 12, 120, "every notification delivered")
            await asyncio.sleep(10)  # what a second copy would need
        finally:
            second.stop()
            first.stop()
        delivered = Counter(r.headers["Idempotency-Key"] for r in http.answered("/stubborn"))
    assert len(delivered) == 12
    assert set(delivered.values()) == {1}, delivered


async def _send(producer: AIOKafkaProducer, topic: str, key: str, payload: Message) -> None:
    headers, value = envelope.encode(Envelope(str(uuid.uuid4()), "/test", "s", payload, datetime.now(UTC)))
    await producer.send_and_wait(topic, value, key=key.encode(), headers=headers)
