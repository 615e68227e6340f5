"""Recent events: a retry of an acknowledged or in-flight event joins it instead of writing again.

``Broker`` stands in for the producer: it keeps the deliveries it was handed
(plain asyncio futures) and each test completes them as the broker would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.ingest.dedupe import RecentEvents


class Broker:
    def __init__(self) -> None:
        self.writes: list[tuple[str, asyncio.Future[str]]] = []

    def write(self, event_id: str, delivery: asyncio.Future[str]) -> None:
        self.writes.append((event_id, delivery))

    @property
    def written(self) -> list[str]:
        return [event_id for event_id, _ in self.writes]

    def acknowledge(self, index: int, receipt: str) -> None:
        self.writes[index][1].set_result(receipt)


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """What the event loop reports as unhandled (an exception raised in a done-callback, say)."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: errors.append(context))
    try:
        yield errors
    finally:
        loop.set_exception_handler(previous)


async def settled() -> None:
    """Let done-callbacks run (they are scheduled, not called, when a future completes)."""
    for _ in range(3):
        await asyncio.sleep(0)


def deliver(recent: RecentEvents[str], broker: Broker, event_id: str) -> tuple[asyncio.Future[str], bool]:
    """What ingest does: claim the id, and write it only when no earlier call had claimed it."""
    delivery, duplicate = recent.claim(event_id)
    if not duplicate:
        broker.write(event_id, delivery)
    return delivery, duplicate


async def delivered(recent: RecentEvents[str], broker: Broker, *event_ids: str) -> None:
    for event_id in event_ids:
        deliver(recent, broker, event_id)
        broker.acknowledge(-1, f"ack {event_id}")
        await settled()


async def test_the_first_call_for_an_event_is_not_a_duplicate() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()

    delivery, duplicate = deliver(recent, broker, "e-1")

    assert not duplicate
    assert not delivery.done()
    assert recent.in_flight == 1
    assert broker.written == ["e-1"]


async def test_a_call_after_the_acknowledgement_is_a_duplicate_with_the_same_receipt() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()
    first, _ = deliver(recent, broker, "e-1")
    broker.acknowledge(0, "partition 2, offset 41")
    assert await first == "partition 2, offset 41"
    await settled()

    again, duplicate = deliver(recent, broker, "e-1")

    assert duplicate
    assert again.done()
    assert again.result() == "partition 2, offset 41"
    assert broker.written == ["e-1"]
    assert (len(recent), recent.in_flight) == (1, 0)


async def test_concurrent_calls_share_one_write() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()

    calls = [deliver(recent, broker, "e-1") for _ in range(5)]
    broker.acknowledge(0, "offset 7")
    results = await asyncio.gather(*(delivery for delivery, _ in calls))

    assert broker.written == ["e-1"]
    assert [duplicate for _, duplicate in calls] == [False, True, True, True, True]
    assert all(delivery is calls[0][0] for delivery, _ in calls)
    assert results == ["offset 7"] * 5


async def test_different_events_are_written_separately() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()

    (_, first), (_, second) = deliver(recent, broker, "e-1"), deliver(recent, broker, "e-2")

    assert (first, second) == (False, False)
    assert broker.written == ["e-1", "e-2"]
    assert recent.in_flight == 2


async def test_a_failed_delivery_is_forgotten_so_a_later_call_writes_again(
    loop_errors: list[dict[str, Any]],
) -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()
    first, _ = deliver(recent, broker, "e-1")
    first.set_exception(ConnectionError("broker gone"))
    with pytest.raises(ConnectionError, match="broker gone"):
        await first
    await settled()
    assert (len(recent), recent.in_flight) == (0, 0)

    again, duplicate = deliver(recent, broker, "e-1")

    assert not duplicate
    assert again is not first
    assert broker.written == ["e-1", "e-1"]
    assert loop_errors == []


async def test_a_caller_that_stops_waiting_leaves_its_delivery_in_flight() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()
    first, _ = deliver(recent, broker, "e-1")

    done, _ = await asyncio.wait({first}, timeout=0.01)

    assert not done
    assert not first.cancelled()
    assert recent.in_flight == 1


async def test_a_retry_waits_for_the_same_delivery() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()
    first, _ = deliver(recent, broker, "e-1")
    await asyncio.wait({first}, timeout=0.01)  # the first caller gave up and was answered UNAVAILABLE

    retry, duplicate = deliver(recent, broker, "e-1")

    assert duplicate
    assert retry is first
    assert broker.written == ["e-1"]
    broker.acknowledge(0, "offset 3")  # the buffered write lands once the broker is back
    assert await retry == "offset 3"
    await settled()
    assert (len(recent), recent.in_flight) == (1, 0)


async def test_a_retry_joining_a_delivery_that_then_fails_fails_too() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()
    first, _ = deliver(recent, broker, "e-1")
    retry, duplicate = deliver(recent, broker, "e-1")

    recent.fail(first, ConnectionError("still down"))

    assert duplicate
    with pytest.raises(ConnectionError, match="still down"):
        await retry


async def test_a_write_that_cannot_start_leaves_nothing_in_flight() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    delivery, duplicate = recent.claim("e-1")
    assert not duplicate

    recent.fail(delivery, ConnectionError("not connected to Kafka yet"))
    await settled()

    assert (len(recent), recent.in_flight) == (0, 0)
    with pytest.raises(ConnectionError, match="not connected"):
        await delivery
    again, duplicate = recent.claim("e-1")
    assert not duplicate
    assert again is not delivery


async def test_failing_a_delivery_that_was_already_acknowledged_changes_nothing() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    delivery, _ = recent.claim("e-1")
    delivery.set_result("offset 1")

    recent.fail(delivery, ConnectionError("too late"))
    await settled()

    assert delivery.result() == "offset 1"
    assert (len(recent), recent.in_flight) == (1, 0)


async def test_a_cancelled_delivery_is_forgotten(loop_errors: list[dict[str, Any]]) -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=10)
    broker = Broker()
    delivery, _ = deliver(recent, broker, "e-1")

    delivery.cancel()
    await settled()

    assert (len(recent), recent.in_flight) == (0, 0)
    again, duplicate = deliver(recent, broker, "e-1")
    assert not duplicate
    assert not again.cancelled()
    assert broker.written == ["e-1", "e-1"]
    assert loop_errors == []


async def test_the_oldest_event_is_forgotten_beyond_capacity() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=2)
    broker = Broker()

    await delivered(recent, broker, "e-1", "e-2", "e-3")

    assert len(recent) == 2
    assert recent.claim("e-3")[1]
    assert recent.claim("e-2")[1]
    assert not recent.claim("e-1")[1]


async def test_a_duplicate_refreshes_an_event_so_it_is_forgotten_last() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=2)
    broker = Broker()
    await delivered(recent, broker, "e-1", "e-2")
    assert deliver(recent, broker, "e-1")[1]  # a retry: e-1 is now the most recent

    await delivered(recent, broker, "e-3")

    assert recent.claim("e-1")[1]
    assert not recent.claim("e-2")[1]


async def test_capacity_zero_remembers_nothing_once_delivered() -> None:
    recent: RecentEvents[str] = RecentEvents(capacity=0)
    broker = Broker()
    first, _ = deliver(recent, broker, "e-1")
    # While in flight a retry still joins: capacity bounds only the acknowledged events.
    assert deliver(recent, broker, "e-1") == (first, True)

    broker.acknowledge(0, "offset 1")
    await settled()

    assert (len(recent), recent.in_flight) == (0, 0)
    _, duplicate = deliver(recent, broker, "e-1")
    assert not duplicate
    assert broker.written == ["e-1", "e-1"]
