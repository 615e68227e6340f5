"""The whole system past its team's capacity degrades gracefully (issue #26, defect 9).

A hundred web chat customers write within two seconds to a shop whose two
operators have four chats between them, and the customers' platform answers
slowly (each delivery takes ``SLOW_S``; notify's customer lane has four of them
at once), so the customers' notifications form a backlog of tens of seconds.
Meanwhile the operators resolve a conversation every second, and routing
re-publishes every customer's place every two seconds. Through the real
ingest, routing, SLA and notify on the real broker:

- each time an operator resolves one, the operator who gets the next customer
  hears of it within seconds, though customers' messages are queued by the
  hundred (staff have their own lane in notify);
- a waiting customer hears their place at most once per the shop's
  ``position_every_s`` however often routing moves it;
- routing measured what the customers it assigned out of the queue waited
  against the wait they were told (the estimate's error is a metric).
"""

from __future__ import annotations

import asyncio
import math
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from pronto.grpc_client import ProntoClient
from pronto.v1 import common_pb2, events_pb2, operator_pb2
from tests.e2e.conftest import TOKEN, Running, whole_system
from tests.e2e.publishing import operator_joins, publish_all
from tests.support.events import message
from tests.support.receivers import SLOW_S, Received, wait_for

pytestmark = pytest.mark.integration

CUSTOMERS = 100
OPERATORS = ("ana", "bea")
CHATS_EACH = 2
CUSTOMER_LANE = 4
POSITION_EVERY_S = 20
RESOLUTIONS = 12
# An operator hears of a new customer within this, however long the customers' backlog.
TOLD_WITHIN_S = 5.0


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    env = {
        "routing": {"PRONTO_ROUTING_POSITION_EVERY_S": "2", "PRONTO_ROUTING_REPLY_WITHIN_S": "{}"},
        "notify": {"PRONTO_NOTIFY_CONCURRENCY": str(CUSTOMER_LANE)},
    }
    with whole_system(
        Path(tmp_path_factory.mktemp("e2e-overload")),
        env=env,
        notify={"position_every_s": POSITION_EVERY_S},
        customers="/slow/customers",
    ) as running:
        yield running


def _operator_told(running: Running) -> list[Received]:
    return [r for r in running.receiver.answered("/ok/operators") if r.json["kind"] == "new_assignment"]


def _settled(running: Running, timeout: float, quiet_s: float = 3.0) -> int:
    """How many customers' messages went out, once no more came for ``quiet_s``."""
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len(running.receiver.answered("/slow/customers"))
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return count
        time.sleep(0.2)
    raise AssertionError(f"customers' messages still going out after {timeout:.0f} s ({count} so far)")


def _metric(running: Running, name: str) -> float:
    with urllib.request.urlopen(f"{running.system.routing.http_url}/metrics", timeout=5) as response:
        lines = response.read().decode().splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.startswith(name + "{"))


@pytest.mark.timeout(300)
async def test_operators_still_hear_at_once_and_customers_are_not_spammed(running: Running) -> None:
    target = running.system.ingest.grpc_target
    for operator in OPERATORS:
        profile = events_pb2.OperatorProfileUpdated(
            operator_id=operator,
            display_name=operator.title(),
            languages=[events_pb2.LanguageSkill(language="it", proficiency=5)],
            capacities=[
                events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=CHATS_EACH)
            ],
        )
        await operator_joins(target, TOKEN, profile)
    started = time.monotonic()
    await publish_all(target, TOKEN, [message(f"over-{n:03d}", 0) for n in range(CUSTOMERS)], rate=50)
    slots = len(OPERATORS) * CHATS_EACH
    first = "the first assignments"
    await asyncio.to_thread(wait_for, lambda: len(_operator_told(running)) >= slots, 60, first)
    # The customers' backlog has formed: their lane answers CUSTOMER_LANE / SLOW_S a second.
    await asyncio.to_thread(
        wait_for,
        lambda: len(running.receiver.answered("/slow/customers")) >= 2 * CUSTOMER_LANE,
        60,
        "the customers' backlog",
    )

    delays = []
    resolved: set[str] = set()
    async with ProntoClient(target, TOKEN) as client:
        for _ in range(RESOLUTIONS):
            told = _operator_told(running)
            oldest = next(r.json for r in told if r.json["conversation_id"] not in resolved)
            resolved.add(oldest["conversation_id"])
            before, asked = len(told), time.monotonic()
            await client.operators.ResolveConversation(
                operator_pb2.ResolveConversationRequest(
                    conversation_id=oldest["conversation_id"], operator_id=oldest["recipient"]["id"]
                ),
                metadata=client.metadata,
            )
            await asyncio.to_thread(
                wait_for, lambda b=before: len(_operator_told(running)) > b, 30, "the next assignment told"
            )
            delays.append(_operator_told(running)[before].at - asked)
            await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - asked)))
        sent_by_then = len(running.receiver.answered("/slow/customers"))

    assert max(delays) < TOLD_WITHIN_S, [round(d, 2) for d in delays]
    # Let what is queued for customers go out, then count what each was told.
    sent = await asyncio.to_thread(_settled, running, 2 * CUSTOMERS * SLOW_S / CUSTOMER_LANE + 60)
    # The operators were told while customers' messages were still queued by the tens.
    assert sent - sent_by_then >= 5 * CUSTOMER_LANE, (sent_by_then, sent)
    elapsed = time.monotonic() - started
    positions = Counter(
        r.json["recipient"]["id"]
        for r in running.receiver.answered("/slow/customers")
        if r.json["kind"] == "queue_position"
    )
    # Routing re-published every place every 2 s; each customer hears it once per POSITION_EVERY_S.
    assert len(positions) >= CUSTOMERS - slots - RESOLUTIONS
    assert max(positions.values()) <= 1 + math.ceil(elapsed / POSITION_EVERY_S), positions.most_common(3)

    # Each customer assigned out of the queue was measured against the wait they were told.
    assert _metric(running, "pronto_routing_wait_estimate_ratio_count") >= RESOLUTIONS
