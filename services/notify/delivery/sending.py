"""Sends one message (a request, or a digest of several) by its adapter, retrying, and records the outcome.

Two lanes: what staff must act on never waits behind what customers are told
(issue #26). A delivery holds a lane's slot per attempt, not across the waits
between attempts. While an attempt is on the wire, or its outcome being
recorded, the delivery is *busy*: a partition taken away lets busy deliveries
finish and cancels the others, which its next owner sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pronto.v1 import events_pb2
from services.notify.delivery.adapter_choice import AdapterChoice
from services.notify.delivery.adapters import Adapter, Outgoing, Sent
from services.notify.delivery.messages import message as message_for
from services.notify.delivery.outcomes import Outcomes
from services.notify.delivery.partition_state import Request
from services.notify.delivery.retries import Retries, sent_by
from services.notify.errors import DeliveryError
from services.notify.metrics import NotifyMetrics
from services.notify.settings import NotifySettings

log = logging.getLogger("pronto.notify.delivery")


@dataclass
class PartitionWork:
    """The tasks delivering a partition's requests, kept beside its state (which stays data)."""

    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Deliveries on the wire or recording their outcome (not waiting to retry): a partition
    # taken away lets these finish and cancels the others, which its next owner sends.
    busy: set[asyncio.Task[Any]] = field(default_factory=set)


class Sender:
    def __init__(
        self,
        settings: NotifySettings,
        metrics: NotifyMetrics,
        work: dict[int, PartitionWork],
        adapters: AdapterChoice,
        outcomes: Outcomes,
    ) -> None:
        """``work`` is the deliverer's own: a delivery is marked busy in its partition's."""
        self.metrics = metrics
        self.work = work
        self.adapters = adapters
        self.outcomes = outcomes
        self.retries = Retries(settings)
        self._customer_slots = asyncio.Semaphore(settings.notify_concurrency)
        self._staff_slots = asyncio.Semaphore(settings.notify_staff_concurrency)

    async def deliver(self, requests: list[Request]) -> None:
        first = requests[0]
        message = message_for(requests, datetime.now(UTC))
        kind = "digest" if len(requests) > 1 else first.request.kind
        adapter = self.adapters.for_request(first)
        attempts = 0
        async with self._busy(first.partition):
            try:
                if adapter is None:
                    raise DeliveryError(f"no contact configured for {first.key}", permanent=True)
                async for attempt in self.retries.retrying():
                    with attempt:
                        attempts += 1
                        # A slot per attempt, not across the waits between them: a platform asking
                        # for minutes of patience does not hold up everyone else's deliveries.
                        async with self.slots(first):
                            sent = await self._attempt(adapter, message, requests, attempts)
            except DeliveryError as exc:
                await self.outcomes.failed(
                    requests, adapter.name if adapter else "none", attempts, exc.reason, exc.code
                )
                self.metrics.failed.labels(kind, adapter.name if adapter else "none").inc()
                return
            assert adapter is not None
            self.metrics.sent.labels(kind, adapter.name).inc()
            self.metrics.latency.labels(adapter.name).observe(
                max(0.0, (datetime.now(UTC) - first.event.time).total_seconds())
            )
            await self.outcomes.delivered(
                requests, adapter.name, attempts, message.id if len(requests) > 1 else "", sent
            )

    def slots(self, request: Request) -> asyncio.Semaphore:
        """The request's lane: customers', or staff's."""
        customer = request.request.recipient_kind == events_pb2.RECIPIENT_KIND_CUSTOMER
        return self._customer_slots if customer else self._staff_slots

    @contextlib.asynccontextmanager
    async def _busy(self, partition: int) -> AsyncIterator[None]:
        """Ends the delivery's busy spell (``_attempt`` starts it) however the delivery ends."""
        try:
            yield
        finally:
            work, task = self.work.get(partition), asyncio.current_task()
            if work is not None and task is not None:
                work.busy.discard(task)

    async def _attempt(
        self, adapter: Adapter, message: Outgoing, requests: list[Request], attempt: int
    ) -> Sent | None:
        work = self.work.get(requests[0].partition)
        task = asyncio.current_task()
        if work is not None and task is not None:
            work.busy.add(task)
        try:
            sent = await sent_by(adapter, message)
        except DeliveryError as exc:
            if work is not None and task is not None:
                work.busy.discard(task)  # waiting to retry: a new owner may take over
            if self.retries.again(exc, attempt):
                self.metrics.retried.labels(adapter.name).inc()
                log.info("delivery of %s failed (attempt %d), retrying: %s", message.id, attempt, exc.reason)
            raise
        self.outcomes.journaled(requests, "delivered")
        return sent
