"""Routing's answers to transfer requests, read back from ``support.conversations.v1`` (issue #20).

Only routing holds every operator's load, so only routing can say whether a colleague has room for
a conversation; a check anywhere else would race with routing's own assignments. The operator API
therefore writes the request, then waits here for routing's answer, which names the request's
event id: a ``ConversationReassigned`` whose ``transfer`` says it was made, or a
``ConversationTransferRefused`` with the reason. The caller learns the outcome in the same call.

The reader starts with the first transfer and then follows the topic's end (every partition, no
consumer group, nothing committed): until a shop uses transfers, ingest reads nothing. It reads
only the record headers of everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaConsumer

from pronto import envelope, topics
from pronto.errors import EnvelopeError
from pronto.kafka.reader import assign_all, partition_reader
from pronto.v1 import events_pb2

log = logging.getLogger("pronto.ingest")

Verdict = events_pb2.ConversationReassigned | events_pb2.ConversationTransferRefused
ANSWERS = frozenset(
    t.DESCRIPTOR.full_name.encode()
    for t in (events_pb2.ConversationReassigned, events_pb2.ConversationTransferRefused)
)


class Verdicts:
    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._waiting: dict[str, asyncio.Future[Verdict]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._reading: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    async def expect(self, request_event_id: str) -> asyncio.Future[Verdict]:
        """A future for routing's answer to the request with this id: call it before writing the
        request, so that an answer coming at once is not missed."""
        await self._started()
        future = self._waiting.get(request_event_id)
        if future is None or future.done():
            future = self._waiting[request_event_id] = asyncio.get_running_loop().create_future()
        return future

    def forget(self, request_event_id: str) -> None:
        self._waiting.pop(request_event_id, None)

    async def stop(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        if self._consumer is not None:
            await self._consumer.stop()

    async def _started(self) -> None:
        async with self._starting:
            if self._reading is not None and not self._reading.done():
                return
            if self._consumer is not None:
                await self._consumer.stop()
            consumer = self._consumer = partition_reader(self._bootstrap_servers)
            await consumer.start()
            partitions = await assign_all(consumer, topics.CONVERSATIONS.name)
            await consumer.seek_to_end(*partitions)
            for partition in partitions:  # resolves the seek now, before any request is written
                await consumer.position(partition)
            self._reading = asyncio.create_task(self._read(consumer))

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=5_000)
            for records in batches.values():
                for record in records:
                    if envelope.type_of(record.headers) in ANSWERS:
                        self._answer(record.headers, record.value)

    def _answer(self, headers: object, value: bytes | None) -> None:
        try:
            event = envelope.decode(headers, value)  # type: ignore[arg-type]
        except EnvelopeError as exc:
            log.warning("skipping a record ingest cannot read: %s", exc)
            return
        payload = event.payload
        if isinstance(payload, events_pb2.ConversationReassigned):
            request_id = payload.transfer.request_event_id
        elif isinstance(payload, events_pb2.ConversationTransferRefused):
            request_id = payload.request_event_id
        else:
            return
        future = self._waiting.pop(request_id, None) if request_id else None
        if future is not None and not future.done():
            future.set_result(payload)
