"""The notify service on the real broker, delivering to a real HTTP server and a real SMTP server.

The test writes what routing and SLA would (customer messages, assignments,
SLA events) onto their topics and checks what reaches the receivers: the
right people, in their language, signed; a receiver failing twice gets one
delivery; one that keeps failing ends on the dead-letter topic; a breach storm
reaches the supervisors as a digest; and a worker killed with SIGKILL in the
middle of a batch, then restarted, sends nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import NotifyService
from services.notify.domain.signature import HEADER, verify
from tests.support.receivers import HttpReceiver, Mailbox, Received, http_receiver, smtp_server, wait_for
from tests.support.webhooks import get

pytestmark = pytest.mark.integration

SHOP = "shop-n"
BUSY_SHOP = "shop-k"
SECRET = "notify-test-secret-0123"
CONCURRENCY = 16


def shops(http: HttpReceiver) -> dict[str, Any]:
    def hook(path: str) -> dict[str, str]:
        return {"url": http.url(path), "secret": SECRET}

    return {
        SHOP: {
            "timezone": "Europe/Rome",
            "customer_webhooks": {"*": hook("/ok/customers"), "telegram": hook("/ok/telegram")},
            "operators": {
                "marek": {"email": "marek@shop.test"},
                "ola": {"webhook": hook("/flaky/ola")},
                "piotr": {"webhook": hook("/down/piotr")},
            },
            "supervisors": {"slack": http.url("/ok/slack")},
            "limit_count": 3,
            "limit_window_s": 8,
        },
        BUSY_SHOP: {
            "customer_webhooks": {"*": hook("/ok/busy-customers")},
            "operator_default": {"webhook": hook("/ok/busy-operators")},
            "limit_count": 100_000,
        },
    }


@pytest.fixture
def receivers() -> Iterator[tuple[HttpReceiver, Mailbox]]:
    with http_receiver() as http, smtp_server() as mailbox:
        yield http, mailbox


@pytest.fixture
def notify(
    private_broker: EmbeddedBroker, tmp_path: Path, receivers: tuple[HttpReceiver, Mailbox]
) -> Iterator[NotifyService]:
    http, mailbox = receivers
    service = NotifyService(
        private_broker.bootstrap_servers,
        tmp_path / "notify.log",
        env={
            "PRONTO_KAFKA_IDEMPOTENT": "false",
            "PRONTO_NOTIFY_SHOPS": json.dumps(shops(http)),
            "PRONTO_NOTIFY_SMTP_PORT": str(mailbox.port),
            "PRONTO_NOTIFY_SMTP_FROM": "Pronto <pronto@shop.test>",
            "PRONTO_NOTIFY_ATTEMPTS": "3",
            "PRONTO_NOTIFY_BACKOFF_INITIAL_S": "0.2",
            "PRONTO_NOTIFY_BACKOFF_MAX_S": "1",
            "PRONTO_NOTIFY_JOURNAL": str(tmp_path / "journal"),
            "PRONTO_NOTIFY_CONCURRENCY": str(CONCURRENCY),
        },
    )
    service.start().wait_ready(timeout=90)
    yield service
    service.stop()


class Upstream:
    """Writes what customers, routing and SLA would, as they would, for one tenant."""

    def __init__(self, producer: AIOKafkaProducer, tenant: str) -> None:
        self.producer, self.tenant = producer, tenant

    async def send(self, topic: str, conversation: str, payload: Message) -> str:
        event = Envelope(str(uuid.uuid4()), "/test", self.tenant, payload, datetime.now(UTC))
        headers, value = envelope.encode(event)
        await self.producer.send_and_wait(topic, value, key=conversation.encode(), headers=headers)
        return event.id

    async def message(self, conversation: str, name: str, language: str, channel: int) -> None:
        received = events_pb2.MessageReceived(
            conversation_id=conversation,
            channel=channel,  # type: ignore[arg-type]
            sender=common_pb2.Sender(id=f"customer-{conversation}", display_name=name),
            language=language,
            text="?",
        )
        await self.send(topics.INBOUND.name, conversation, received)

    async def started(self, conversation: str, deadline: datetime) -> None:
        started = events_pb2.SlaClockStarted(
            conversation_id=conversation, metric=events_pb2.SLA_METRIC_FIRST_RESPONSE, business_time=True
        )
        started.deadline.FromDatetime(deadline)
        started.opens_at.FromDatetime(datetime.now(UTC))
        await self.send(topics.SLA.name, conversation, started)

    async def assigned(self, conversation: str, operator: str, name: str) -> str:
        assigned = events_pb2.ConversationAssigned(
            conversation_id=conversation, operator_id=operator, operator_display_name=name
        )
        return await self.send(topics.CONVERSATIONS.name, conversation, assigned)

    async def warned(self, conversation: str, operator: str) -> None:
        warning = events_pb2.SlaWarning(
            conversation_id=conversation, metric=events_pb2.SLA_METRIC_FIRST_RESPONSE, operator_id=operator
        )
        warning.deadline.FromDatetime(datetime.now(UTC) + timedelta(minutes=5))
        await self.send(topics.SLA.name, conversation, warning)

    async def breached(self, conversation: str) -> None:
        breach = events_pb2.SlaBreached(
            conversation_id=conversation, metric=events_pb2.SLA_METRIC_FIRST_RESPONSE
        )
        breach.deadline.FromDatetime(datetime.now(UTC))
        await self.send(topics.SLA.name, conversation, breach)


async def producer_for(broker: EmbeddedBroker) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=1)
    await producer.start()
    return producer


async def dead_letters(broker: EmbeddedBroker, expect: int) -> list[Message]:
    records = await read_records(broker.bootstrap_servers, topics.DEADLETTER.name, expect=expect, timeout=30)
    return [envelope.decode(r.headers, r.value).payload for r in records]


@pytest.mark.timeout(240)
async def test_the_right_people_hear_the_right_things_once(
    private_broker: EmbeddedBroker, notify: NotifyService, receivers: tuple[HttpReceiver, Mailbox]
) -> None:
    http, mailbox = receivers
    producer = await producer_for(private_broker)
    try:
        shop = Upstream(producer, SHOP)
        await shop.message("anna", "Anna Kowalska", "pl", common_pb2.CHANNEL_TELEGRAM)
        await shop.message("luca", "Luca Bianchi", "it", common_pb2.CHANNEL_EMAIL)
        await asyncio.sleep(1)  # topics interleave freely: the customer known first keeps this test simple
        await shop.started("anna", datetime.now(UTC) + timedelta(minutes=15))
        # Merged from two topics, an assignment read before the clock's start would (rightly) make the
        # acknowledgement moot; the test wants both, so it lets the acknowledgement go first. (Without
        # this wait it failed once in a fresh-clone CI run on a loaded machine.)
        await asyncio.to_thread(wait_for, lambda: len(http.answered("/ok/telegram")) >= 1, 60, "anna's ack")
        await shop.assigned("anna", "marek", "Marek")
        await shop.assigned("luca", "ola", "Ola")
        await shop.assigned("luca-2", "piotr", "Piotr")  # no message yet: told once it is known
        await shop.message("luca-2", "Luca Bianchi", "it", common_pb2.CHANNEL_WEB_CHAT)
        await shop.warned("anna", "marek")
        for n in range(8):  # a breach storm: three messages, then one digest once the window has room
            await shop.breached(f"storm-{n}")
            await shop.message(f"storm-{n}", "", "en", common_pb2.CHANNEL_EMAIL)
    finally:
        await producer.stop()

    wait_for(lambda: len(http.answered("/ok/telegram")) >= 2, 60, "anna's two telegram messages")
    telegram = http.answered("/ok/telegram")
    # SLA's and routing's topics interleave freely: the two may come in either order.
    texts = {r.json["kind"]: r.json["text"] for r in telegram}
    assert texts["acknowledged"].startswith("Dziękujemy, Anna, otrzymaliśmy Twoją wiadomość.")
    assert texts["assigned"] == "Dzień dobry, Anna, nazywam się Marek i pomogę Ci."
    for request in telegram:
        assert request.json["recipient"] == {"kind": "customer", "id": "customer-anna"}
        assert request.json["channel"] == "telegram"
        assert verify(SECRET, request.headers[HEADER], request.body, time.time())
        assert request.headers["Idempotency-Key"] == request.json["id"]

    wait_for(lambda: len(mailbox.to("marek@shop.test")) >= 2, 30, "marek's two e-mails")
    mails = {m["Subject"]: m for m in mailbox.to("marek@shop.test")}
    assert sorted(mails) == ["Pronto: new assignment — anna (shop-n)", "Pronto: sla warning — anna (shop-n)"]
    warning = mails["Pronto: sla warning — anna (shop-n)"]
    assert "Conversation anna on telegram is due by" in warning.get_content()
    assert warning["From"] == "Pronto <pronto@shop.test>"

    # Ola's receiver fails twice, then answers: one delivery, after three attempts.
    wait_for(lambda: len(http.answered("/flaky/ola")) >= 1, 30, "ola's delivery")
    assert len(http.answered("/flaky/ola", 503)) == 2
    assert http.answered("/flaky/ola")[0].json["text"] == "New conversation luca on email for you."
    # Luca's assignment arrived before his message: told once he was known, in Italian.
    wait_for(
        lambda: any(r.json["conversation_id"] == "luca-2" for r in http.answered("/ok/customers")),
        30,
        "luca-2",
    )
    [luca_2] = [r.json for r in http.answered("/ok/customers") if r.json["conversation_id"] == "luca-2"]
    assert luca_2["text"] == "Ciao, Luca, sono Piotr e ti aiuto io."

    # Piotr's receiver keeps failing: after its three attempts, the dead-letter topic has the reason.
    wait_for(lambda: len(http.answered("/down/piotr", 500)) >= 3, 30, "piotr's three attempts")
    dead = await dead_letters(private_broker, expect=1)
    [failure] = dead
    assert isinstance(failure, events_pb2.NotificationFailed)
    assert failure.final
    assert failure.attempts == 3
    assert "HTTP 500" in failure.error

    # The storm: three breaches one by one, the other five together once the 8 s window has room.
    wait_for(lambda: len(http.answered("/ok/slack")) >= 4, 30, "the supervisors' digest")
    slack = [r.json["text"] for r in http.answered("/ok/slack")]
    assert len(slack) == 4
    assert all("missed its target" in text for text in slack[:3])
    assert slack[3].startswith("5 notifications while you were away or busy:")

    await asyncio.sleep(2)  # nothing more arrives: every trigger was told once
    seen = Counter(
        r.headers["Idempotency-Key"]
        for r in http.requests
        if r.status == 200 and "Idempotency-Key" in r.headers
    )
    assert max(seen.values()) == 1
    assert len(http.answered("/ok/telegram")) == 2
    assert len(mailbox.to("marek@shop.test")) == 2

    _, raw = await get(notify.http_url, "/metrics")
    metrics = raw.decode()
    assert 'pronto_notify_sent_total{adapter="email",kind="new_assignment"} 1.0' in metrics
    assert 'pronto_notify_failed_total{adapter="webhook",kind="new_assignment"} 1.0' in metrics
    assert 'pronto_notify_sent_total{adapter="slack",kind="digest"} 1.0' in metrics
    assert "pronto_notify_delivery_seconds_bucket" in metrics


@pytest.mark.timeout(300)
async def test_a_worker_killed_mid_batch_sends_nothing_twice(
    private_broker: EmbeddedBroker, notify: NotifyService, receivers: tuple[HttpReceiver, Mailbox]
) -> None:
    """Nothing answered before the kill is sent again. What was on the wire at the kill cannot be
    known to have arrived: it is sent again with the same Idempotency-Key, which the receiver
    (as the README asks of every receiver) uses to act on it once."""
    http, _ = receivers
    conversations = [f"busy-{n:04}" for n in range(400)]
    producer = await producer_for(private_broker)
    try:
        shop = Upstream(producer, BUSY_SHOP)
        for conversation in conversations:
            await shop.message(conversation, "Kim", "en", common_pb2.CHANNEL_WEB_CHAT)
        await asyncio.sleep(1)
        sends = [shop.assigned(c, f"op-{n % 7}", f"Op {n % 7}") for n, c in enumerate(conversations)]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()

    expected = 2 * len(conversations)  # the customer and the operator, for each assignment
    wait_for(lambda: len(http.answered("/ok/busy")) >= expected // 4, 60, "a quarter of the batch")
    killed_at = time.monotonic()
    notify.kill()
    at_kill = len(http.answered("/ok/busy"))
    assert at_kill < expected, "the batch was over before the kill: nothing was tested"
    notify.start().wait_ready(timeout=90)
    wait_for(lambda: len(http.answered("/ok/busy")) >= expected, 120, "the whole batch")
    await asyncio.sleep(3)  # what a second copy would need to arrive

    received = http.answered("/ok/busy")
    first: dict[str, Received] = {}
    for request in received:
        first.setdefault(request.headers["Idempotency-Key"], request)
    again = [r for r in received if first[r.headers["Idempotency-Key"]] is not r]
    # A copy only of what was on the wire when the process died (the kill takes a moment).
    assert all(first[r.headers["Idempotency-Key"]].at > killed_at - 2.0 for r in again), again
    assert len(again) <= CONCURRENCY
    assert all(
        r.body == first[r.headers["Idempotency-Key"]].body
        for r in again  # the same message
    )
    # Acting once per Idempotency-Key, the receiver hears of every assignment exactly once per person.
    about = Counter((r.json["recipient"]["kind"], r.json["conversation_id"]) for r in first.values())
    assert set(about.values()) == {1}
    assert len(about) == expected
