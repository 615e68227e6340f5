"""A message on each channel's webhook, through all four services, to the customer and back.

For every channel: the platform's signed webhook is accepted by ingest, routing assigns the
conversation, SLA starts the first-response clock, notify tells the customer the operator's
name; the operator's reply over gRPC stops the clock as met and SLA's compliance metric moves.
"""

from __future__ import annotations

import time
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest

from pronto import envelope, topics
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import Record, header, read_records
from pronto.v1 import events_pb2, operator_pb2
from pronto_tools.demo.figures import first_responses
from pronto_tools.simulate.channels import CHANNELS, CustomerMessage
from pronto_tools.simulate.team import roster
from tests.e2e.conftest import TENANT, TOKEN, Running, whole_system
from tests.e2e.publishing import customer_writes, operator_joins
from tests.support.receivers import wait_for

pytestmark = pytest.mark.integration

OPERATOR = "ottavia"
OPERATOR_NAME = "Ottavia"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with whole_system(tmp_path_factory.mktemp("e2e")) as running:
        yield running


@pytest.fixture(scope="module")
async def online(running: Running) -> str:
    """One operator who speaks the customers' languages, with room on every channel."""
    profile = roster(1, capacity=20)[0]
    profile.operator_id, profile.display_name = OPERATOR, OPERATOR_NAME
    profile.languages.add(language="pl", proficiency=5)
    await operator_joins(running.system.ingest.grpc_target, TOKEN, profile)
    return OPERATOR


def _payload(record: Record) -> object:
    return envelope.decode(record.headers, record.value).payload


async def _one(running: Running, topic: str, kind: type, conversation: str, what: str) -> object:
    def keep(record: Record) -> bool:
        payload = _payload(record)
        return isinstance(payload, kind) and getattr(payload, "conversation_id", "") == conversation

    found = await read_records(running.bootstrap_servers, topic, keep, expect=1, timeout=30, settle=0.2)
    assert found, f"no {what} for {conversation} on {topic} within 30 s"
    return _payload(found[0])


def met_first_responses(running: Running, channel: str) -> int:
    """The SLA service's count of first responses met on ``channel`` (its only tenant is TENANT)."""
    with urllib.request.urlopen(f"{running.system.sla.http_url}/metrics", timeout=5) as response:
        return first_responses(response.read().decode()).get(channel, Counter())["met"]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_message_on_the_channel_reaches_an_operator_the_customer_and_the_sla(
    running: Running, online: str, channel: str
) -> None:
    message = CustomerMessage(
        channel=channel,
        customer_id=f"e2e-{channel}",
        name="Giulia Rossi",
        text="Buongiorno, il mio ordine 4512 non è ancora arrivato. Potete verificare?",
        message_id=f"e2e-{channel}-1",
        sent_at=time.time(),
    )
    event_id = await customer_writes(running.system.ingest.http_url, TENANT, message)

    inbound = await read_records(
        running.bootstrap_servers, topics.INBOUND.name, lambda r: header(r, "ce_id") == event_id, expect=1
    )
    received = _payload(inbound[0])
    assert isinstance(received, events_pb2.MessageReceived)
    conversation = received.conversation_id

    assigned = await _one(
        running, topics.CONVERSATIONS.name, events_pb2.ConversationAssigned, conversation, "assignment"
    )
    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert assigned.operator_id == online
    started = await _one(running, topics.SLA.name, events_pb2.SlaClockStarted, conversation, "SLA clock")
    assert isinstance(started, events_pb2.SlaClockStarted)

    def told_who() -> list[str]:
        return [
            r.json["text"]
            for r in running.receiver.answered("/ok/customers")
            if r.json["conversation_id"] == conversation and r.json["kind"] == "assigned"
        ]

    wait_for(told_who, 30, f"the {channel} customer being told who answers")
    assert OPERATOR_NAME in told_who()[0]

    before = met_first_responses(running, channel)
    async with ProntoClient(running.system.ingest.grpc_target, TOKEN) as client:
        await client.operators.PostReply(
            operator_pb2.PostReplyRequest(
                conversation_id=conversation, operator_id=online, text="Controllo subito."
            ),
            metadata=client.metadata,
        )
    met = await _one(running, topics.SLA.name, events_pb2.SlaMet, conversation, "first response met")
    assert isinstance(met, events_pb2.SlaMet)
    assert met.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
    wait_for(
        lambda: met_first_responses(running, channel) == before + 1, 10, f"{channel}'s met counter moving"
    )
