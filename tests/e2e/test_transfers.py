"""Transfers, presence per channel and a team's limit through the real services (issue #20).

The services are ingest's operator API, routing, notify, SLA, each a process of its own on a real broker.

Ana and Bea each have room for one web chat. Ana holds ``t-1``, Bea ``t-2``:
- Ana's transfer of ``t-1`` to Bea, who is full, is refused over REST with routing's reason, and
  nothing about the conversation changes: no reassignment, nobody is told anything.
- Once Bea resolved ``t-2``, the same transfer over gRPC is made: the answer names Bea, the customer
  is told Bea's name once in their language, Bea is told she has it, and the first-response clock
  keeps running (not restarted).
- A supervisor moves ``t-3`` (Ana's next) to Bea, full again, with an override: it is made, and the
  override is on the event.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest

from pronto import envelope, topics
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import Record, read_records
from pronto.v1 import common_pb2, events_pb2, operator_pb2
from tests.e2e.conftest import ALWAYS_OPEN, TOKEN, Running, whole_system
from tests.e2e.publishing import operator_joins, publish_all
from tests.support.events import message
from tests.support.receivers import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    policy = ALWAYS_OPEN | {"response": {"web_chat": {"minutes": 30, "business": False}}}
    # Team "desk" (only the limits test's operators are in it) holds at most 2 open conversations.
    env = {"routing": {"PRONTO_ROUTING_DEFAULT_SHOP": json.dumps({"team_limits": {"desk": 2}})}}
    with whole_system(Path(tmp_path_factory.mktemp("e2e-transfers")), sla_policy=policy, env=env) as running:
        yield running


def _payload(record: Record) -> object:
    return envelope.decode(record.headers, record.value).payload


def _desk(operator_id: str) -> events_pb2.OperatorProfileUpdated:
    return events_pb2.OperatorProfileUpdated(
        operator_id=operator_id,
        display_name=operator_id.title(),
        languages=[events_pb2.LanguageSkill(language="it", proficiency=5)],
        capacities=[events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=1)],
    )


async def _about(running: Running, conversation_id: str, topic: str, expect: int = 0) -> list[object]:
    records = await read_records(
        running.bootstrap_servers,
        topic,
        lambda r: r.key == conversation_id.encode(),
        expect=expect,
        timeout=30 if expect else 3,
        settle=1.0,
    )
    return [_payload(r) for r in records]


def _kinds(payloads: list[object]) -> list[str]:
    """What happened to a conversation, but its queueing: an operator's status and a customer's
    message reach routing through different topics, so a chat may queue a moment before its
    operator is seen online."""
    queueing = (events_pb2.ConversationQueued, events_pb2.QueuePositionChanged)
    return [type(p).__name__ for p in payloads if not isinstance(p, queueing)]


def _told(running: Running, path: str, conversation_id: str) -> list[dict[str, Any]]:
    return [
        r.json for r in running.receiver.answered(path) if r.json.get("conversation_id") == conversation_id
    ]


async def _chat(running: Running, conversation_id: str, holder: str) -> None:
    """A customer writes on the web chat and ``holder`` gets it."""
    chat = message(conversation_id, 0, channel=common_pb2.CHANNEL_WEB_CHAT)
    await asyncio.sleep(1.0)  # the operator's status, on its own topic, reaches routing first
    await publish_all(running.system.ingest.grpc_target, TOKEN, [chat], rate=10)
    [assigned] = [
        p
        for p in await _about(running, conversation_id, topics.CONVERSATIONS.name, expect=1)
        if isinstance(p, events_pb2.ConversationAssigned)
    ]
    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert assigned.operator_id == holder


@pytest.mark.timeout(240)
async def test_a_transfer_to_a_full_colleague_is_refused_then_made_once_she_has_room(
    running: Running,
) -> None:
    target, http_url = running.system.ingest.grpc_target, running.system.ingest.http_url
    await operator_joins(target, TOKEN, _desk("ana"))
    await _chat(running, "t-1", "ana")
    await operator_joins(target, TOKEN, _desk("bea"))
    await _chat(running, "t-2", "bea")
    wait_for(
        lambda: any(n["kind"] == "assigned" for n in _told(running, "/ok/customers", "t-1")),
        30,
        "t-1's customer told who answers",
    )
    await asyncio.sleep(1.0)  # and anything else about it
    customer_before = _told(running, "/ok/customers", "t-1")

    # Refused: Bea is full. REST answers 409 with routing's reason; nothing about t-1 changes.
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{http_url}/v1/conversations/t-1/transfer",
            json={"operatorId": "ana", "toOperatorId": "bea", "reason": "Bea knows this order"},
            headers={"authorization": f"Bearer {TOKEN}"},
        ) as response,
    ):
        refused = await response.json()
        assert response.status == 409, refused
    assert "bea is at capacity on web_chat (1 of 1)" in refused["detail"]
    await asyncio.sleep(2.0)
    after = await _about(running, "t-1", topics.CONVERSATIONS.name)
    assert _kinds(after) == ["ConversationAssigned", "ConversationTransferRefused"]
    assert _told(running, "/ok/customers", "t-1") == customer_before
    assert not _told(running, "/ok/operators", "t-1")[1:], "someone was told of a refused transfer"

    # Bea resolves t-2: the same transfer, over gRPC, is made.
    async with ProntoClient(target, TOKEN) as client:
        await client.operators.ResolveConversation(
            operator_pb2.ResolveConversationRequest(conversation_id="t-2", operator_id="bea"),
            metadata=client.metadata,
        )
        await asyncio.sleep(1.0)  # routing frees Bea's place
        made = await client.operators.TransferConversation(
            operator_pb2.TransferConversationRequest(
                conversation_id="t-1", operator_id="ana", to_operator_id="bea", reason="Bea knows this order"
            ),
            metadata=client.metadata,
        )
    assert (made.operator_id, made.queued) == ("bea", False)

    conversation = await _about(running, "t-1", topics.CONVERSATIONS.name, expect=4)
    assert _kinds(conversation) == [
        "ConversationAssigned",
        "ConversationTransferRefused",
        "ConversationReassigned",
        "ConversationAssigned",
    ]
    [moved] = [p for p in conversation if isinstance(p, events_pb2.ConversationReassigned)]
    assert (moved.from_operator_id, moved.to_operator_id) == ("ana", "bea")
    assert (moved.transfer.by_operator_id, moved.transfer.reason) == ("ana", "Bea knows this order")

    # The customer hears Bea's name once; Bea hears she has it.
    wait_for(lambda: len(_told(running, "/ok/customers", "t-1")) > len(customer_before), 30, "customer told")
    await asyncio.sleep(2.0)  # a second notice would come now
    new = _told(running, "/ok/customers", "t-1")[len(customer_before) :]
    assert [n["kind"] for n in new] == ["assigned"], new
    assert "Bea" in new[0]["text"]
    assert [n["recipient"]["id"] for n in _told(running, "/ok/operators", "t-1")] == ["ana", "bea"]

    # The first-response clock is not restarted by the transfer: one start, no retarget.
    clocks = [
        p
        for p in await _about(running, "t-1", topics.SLA.name)
        if getattr(p, "metric", None) == events_pb2.SLA_METRIC_FIRST_RESPONSE
    ]
    assert _kinds(clocks).count("SlaClockStarted") == 1
    assert "SlaClockRetargeted" not in _kinds(clocks)


@pytest.mark.timeout(180)
async def test_a_supervisor_moves_a_conversation_to_a_full_colleague_with_an_override(
    running: Running,
) -> None:
    target = running.system.ingest.grpc_target
    await _chat(running, "t-3", "ana")  # Ana gave t-1 away; Bea holds it
    async with ProntoClient(target, TOKEN) as client:
        request = operator_pb2.TransferConversationRequest(
            conversation_id="t-3", by_supervisor=True, to_operator_id="bea", reason="VIP account"
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await client.operators.TransferConversation(request, metadata=client.metadata)
        assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert "bea is at capacity" in (refused.value.details() or "")

        request.override_capacity = True
        made = await client.operators.TransferConversation(request, metadata=client.metadata)
    assert made.operator_id == "bea"
    moved = [
        p
        for p in await _about(running, "t-3", topics.CONVERSATIONS.name, expect=3)
        if isinstance(p, events_pb2.ConversationReassigned)
    ]
    assert len(moved) == 1
    assert moved[0].transfer.by_supervisor
    assert moved[0].transfer.capacity_overridden


async def _status(running: Running, operator_id: str, body: dict[str, str]) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.put(
            f"{running.system.ingest.http_url}/v1/operators/{operator_id}/status",
            json=body,
            headers={"authorization": f"Bearer {TOKEN}"},
        ) as response,
    ):
        assert response.status == 202, await response.text()


async def _routed(running: Running, conversation_id: str, expect: int = 1) -> list[object]:
    """Routing's decisions about a conversation: assignments and queueing."""
    kinds = (events_pb2.ConversationAssigned, events_pb2.ConversationQueued)
    return [
        p
        for p in await _about(running, conversation_id, topics.CONVERSATIONS.name, expect=expect)
        if isinstance(p, kinds)
    ]


