"""Remembering recent events, so that a retry does not write a second record.

Ingest keeps the last ``capacity`` event ids the broker acknowledged, and the
deliveries still on their way. A retry of an id in flight joins that same
delivery instead of writing again: this matters when the broker is down,
where the first attempt was answered UNAVAILABLE but stays buffered in the
producer and lands once the broker is back.

This is a bounded, per-process window: an event retried after it (or through
another ingest replica) is written again with the same id, and downstream
processors deduplicate on that id.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from functools import partial
from typing import Generic, TypeVar

T = TypeVar("T")


class RecentEvents(Generic[T]):
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._done: OrderedDict[str, T] = OrderedDict()
        self._in_flight: dict[str, asyncio.Future[T]] = {}

    def __len__(self) -> int:
        return len(self._done)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def claim(self, event_id: str) -> tuple[asyncio.Future[T], bool]:
        """The delivery of ``event_id`` and whether an earlier call had claimed it (a duplicate).

        Whoever claims a new delivery must complete it; its outcome settles the claim.
        """
        if event_id in self._done:
            self._done.move_to_end(event_id)
            finished: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            finished.set_result(self._done[event_id])
            return finished, True
        delivery = self._in_flight.get(event_id)
        if delivery is not None:
            return delivery, True
        delivery = asyncio.get_running_loop().create_future()
        self._in_flight[event_id] = delivery
        delivery.add_done_callback(partial(self._settled, event_id))
        return delivery, False

    @staticmethod
    def fail(delivery: asyncio.Future[T], error: Exception) -> None:
        if not delivery.done():
            delivery.set_exception(error)

    def _settled(self, event_id: str, delivery: asyncio.Future[T]) -> None:
        del self._in_flight[event_id]
        if delivery.cancelled() or delivery.exception() is not None:
            return
        if self._capacity:
            self._done[event_id] = delivery.result()
            if len(self._done) > self._capacity:
                self._done.popitem(last=False)
