"""An SLA service upgraded from merge copies to a direct fold keeps its clocks.

Before ``pronto.journal``, a merge agent copied every customer message onto
``support.clocks.v1`` and the fold read only that topic. A cluster upgraded
from that version has its clocks in those copies (the group committed past
them; no journal). The new worker must replay them once, checkpoint at once
(so that no later replay needs them), and fire their breaches when time
passes; a second restart loads that checkpoint and replays no copy again.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from pronto import topics
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import SlaService
from services.sla.app import APP_ID
from tests.integration.sla.test_sla_worker import (
    FIRST,
    Driver,
    kinds,
    sla_env,
    sla_events,
    tomorrow_at,
)

pytestmark = pytest.mark.integration

CONVERSATIONS = [f"u{n:02}" for n in range(12)]


async def _commit_ends(bootstrap_servers: str) -> None:
    """The old group committed its input at its end (everything folded)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, group_id=APP_ID, enable_auto_commit=False
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topics.CLOCKS.name, p) for p in range(topics.CLOCKS.partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        # The embedded broker reports the start of the newest batch plus one: each copy is its own batch.
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in ends.items()})
    finally:
        await consumer.stop()


@pytest.mark.timeout(240)
async def test_copies_from_before_journals_are_replayed_once_and_checkpointed(
    private_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    t0 = tomorrow_at(10)
    producer = AIOKafkaProducer(bootstrap_servers=private_broker.bootstrap_servers, linger_ms=0)
    await producer.start()
    env = {**sla_env(60), "PRONTO_LOG_LEVEL": "INFO"}
    try:
        shop = Driver(producer)
        for conversation in CONVERSATIONS:  # what the old merge wrote: the message, on the input topic
            await shop.send(topics.CLOCKS.name, conversation, _message(conversation), t0)
        await _commit_ends(private_broker.bootstrap_servers)

        first = SlaService(private_broker.bootstrap_servers, tmp_path / "first.log", env=env)
        first.start().wait_ready(timeout=60)
        await shop.tick(t0.replace(minute=31))  # past every 30-minute first-response target
        events = await sla_events(private_broker, expect=2 * len(CONVERSATIONS), timeout=60)
        first.stop()
        second = SlaService(
            private_broker.bootstrap_servers, tmp_path / "second.log", http_port=first.http_port, env=env
        )
        second.start().wait_ready(timeout=60)
        second.stop()
    finally:
        await producer.stop()

    for conversation in CONVERSATIONS:  # the clocks the copies started warned and breached once
        assert kinds(events[conversation]) == Counter({("SlaWarning", FIRST): 1, ("SlaBreached", FIRST): 1})
    first_log = (tmp_path / "first.log").read_text()
    copied = re.findall(r"replaying (\d+) records copied before direct folds", first_log)
    assert sum(map(int, copied)) == len(CONVERSATIONS)
    second_log = (tmp_path / "second.log").read_text()
    assert "copied before direct folds" not in second_log
    assert len(re.findall(r"snapshot of offset [1-9]\d* loaded", second_log)) >= len(copied)


def _message(conversation: str) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=common_pb2.CHANNEL_EMAIL,
        sender=common_pb2.Sender(id=f"customer-{conversation}"),
        text="Dov'è il mio ordine?",
    )
