"""A shop with no SLA on phone, and VIP e-mails answered within 5 minutes, end to end.

Issue #21, item 3, through the whole system.

A phone callback request comes in on the phone webhook and opens no clock. A customer writing by
e-mail as a standard customer and then, on a later message, as a VIP has the running
first-response clock retargeted to the VIP's 5 minutes, the minutes already waited counted.
(The half day on 24 December needs event times the test chooses: it runs against the real SLA
service and broker in tests/integration/sla/test_special_days_and_targets.py.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from aiokafka.partitioner import DefaultPartitioner

from pronto import envelope, topics
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, events_pb2
from pronto_tools.simulate.channels import CustomerMessage
from tests.e2e.conftest import ALWAYS_OPEN, TENANT, TOKEN, Running, whole_system
from tests.e2e.publishing import customer_writes, publish_all

pytestmark = pytest.mark.integration

POLICY = ALWAYS_OPEN | {
    "response": {"phone": None},
    "resolution": {"phone": None},
    "by_tier": [
        {"channel": "email", "tier": "vip", "metric": "first_response", "minutes": 5, "business": False}
    ],
}
PARTITIONS = list(range(topics.INBOUND.partitions))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with whole_system(tmp_path_factory.mktemp("e2e-sla"), sla_policy=POLICY) as running:
        yield running


def _email(conversation: str, tier: int) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=common_pb2.CHANNEL_EMAIL,
        channel_message_id=f"{conversation}-{tier}-{time.time_ns()}",
        sender=common_pb2.Sender(id=f"{conversation}@example.com", tier=tier),  # type: ignore[arg-type]
        text="Buongiorno, dov'è il mio ordine?",
    )


def _in_partition(partition: int) -> str:
    """A conversation id that ingest's producer writes to ``partition`` of the inbound topic."""
    partitioner = DefaultPartitioner()
    for n in range(10_000):
        candidate = f"e2e-after-phone-{n}"
        if partitioner(candidate.encode(), PARTITIONS, PARTITIONS) == partition:
            return candidate
    raise AssertionError(f"no conversation id found for partition {partition}")


async def _sla(running: Running, conversation: str, expect: int, settle: float = 0.5) -> list[object]:
    records = await read_records(
        running.bootstrap_servers,
        topics.SLA.name,
        lambda r: r.key == conversation.encode(),
        expect=expect,
        timeout=30,
        settle=settle,
    )
    return [envelope.decode(r.headers, r.value).payload for r in records]


@pytest.mark.timeout(180)
async def test_a_phone_message_opens_no_clock(running: Running) -> None:
    message = CustomerMessage(
        channel="phone",
        customer_id="e2e-no-sla-phone",
        name="Marco Bianchi",
        text="Richiamatemi per favore",
        message_id="e2e-no-sla-phone-1",
        sent_at=time.time(),
    )
    event_id = await customer_writes(running.system.ingest.http_url, TENANT, message)
    [phoned] = await read_records(
        running.bootstrap_servers, topics.INBOUND.name, lambda r: header(r, "ce_id") == event_id, expect=1
    )
    received = envelope.decode(phoned.headers, phoned.value).payload
    assert isinstance(received, events_pb2.MessageReceived)
    assert received.channel == common_pb2.CHANNEL_PHONE

    # An e-mail written after it into the same partition: once its clock is out, SLA read the call.
    after = _in_partition(phoned.partition)
    await publish_all(running.system.ingest.grpc_target, TOKEN, [_email(after, 0)], rate=10)
    [emailed] = await read_records(
        running.bootstrap_servers, topics.INBOUND.name, lambda r: r.key == after.encode(), expect=1
    )
    assert emailed.partition == phoned.partition
    started = await _sla(running, after, expect=2)
    assert {type(p).__name__ for p in started} == {"SlaClockStarted"}

    assert await _sla(running, received.conversation_id, expect=0, settle=3) == []


@pytest.mark.timeout(180)
async def test_a_tier_raised_mid_conversation_shortens_the_running_target(running: Running) -> None:
    conversation = "e2e-tier-raised"
    standard, vip = common_pb2.CUSTOMER_TIER_STANDARD, common_pb2.CUSTOMER_TIER_VIP
    await publish_all(running.system.ingest.grpc_target, TOKEN, [_email(conversation, standard)], rate=10)
    [first, _resolution] = sorted(
        (p for p in await _sla(running, conversation, expect=2) if isinstance(p, events_pb2.SlaClockStarted)),
        key=lambda p: p.metric,
    )
    assert first.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
    assert first.target.ToTimedelta() == timedelta(minutes=30)
    wrote_at = first.deadline.ToDatetime(UTC) - timedelta(minutes=30)  # open around the clock

    await publish_all(running.system.ingest.grpc_target, TOKEN, [_email(conversation, vip)], rate=10)
    events = await _sla(running, conversation, expect=3)
    [retargeted] = [p for p in events if isinstance(p, events_pb2.SlaClockRetargeted)]
    assert retargeted.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
    assert retargeted.tier == vip
    assert retargeted.target.ToTimedelta() == timedelta(minutes=5)
    assert not retargeted.business_time
    # The minutes waited carry over: the VIP's 5 minutes count from the first message.
    assert retargeted.deadline.ToDatetime(UTC) == wrote_at + timedelta(minutes=5)
    assert retargeted.elapsed.ToTimedelta() > timedelta(0)
    assert retargeted.deadline.ToDatetime(UTC) < first.deadline.ToDatetime(UTC)
