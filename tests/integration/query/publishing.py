"""Putting conversation histories on the real broker, each event on its own topic and key."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from pronto import envelope
from pronto.envelope import Envelope
from tests.support.history import topic_of


async def publish(bootstrap_servers: str, events: list[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, linger_ms=5)
    await producer.start()
    try:
        sent = []
        for event in events:
            headers, value = envelope.encode(event)
            payload = event.payload
            key = getattr(payload, "conversation_id", "") or payload.operator_id  # type: ignore[attr-defined]
            sent.append(await producer.send(topic_of(payload), value, key=key.encode(), headers=headers))
        for receipt in sent:
            await receipt
    finally:
        await producer.stop()
