"""Notify past the team's capacity: operators still hear of their work at once, customers are not spammed.

A queue of waiting customers whose platform answers slowly (each delivery takes
``SLOW_S``) builds a backlog of customer messages. Routing's position updates come
every few seconds for each of them; the operator's new assignments are written
once that backlog has formed. On the real broker with the real notify service:

- every operator hears of each assignment within seconds, because staff
  notifications have a lane of their own (before, they waited behind every
  customer message in the one pool of deliveries: tens of seconds here);
- each waiting customer hears their place once, however often routing moves it
  within the shop's ``position_every_s`` (before: once per move).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pronto import topics
from pronto.broker.embedded import EmbeddedBroker
from pronto.services import NotifyService
from pronto.v1 import common_pb2, events_pb2
from tests.integration.notify.test_notify_worker import Shop, producer_for
from tests.support.receivers import SLOW_S, HttpReceiver, http_receiver, wait_for

pytestmark = pytest.mark.integration

TENANT = "shop-o"
SECRET = "overload-test-secret-01"
WAITING = 120
MOVES = 4  # position updates per waiting customer after the first
CUSTOMER_LANE = 8
ASSIGNMENTS = 10
TOLD_WITHIN_S = 5.0


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def notify(private_broker: EmbeddedBroker, tmp_path: Path, http: HttpReceiver) -> Iterator[NotifyService]:
    shop = {
        "customer_webhooks": {"*": {"url": http.url("/slow/customers"), "secret": SECRET}},
        "operator_default": {"webhook": {"url": http.url("/ok/operators"), "secret": SECRET}},
        "queue_threshold": 100_000,
    }
    service = NotifyService(
        private_broker.bootstrap_servers,
        tmp_path / "notify.log",
        env={
            "PRONTO_KAFKA_IDEMPOTENT": "false",
            "PRONTO_NOTIFY_SHOPS": json.dumps({TENANT: shop}),
            "PRONTO_NOTIFY_JOURNAL": str(tmp_path / "journal"),
            "PRONTO_NOTIFY_CONCURRENCY": str(CUSTOMER_LANE),
        },
    )
    service.start().wait_ready(timeout=90)
    yield service
    service.stop()


def positions_told(http: HttpReceiver) -> Counter[str]:
    answered = http.answered("/slow/customers")
    return Counter(r.json["recipient"]["id"] for r in answered if r.json["kind"] == "queue_position")


@pytest.mark.timeout(240)
async def test_operators_hear_at_once_and_customers_once_while_the_queue_is_long(
    private_broker: EmbeddedBroker, notify: NotifyService, http: HttpReceiver
) -> None:
    producer = await producer_for(private_broker)
    assigned_at: dict[str, float] = {}
    try:
        shop = Shop(producer, TENANT)
        for n in range(WAITING):
            await shop.message(f"c{n}", f"Customer {n}", "en", common_pb2.CHANNEL_WEB_CHAT)
        for n in range(WAITING):
            queued = events_pb2.ConversationQueued(conversation_id=f"c{n}", position=n + 1)
            queued.estimated_wait.FromTimedelta(timedelta(minutes=n + 1))
            await shop.send(topics.CONVERSATIONS.name, f"c{n}", queued)
        for move in range(1, MOVES + 1):  # the queue moves: everyone's place and wait change
            for n in range(WAITING):
                moved = events_pb2.QueuePositionChanged(conversation_id=f"c{n}", position=n + 1 + move)
                moved.estimated_wait.FromTimedelta(timedelta(minutes=n + 1 + 3 * move))
                await shop.send(topics.CONVERSATIONS.name, f"c{n}", moved)
        # The customers' backlog has formed: their lane answers CUSTOMER_LANE / SLOW_S a second.
        await asyncio.to_thread(
            wait_for, lambda: len(http.answered("/slow/customers")) >= CUSTOMER_LANE, 60, "customer backlog"
        )
        for n in range(ASSIGNMENTS):
            await shop.assigned(f"c{n}", f"op{n}", f"Operator {n}")
            assigned_at[f"op{n}"] = time.monotonic()
    finally:
        await producer.stop()

    await asyncio.to_thread(
        wait_for,
        lambda: len(http.answered("/ok/operators")) >= ASSIGNMENTS,
        TOLD_WITHIN_S * 3,
        "every operator told",
    )
    told = {r.json["recipient"]["id"]: r.at for r in http.answered("/ok/operators")}
    waited = {operator: told[operator] - at for operator, at in assigned_at.items()}
    assert max(waited.values()) < TOLD_WITHIN_S, waited
    assert len(http.answered("/slow/customers")) < WAITING, "the customers' backlog was not still there"

    # Every waiting customer hears their first place; the moves within two minutes add nothing.
    expected = WAITING + ASSIGNMENTS  # each place, and each assigned customer's operator name
    await asyncio.to_thread(
        wait_for,
        lambda: len(http.answered("/slow/customers")) >= expected,
        expected * SLOW_S / CUSTOMER_LANE + 60,
        "the customers' messages",
    )
    await asyncio.sleep(2 * SLOW_S + 1)  # anything more would have come by now
    assert positions_told(http) == Counter({f"customer-c{n}": 1 for n in range(WAITING)})
    assert len(http.answered("/slow/customers")) == expected