@pytest.mark.timeout(180)
async def test_an_away_operator_keeps_receiving_email_but_no_chat_and_a_paused_channel_resumes(
    running: Running,
) -> None:
    """Presence per channel (issue #20, item 2). Cleo alone speaks Finnish and handles e-mail; she
    goes away: a Finnish e-mail still comes to her, a Finnish chat waits. She pauses e-mail: the
    next one waits too; she resumes it and it comes to her with the capacity she had."""
    target = running.system.ingest.grpc_target
    cleo = events_pb2.OperatorProfileUpdated(
        operator_id="cleo",
        display_name="Cleo",
        languages=[events_pb2.LanguageSkill(language="fi", proficiency=5)],
        capacities=[
            events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=2),
            events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_EMAIL, max_concurrent=3),
        ],
    )
    await operator_joins(target, TOKEN, cleo)
    await _status(running, "cleo", {"status": "away", "reason": "lunch"})
    await asyncio.sleep(1.0)  # her status, on its own topic, reaches routing before the messages
    email = message("p-mail-1", 0, channel=common_pb2.CHANNEL_EMAIL, language="fi")
    chat = message("p-chat-1", 0, channel=common_pb2.CHANNEL_WEB_CHAT, language="fi")
    await publish_all(target, TOKEN, [email, chat], rate=10)

    [to_cleo] = await _routed(running, "p-mail-1")
    assert isinstance(to_cleo, events_pb2.ConversationAssigned)
    assert to_cleo.operator_id == "cleo"
    [waits] = await _routed(running, "p-chat-1")
    assert isinstance(waits, events_pb2.ConversationQueued)
    assert [(c.operator_id, c.reason) for c in waits.candidates] == [("cleo", "away")]

    await _status(running, "cleo", {"status": "away", "channel": "email", "reason": "inbox zero first"})
    await asyncio.sleep(1.0)
    second = message("p-mail-2", 0, channel=common_pb2.CHANNEL_EMAIL, language="fi")
    await publish_all(target, TOKEN, [second], rate=10)
    [paused] = await _routed(running, "p-mail-2")
    assert isinstance(paused, events_pb2.ConversationQueued)
    assert [(c.operator_id, c.reason) for c in paused.candidates] == [("cleo", "paused email")]

    await _status(running, "cleo", {"status": "online", "channel": "email"})
    resumed = await _routed(running, "p-mail-2", expect=2)
    assert isinstance(resumed[-1], events_pb2.ConversationAssigned)
    assert resumed[-1].operator_id == "cleo"
    [still_waiting] = await _routed(running, "p-chat-1")  # away: no chat, even with e-mail resumed
    assert isinstance(still_waiting, events_pb2.ConversationQueued)


