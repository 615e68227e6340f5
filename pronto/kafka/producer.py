"""Producing Pronto events with aiokafka: acks from all replicas, idempotent, bounded waits.

An event is acknowledged to its sender only after the broker acknowledged the
write. When the broker does not answer within ``ack_timeout_s`` the caller
gets ``BrokerUnavailable`` and must retry with the same event id; the record
may still be written later, which downstream processors absorb by
deduplicating on the event id.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.structs import RecordMetadata

from pronto import envelope
from pronto.envelope import Envelope
from pronto.metrics import ServiceMetrics


class BrokerUnavailable(Exception):
    """The broker did not acknowledge in time; nothing may be assumed written."""

    def __init__(self, reason: str, retry_after_s: float = 1.0) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class BrokerIncompatible(Exception):
    """The broker cannot do what the configuration asks (idempotent producing): retrying will not help."""


@dataclass(frozen=True)
class Receipt:
    topic: str
    partition: int
    offset: int


class EventProducer:
    """The one way services write events to Kafka."""

    def __init__(
        self,
        bootstrap_servers: str,
        client_id: str,
        metrics: ServiceMetrics,
        ack_timeout_s: float = 5.0,
        linger_ms: int = 2,
        idempotent: bool = True,
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._metrics = metrics
        self._ack_timeout_s = ack_timeout_s
        self._linger_ms = linger_ms
        self._idempotent = idempotent
        self._producer: AIOKafkaProducer | None = None

    @property
    def started(self) -> bool:
        return self._producer is not None

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=self._idempotent,
            linger_ms=self._linger_ms,
            request_timeout_ms=int(self._ack_timeout_s * 1000),
        )
        try:
            await producer.start()
        except KafkaConnectionError as exc:
            await producer.stop()
            raise BrokerUnavailable(f"cannot connect to Kafka at {self._bootstrap_servers}: {exc}") from exc
        except KafkaError as exc:
            await producer.stop()
            if self._idempotent:
                raise BrokerIncompatible(
                    f"the broker at {self._bootstrap_servers} refused an idempotent producer ({exc}); "
                    "the embedded broker cannot do it: set PRONTO_KAFKA_IDEMPOTENT=false for it"
                ) from exc
            raise BrokerUnavailable(f"Kafka at {self._bootstrap_servers} failed: {exc}") from exc
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def send(self, topic: str, key: str, event: Envelope) -> asyncio.Future[Receipt]:
        """Hand ``event`` to the producer; the future resolves when the broker acknowledged it."""
        if self._producer is None:
            raise BrokerUnavailable("not connected to Kafka yet")
        headers, value = envelope.encode(event)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                delivery = await self._producer.send(topic, value, key=key.encode(), headers=headers)
        except TimeoutError as exc:
            raise BrokerUnavailable(f"Kafka took no write within {self._ack_timeout_s:g} s") from exc
        except KafkaError as exc:
            raise BrokerUnavailable(f"Kafka refused the write: {exc}") from exc
        receipt: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()

        def acknowledged(done: asyncio.Future[RecordMetadata]) -> None:
            if done.cancelled():
                receipt.set_exception(BrokerUnavailable("the write was cancelled"))
            elif (exc := done.exception()) is not None:
                receipt.set_exception(BrokerUnavailable(f"Kafka refused the write: {exc}"))
            else:
                ack = done.result()
                self._metrics.produced(topic, time.perf_counter() - started)
                receipt.set_result(Receipt(topic=ack.topic, partition=ack.partition, offset=ack.offset))

        delivery.add_done_callback(acknowledged)
        return receipt

    async def wait_for_ack(self, receipt: asyncio.Future[Receipt]) -> Receipt:
        """Wait a bounded time for the broker; the write itself goes on after a timeout."""
        try:
            async with asyncio.timeout(self._ack_timeout_s):
                return await asyncio.shield(receipt)
        except TimeoutError as exc:
            raise BrokerUnavailable(f"Kafka did not acknowledge within {self._ack_timeout_s:g} s") from exc

    async def publish(self, topic: str, key: str, event: Envelope) -> Receipt:
        return await self.wait_for_ack(await self.send(topic, key, event))
