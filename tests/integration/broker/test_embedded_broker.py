"""The embedded broker and topic provisioning, on the real Tansu process."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from pronto import envelope, topics
from pronto.envelope import Envelope
from pronto.topics import TopicSpec
from pronto_tools.broker.embedded import EmbeddedBroker, kafka_answers
from pronto_tools.broker.provision import API_VERSION, provision
from pronto_tools.errors import BrokerStartError, ProvisioningError
from tests.support.events import message

pytestmark = pytest.mark.integration
KCAT = Path(__file__).parents[3] / "scripts" / "kcat"


def test_the_broker_answers_kafka_requests_and_stops_cleanly(tmp_path: Path) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log").start()
    assert kafka_answers(broker.host, broker.port)
    broker.stop()
    assert not broker.running
    assert not kafka_answers(broker.host, broker.port)


def test_a_port_already_taken_is_a_clear_error(broker: EmbeddedBroker, tmp_path: Path) -> None:
    with pytest.raises(BrokerStartError, match="already in use"):
        EmbeddedBroker(port=broker.port, log_path=tmp_path / "second.log").start(timeout=10)


def test_provisioning_is_idempotent(private_broker: EmbeddedBroker) -> None:
    again = provision(private_broker.bootstrap_servers)
    assert again.created == []
    assert again.reconfigured == []  # the configurations were read back and match: nothing altered
    assert sorted(again.existing) == sorted(spec.name for spec in topics.ALL)
    admin = KafkaAdminClient(bootstrap_servers=private_broker.bootstrap_servers, api_version=API_VERSION)
    try:
        described = {
            t["topic"]: len(t["partitions"]) for t in admin.describe_topics([s.name for s in topics.ALL])
        }
    finally:
        admin.close()
    assert described == {spec.name: spec.partitions for spec in topics.ALL}


def test_a_topic_with_other_partitions_is_refused_not_repaired(private_broker: EmbeddedBroker) -> None:
    name = f"support.test-{uuid.uuid4().hex[:6]}.v1"
    admin = KafkaAdminClient(bootstrap_servers=private_broker.bootstrap_servers, api_version=API_VERSION)
    try:
        admin.create_topics([NewTopic(name, 2, 1)])
    finally:
        admin.close()
    with pytest.raises(ProvisioningError, match="has 2 partitions, expected 4"):
        provision(private_broker.bootstrap_servers, [TopicSpec(name, 4, "test")])


def test_a_topic_that_keeps_everything_is_given_its_retention(private_broker: EmbeddedBroker) -> None:
    """An input topic created when it kept records forever is brought to its finite retention. The
    embedded broker reads topic configurations but refuses to alter them (it closes the connection
    on AlterConfigs): there the refusal must be a clear error naming the change, never a silent pass."""
    name = f"support.test-{uuid.uuid4().hex[:6]}.v1"
    admin = KafkaAdminClient(bootstrap_servers=private_broker.bootstrap_servers, api_version=API_VERSION)
    try:
        admin.create_topics(
            [NewTopic(name, 2, 1, topic_configs={"retention.ms": "-1", "cleanup.policy": "delete"})]
        )
    finally:
        admin.close()
    wanted = TopicSpec(name, 2, "test", {"retention.ms": str(topics.DAY_MS), "cleanup.policy": "delete"})

    with pytest.raises(ProvisioningError, match=f"{name} should have {{'retention.ms': '{topics.DAY_MS}'}}"):
        provision(private_broker.bootstrap_servers, [wanted])


async def test_kcat_shows_the_cloudevents_headers(broker: EmbeddedBroker) -> None:
    """A plain Kafka client, not ours, reads the event attributes from the headers."""
    conversation = f"kcat-{uuid.uuid4().hex[:8]}"
    event = Envelope(
        id=f"evt-{conversation}",
        source="/pronto/test",
        tenant="shop-a",
        payload=message(conversation, 1),
        time=datetime.now(UTC),
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    headers, value = envelope.encode(event)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topics.INBOUND.name, value, key=conversation.encode(), headers=headers
        )
    finally:
        await producer.stop()
    command = [str(KCAT), "-C", "-b", broker.bootstrap_servers, "-t", topics.INBOUND.name]
    command += ["-p", str(sent.partition), "-o", str(sent.offset), "-c", "1", "-e", "-f", "%k|%h\n"]
    kcat = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PRONTO_PYTHON": sys.executable},
    )
    stdout, stderr = await asyncio.wait_for(kcat.communicate(), timeout=30)
    assert kcat.returncode == 0, stderr.decode()
    output = stdout.decode()
    key, _, shown = output.strip().partition("|")
    assert key == conversation
    for name, expected in [
        ("ce_id", event.id),
        ("ce_type", "pronto.v1.MessageReceived"),
        ("ce_source", "/pronto/test"),
        ("ce_specversion", "1.0"),
        ("content-type", "application/protobuf"),
        ("ce_tenant", "shop-a"),
        ("ce_traceparent", event.traceparent),
    ]:
        assert f"{name}={expected}" in shown, shown
    assert "ce_time=" in shown
