"""Batches decide what records one by one decide: the SLA service run twice on the same input.

Once with ``PRONTO_STREAM_BATCH_MAX=1`` (its agents take one record at a time) and once with the
default (up to 1,000), each on a fresh broker, the same shop events go in, in three phases each
seen through before the next, so that every input partition holds the same records in the same
order: 60 customer messages (through the merge agent), ticks past their warnings and deadlines
(straight onto the input topic, as the timer writes them), then replies to half of them (through
the merge again). Everything SLA wrote must be the same: the same event ids, keys and bytes, in the
same order per conversation.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.services import SlaService
from pronto_tools.system import EMBEDDED_BROKER_ENV
from tests.integration.sla.test_sla_worker import POLICY, TENANT, TOKENS, tomorrow_at

pytestmark = pytest.mark.integration

CONVERSATIONS = 60
Written = dict[str, list[tuple[str, bytes]]]


async def settled(broker: EmbeddedBroker, at_least: int, timeout: float = 60) -> Written:
    """SLA's output per key, once it holds ``at_least`` records and two reads a second apart agree."""
    deadline = time.monotonic() + timeout
    last = -1
    while True:
        records = await read_records(
            broker.bootstrap_servers, topics.SLA.name, expect=at_least, timeout=5, settle=0.5
        )
        if (len(records) >= at_least and len(records) == last) or time.monotonic() > deadline:
            written: Written = {}
            for r in sorted(records, key=lambda r: (r.partition, r.offset)):
                written.setdefault((r.key or b"").decode(), []).append(
                    (envelope.decode(r.headers, r.value).id, r.value or b"")
                )
            return written
        last = len(records)
        await asyncio.sleep(1)


async def run(batch_max: int, tmp_path: Path, t0: datetime) -> Written:
    with EmbeddedBroker(log_path=tmp_path / f"broker-{batch_max}.log") as broker:
        provision(broker.bootstrap_servers, topics.ALL)
        sla = SlaService(
            broker.bootstrap_servers,
            tmp_path / f"sla-{batch_max}.log",
            env={
                **EMBEDDED_BROKER_ENV,
                "PRONTO_SLA_POLICIES": json.dumps(POLICY),
                "PRONTO_SLA_TOKENS": json.dumps(TOKENS),
                "PRONTO_STREAM_BATCH_MAX": str(batch_max),
            },
        )
        sla.start().wait_ready(timeout=60)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=5)
        await producer.start()
        n = 0

        async def send(topic: str, key: str, payload: Message, at: datetime, **kw: int) -> None:
            nonlocal n
            n += 1
            event = Envelope(str(uuid.UUID(int=n)), "/test", TENANT, payload, at)
            headers, value = envelope.encode(event)
            await producer.send_and_wait(topic, value, key=key.encode(), headers=headers, **kw)

        try:
            for c in range(CONVERSATIONS):
                message = events_pb2.MessageReceived(
                    conversation_id=f"c{c}",
                    channel=common_pb2.CHANNEL_EMAIL,
                    sender=common_pb2.Sender(id=f"customer-{c}"),
                    text="Dov'è il mio ordine?",
                )
                await send(topics.INBOUND.name, f"c{c}", message, t0 + timedelta(seconds=c))
            await settled(broker, 2 * CONVERSATIONS)  # two clocks started each
            for minutes in (24, 31):
                for partition in range(topics.CLOCKS.partitions):
                    at = t0 + timedelta(minutes=minutes, seconds=5)
                    await send(topics.CLOCKS.name, "tick", events_pb2.SlaTick(), at, partition=partition)
            await settled(broker, 4 * CONVERSATIONS)  # warned and breached each
            for c in range(0, CONVERSATIONS, 2):
                reply = events_pb2.OperatorReplied(
                    conversation_id=f"c{c}", operator_id="giulia", text="Eccomi"
                )
                await send(topics.OUTBOUND.name, f"c{c}", reply, t0 + timedelta(minutes=40))
            return await settled(broker, 4 * CONVERSATIONS + CONVERSATIONS // 2)
        finally:
            await producer.stop()
            sla.stop()


@pytest.mark.timeout(300)
async def test_batches_write_exactly_what_one_by_one_writes(tmp_path: Path) -> None:
    t0 = tomorrow_at(9)
    one_by_one = await run(1, tmp_path, t0)
    batched = await run(1_000, tmp_path, t0)

    assert len(one_by_one) == CONVERSATIONS
    assert sum(map(len, one_by_one.values())) >= 4 * CONVERSATIONS + CONVERSATIONS // 2
    assert batched == one_by_one
