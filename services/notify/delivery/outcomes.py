"""Records what became of each request on ``support.notifications.v1`` (failures: dead-letter too).

An outcome event is what every worker reads to know a request is finished,
so one not written keeps its request open: writing is retried while the
broker is away, and only a written outcome lets the committed offset pass
its request. The local journal is written first, the moment the answer is in.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pronto import envelope, event_ids, topics
from pronto.envelope import Envelope
from pronto.v1 import events_pb2
from services.notify.delivery.adapters import Sent
from services.notify.delivery.journal import Journal
from services.notify.delivery.messages import PROCESSOR
from services.notify.delivery.partition_state import PartitionState, Request

log = logging.getLogger("pronto.notify.delivery")

Outcome = events_pb2.NotificationDelivered | events_pb2.NotificationFailed


class Outcomes:
    def __init__(
        self,
        source: str,
        partitions: dict[int, PartitionState],
        producer: Callable[[], AIOKafkaProducer | None],
        journal: Callable[[], Journal | None],
    ) -> None:
        """``partitions`` is the deliverer's own (an outcome closes its request there); ``producer``
        and ``journal`` give the deliverer's current ones, which exist while it runs."""
        self.source = source
        self.partitions = partitions
        self._producer = producer
        self._journal = journal

    def journaled(self, requests: list[Request], outcome: str) -> None:
        journal = self._journal()
        assert journal is not None
        for request in requests:
            journal.write(request.id, outcome)

    async def delivered(
        self, requests: list[Request], adapter: str, attempts: int, digest_id: str, sent: Sent | None
    ) -> None:
        sent = sent or Sent()
        if sent.note:
            log.info("%s by %s: %s", requests[0].id, adapter, sent.note)
        state = self.partitions.get(requests[0].partition)
        if adapter == "whatsapp" and not sent.via_template and requests[0].request.kind == "reply" and state:
            state.remember_text(requests[0])
        await self.record(
            requests,
            lambda r: events_pb2.NotificationDelivered(
                notification_id=r.id,
                conversation_id=r.request.conversation_id,
                adapter=adapter,
                attempts=attempts,
                digest_id=digest_id,
                platform_message_id=sent.platform_message_id,
                note=sent.note,
                via_template=sent.via_template,
            ),
        )

    async def failed(
        self,
        requests: list[Request],
        adapter: str,
        attempts: int,
        reason: str,
        code: str = "",
        index: int = 1,
    ) -> None:
        """``index`` 2: the failure of a second delivery of one request (the template after a 131047)."""
        self.journaled(requests, "failed")
        log.warning("giving up on %s after %d attempts: %s", [r.id for r in requests], attempts, reason)

        def failure(r: Request) -> events_pb2.NotificationFailed:
            return events_pb2.NotificationFailed(
                notification_id=r.id,
                conversation_id=r.request.conversation_id,
                adapter=adapter,
                attempts=attempts,
                error=reason,
                final=True,
                error_code=code,
            )

        await self.record(requests, failure, dead_letter=True, index=index)

    async def recover(self, request: Request, outcome: str) -> None:
        """Sent before a crash, its outcome event lost: write the event, send nothing."""
        log.info("notification %s was %s before a restart; recording it", request.id, outcome)
        if outcome == "delivered":
            await self.record(
                [request],
                lambda r: events_pb2.NotificationDelivered(
                    notification_id=r.id, conversation_id=r.request.conversation_id, adapter="journal"
                ),
            )
        else:
            await self.failed([request], "journal", 0, "failed before a restart")

    async def record(
        self,
        requests: list[Request],
        payload: Callable[[Request], Outcome],
        dead_letter: bool = False,
        index: int = 1,
    ) -> None:
        """``index`` 2: a second outcome of one request (a template sent after WhatsApp's report)."""
        for request in requests:
            event = Envelope(
                event_ids.derived(PROCESSOR, request.id, index),
                self.source,
                request.event.tenant,
                payload(request),
                datetime.now(UTC),
                request.event.traceparent,
            )
            await self.write(topics.NOTIFICATIONS.name, request.key, event, request.partition)
            if dead_letter:
                await self.write(topics.DEADLETTER.name, request.key, event, None)
            state = self.partitions.get(request.partition)
            if state is not None:
                state.open.pop(request.offset, None)

    async def write(self, topic: str, key: str, event: Envelope, partition: int | None) -> None:
        """Keeps trying while the broker is away: an outcome not written keeps its request open."""
        producer = self._producer()
        assert producer is not None
        headers, value = envelope.encode(event)
        delay = 0.5
        while True:
            try:
                await producer.send_and_wait(
                    topic, value, key=key.encode(), partition=partition, headers=headers
                )
                return
            except KafkaError as exc:
                log.warning("could not record %s on %s (%s); retrying in %.1f s", event.id, topic, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