@pytest.mark.timeout(180)
async def test_a_team_limit_holds_while_its_operators_have_room(running: Running) -> None:
    """Dag and Eva, team desk, have room for 3 chats each, but the team may hold 2 open
    conversations together: the third Swedish chat waits, saying so, until one is resolved."""
    target = running.system.ingest.grpc_target
    for name in ("dag", "eva"):
        profile = events_pb2.OperatorProfileUpdated(
            operator_id=name,
            display_name=name.title(),
            languages=[events_pb2.LanguageSkill(language="sv", proficiency=5)],
            capacities=[events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_WEB_CHAT, max_concurrent=3)],
            team="desk",
        )
        await operator_joins(target, TOKEN, profile)
    await asyncio.sleep(1.0)
    chats = [message(f"team-{n}", 0, channel=common_pb2.CHANNEL_WEB_CHAT, language="sv") for n in range(3)]
    await publish_all(target, TOKEN, chats, rate=10)

    holders = {}
    for n in range(2):
        [assigned] = await _routed(running, f"team-{n}")
        assert isinstance(assigned, events_pb2.ConversationAssigned)
        holders[f"team-{n}"] = assigned.operator_id
    assert sorted(holders.values()) == ["dag", "eva"]  # each with room for two more
    [third] = await _routed(running, "team-2")
    assert isinstance(third, events_pb2.ConversationQueued)
    assert {c.reason for c in third.candidates} == {"team desk at its limit of open conversations"}

    async with ProntoClient(target, TOKEN) as client:
        await client.operators.ResolveConversation(
            operator_pb2.ResolveConversationRequest(conversation_id="team-0", operator_id=holders["team-0"]),
            metadata=client.metadata,
        )
    drained = await _routed(running, "team-2", expect=2)
    assert isinstance(drained[-1], events_pb2.ConversationAssigned)
