"""A pending conversation's resolution clock stops and resumes when the customer writes, end to end.

Issue #21, item 1, through the whole system.

The customer e-mails; the operator sets the conversation pending over ingest's gRPC operator API
(SetConversationState), with a reason; SLA pauses the resolution clock (SlaClockPaused) and leaves
the first-response clock running (the default policy); seconds later the customer writes again and
the clock counts again (SlaClockResumed) with the time counted before the pause, so its deadline
moved by at least the seconds it stood still.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, timedelta
from typing import Any

import pytest

from pronto import envelope, topics
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import read_records
from pronto.v1 import common_pb2, events_pb2, operator_pb2
from tests.e2e.conftest import TOKEN, Running, whole_system
from tests.e2e.publishing import publish_all

pytestmark = pytest.mark.integration

STOOD_STILL = 3.0


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with whole_system(tmp_path_factory.mktemp("e2e-pause")) as running:
        yield running


def _email(conversation: str, text: str) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=common_pb2.CHANNEL_EMAIL,
        channel_message_id=f"{conversation}-{time.time_ns()}",
        sender=common_pb2.Sender(id=f"{conversation}@example.com"),
        text=text,
    )


async def _sla(running: Running, conversation: str, expect: int) -> list[Any]:
    records = await read_records(
        running.bootstrap_servers,
        topics.SLA.name,
        lambda r: r.key == conversation.encode(),
        expect=expect,
        timeout=30,
        settle=0.5,
    )
    return [envelope.decode(r.headers, r.value).payload for r in records]


@pytest.mark.timeout(180)
async def test_a_pending_conversations_resolution_clock_stops_and_resumes_when_the_customer_writes(
    running: Running,
) -> None:
    conversation = "e2e-pending"
    target = running.system.ingest.grpc_target
    await publish_all(target, TOKEN, [_email(conversation, "Dov'è il mio ordine?")], rate=10)
    started = {p.metric: p for p in await _sla(running, conversation, expect=2)}
    resolution = started[events_pb2.SLA_METRIC_RESOLUTION]
    assert isinstance(resolution, events_pb2.SlaClockStarted)

    async with ProntoClient(target, TOKEN) as client:
        await client.operators.SetConversationState(
            operator_pb2.SetConversationStateRequest(
                conversation_id=conversation,
                operator_id="op-e2e",
                state=events_pb2.CONVERSATION_STATE_PENDING,
                reason="asked for the order number",
            ),
            metadata=client.metadata,
        )
    [paused] = [
        p for p in await _sla(running, conversation, expect=3) if isinstance(p, events_pb2.SlaClockPaused)
    ]
    assert paused.metric == events_pb2.SLA_METRIC_RESOLUTION  # the first response is still owed
    assert (paused.state, paused.reason) == ("pending", "asked for the order number")

    await asyncio.sleep(STOOD_STILL)
    await publish_all(target, TOKEN, [_email(conversation, "Il numero è 12345")], rate=10)
    events = await _sla(running, conversation, expect=4)
    [resumed] = [p for p in events if isinstance(p, events_pb2.SlaClockResumed)]

    assert resumed.metric == events_pb2.SLA_METRIC_RESOLUTION
    assert resumed.state == "customer_wrote"
    assert resumed.elapsed == paused.elapsed  # nothing counted while pending
    moved = resumed.deadline.ToDatetime(UTC) - resolution.deadline.ToDatetime(UTC)
    assert moved >= timedelta(seconds=STOOD_STILL)
    # One clock of each metric: the customer's second message restarted nothing.
    assert [type(p).__name__ for p in events].count("SlaClockStarted") == 2


@pytest.mark.timeout(180)
async def test_a_resolved_conversation_reopened_by_the_customer_counts_its_resolution_clock_on(
    running: Running,
) -> None:
    """Resolved counts as paused until a reopen: the resolution's result for the time counted so
    far, then, when the customer writes again, the same clock counts on from there."""
    conversation = "e2e-reopened"
    target = running.system.ingest.grpc_target
    await publish_all(target, TOKEN, [_email(conversation, "Il pacco è arrivato rotto")], rate=10)
    started = {p.metric: p for p in await _sla(running, conversation, expect=2)}
    resolution = started[events_pb2.SLA_METRIC_RESOLUTION]
    async with ProntoClient(target, TOKEN) as client:
        await client.operators.ResolveConversation(
            operator_pb2.ResolveConversationRequest(
                conversation_id=conversation, operator_id="op-e2e", idempotency_key="e2e-reopened-resolve"
            ),
            metadata=client.metadata,
        )
    [met] = [p for p in await _sla(running, conversation, expect=3) if isinstance(p, events_pb2.SlaMet)]
    assert met.metric == events_pb2.SLA_METRIC_RESOLUTION

    await asyncio.sleep(STOOD_STILL)
    await publish_all(target, TOKEN, [_email(conversation, "Nessuno mi ha risposto sul rimborso")], rate=10)
    events = await _sla(running, conversation, expect=5)
    [reopened] = [p for p in events if isinstance(p, events_pb2.SlaClockResumed)]

    assert (reopened.metric, reopened.state) == (events_pb2.SLA_METRIC_RESOLUTION, "reopened")
    assert reopened.elapsed == met.elapsed  # nothing counted while resolved
    moved = reopened.deadline.ToDatetime(UTC) - resolution.deadline.ToDatetime(UTC)
    assert moved >= timedelta(seconds=STOOD_STILL)
    # A new first response is owed; the resolution clock is the same one.
    started_again = [p.metric for p in events if isinstance(p, events_pb2.SlaClockStarted)]
    assert started_again.count(events_pb2.SLA_METRIC_FIRST_RESPONSE) == 2
    assert started_again.count(events_pb2.SLA_METRIC_RESOLUTION) == 1
