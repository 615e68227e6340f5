"""Notify past the team's capacity: operators still hear of their work at once, customers are not spammed.

A queue of waiting customers whose platform answers slowly (each delivery takes
``SLOW_S``) builds a backlog of customer messages. Routing's position updates come
every few seconds for each of them; the operator's new assignments are written
once that backlog has formed. On the real broker with the real notify service:

- every operator hears of each assignment while the customers' backlog is
  still being sent, because staff notifications have a lane of their own
  (with one pool they waited behind every customer message queued before
  them: about 100 here, 7.6 s when measured);
- each waiting customer hears their place once, however often routing moves it
  within the shop's ``position_every_s`` (before: once per move).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pronto import topics
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import NotifyService
from tests.integration.notify.test_notify_worker import Upstream, producer_for
from tests.support.receivers import SLOW_S, HttpReceiver, http_receiver, wait_for

pytestmark = pytest.mark.integration

TENANT = "shop-o"
SECRET = "overload-test-secret-01"
WAITING = 120
MOVES = 4  # position updates per waiting customer after the first
CUSTOMER_LANE = 8
ASSIGNMENTS = 10
# Customers' messages answered between the assignments and the last operator told: with one pool the
# operators wait for the ~100 queued before them; with their own lane, for their own delivery only.
CUSTOMERS_MEANWHILE_AT_MOST = 40


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
    try:
        shop = Upstream(producer, TENANT)
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
        customers_before = len(http.answered("/slow/customers"))
        for n in range(ASSIGNMENTS):
            await shop.assigned(f"c{n}", f"op{n}", f"Operator {n}")
    finally:
        await producer.stop()

    await asyncio.to_thread(
        wait_for, lambda: len(http.answered("/ok/operators")) >= ASSIGNMENTS, 120, "every operator told"
    )
    customers_meanwhile = len(http.answered("/slow/customers")) - customers_before
    assert customers_meanwhile <= CUSTOMERS_MEANWHILE_AT_MOST, customers_meanwhile
    assert {r.json["recipient"]["id"] for r in http.answered("/ok/operators")} == {
        f"op{n}" for n in range(ASSIGNMENTS)
    }

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
