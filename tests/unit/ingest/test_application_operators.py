"""Checks ingest's operator requests: status changes, replies and transfers routing must decide."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import pytest

from pronto import event_ids
from pronto.errors import BrokerUnavailable, PermissionDenied
from pronto.v1 import common_pb2, events_pb2, operator_pb2
from services.ingest.errors import InvalidEvent, TransferRefused, TransferUndecided
from tests.unit.ingest.application_world import (
    INCOMING,
    NOW,
    TRACE_ID,
    World,
    reply,
    status,
    trace_id,
    world,
)

# ---------------------------------------------------------------- operators


async def test_a_status_change_is_written_to_operators_keyed_by_operator(w: World) -> None:
    outcome = await w.ingest.set_operator_status("shop-a", status(), traceparent=INCOMING)

    ((topic, key, event),) = w.sink.sent
    assert (topic, key) == ("support.operators.v1", "op-7")
    assert event.payload == events_pb2.OperatorStatusChanged(
        operator_id="op-7", status=events_pb2.OPERATOR_STATUS_AWAY, reason="pausa"
    )
    assert (event.tenant, event.id) == ("shop-a", outcome.event_id)
    assert trace_id(event.traceparent) == TRACE_ID
    assert w.count("accepted", channel="operator") == 1


async def test_a_status_change_with_a_key_is_deduplicated(w: World) -> None:
    first = await w.ingest.set_operator_status("shop-a", status(idempotency_key="s-1"))
    second = await w.ingest.set_operator_status("shop-a", status(idempotency_key="s-1"))

    assert first.event_id == event_ids.from_idempotency_key("shop-a", "operator-status", "s-1")
    assert second.duplicate
    assert len(w.sink.sent) == 1


async def test_status_changes_without_a_key_are_distinct_events(w: World) -> None:
    first = await w.ingest.set_operator_status("shop-a", status())
    second = await w.ingest.set_operator_status("shop-a", status())

    assert first.event_id != second.event_id
    assert len(w.sink.sent) == 2


async def test_an_invalid_status_change_is_refused_and_counted(w: World) -> None:
    with pytest.raises(InvalidEvent, match="status is required"):
        await w.ingest.set_operator_status("shop-a", status(status=events_pb2.OPERATOR_STATUS_UNSPECIFIED))

    assert w.sink.sent == []
    assert w.count("rejected", channel="operator", reason="invalid") == 1


async def test_a_status_change_for_another_tenant_is_forbidden(w: World) -> None:
    with pytest.raises(PermissionDenied):
        await w.ingest.set_operator_status("shop-a", status(tenant="shop-b"))

    assert w.sink.sent == []
    assert w.count("rejected", channel="operator", reason="forbidden") == 1


async def test_a_reply_is_written_to_outbound_keyed_by_conversation(w: World) -> None:
    attachment = common_pb2.Attachment(filename="etichetta.pdf", size_bytes=2048)
    request = reply(attachments=[attachment], awaiting_customer=True, idempotency_key="r-1")

    outcome = await w.ingest.post_reply("shop-a", request)

    ((topic, key, event),) = w.sink.sent
    assert (topic, key) == ("support.outbound.v1", "conv-1")
    assert isinstance(event.payload, events_pb2.OperatorReplied)
    assert event.payload.operator_id == "op-7"
    assert event.payload.text == "Arriva domani."
    assert list(event.payload.attachments) == [attachment]
    assert event.payload.awaiting_customer
    assert event.payload.sent_at.ToDatetime(UTC) == NOW
    assert outcome.event_id == event_ids.from_idempotency_key("shop-a", "reply", "r-1")
    assert w.count("accepted", channel="reply") == 1


async def test_an_empty_reply_is_refused_and_counted(w: World) -> None:
    with pytest.raises(InvalidEvent, match="a reply needs content"):
        await w.ingest.post_reply("shop-a", reply(text=""))

    assert w.sink.sent == []
    assert w.count("rejected", channel="reply", reason="invalid") == 1


async def test_a_reply_for_another_tenant_is_forbidden(w: World) -> None:
    with pytest.raises(PermissionDenied):
        await w.ingest.post_reply("shop-a", reply(tenant="shop-b"))

    assert w.count("rejected", channel="reply", reason="forbidden") == 1


@dataclass
class FakeVerdicts:
    """Routing's answer to each request written, as ``services.ingest.verdicts.Verdicts`` gives it;
    ``broken``: the reader cannot start (no topic, no broker)."""

    answer: Any = None
    broken: Exception | None = None

    async def expect(self, request_event_id: str) -> asyncio.Future[Any]:
        if self.broken is not None:
            raise self.broken
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.answer is not None:
            future.set_result(self.answer)
        return future

    def forget(self, request_event_id: str) -> None:
        pass


def transferring(verdicts: FakeVerdicts, timeout_s: float = 0.2) -> World:
    made = world()
    made.ingest._verdicts = verdicts  # type: ignore[assignment]
    made.ingest.transfer_timeout_s = timeout_s
    return made


TRANSFER = operator_pb2.TransferConversationRequest(
    conversation_id="conv-1", operator_id="ana", to_operator_id="bea", idempotency_key="t-1"
)


async def test_a_transfer_is_written_on_the_conversations_key_and_answered_with_routings_verdict() -> None:
    moved = events_pb2.ConversationReassigned(conversation_id="conv-1", to_operator_id="bea")
    w = transferring(FakeVerdicts(moved))

    made = await w.ingest.transfer("shop-a", TRANSFER)

    assert (made.operator_id, made.queued) == ("bea", False)
    [(topic, key, event)] = w.sink.sent
    assert (topic, key) == ("support.outbound.v1", "conv-1")
    assert isinstance(event.payload, events_pb2.ConversationTransferRequested)
    assert event.id == made.outcome.event_id


async def test_routings_refusal_is_raised_with_the_request_it_wrote() -> None:
    refusal = events_pb2.ConversationTransferRefused(conversation_id="conv-1", reason="bea is away")
    w = transferring(FakeVerdicts(refusal))

    with pytest.raises(TransferRefused, match="bea is away") as refused:
        await w.ingest.transfer("shop-a", TRANSFER)

    assert refused.value.event_id == w.sink.sent[0][2].id


async def test_no_answer_in_time_is_undecided_and_no_reader_is_unavailable_before_writing() -> None:
    w = transferring(FakeVerdicts())
    with pytest.raises(TransferUndecided, match=r"has not answered within 0\.2 s"):
        await w.ingest.transfer("shop-a", TRANSFER)

    broken = transferring(FakeVerdicts(broken=LookupError("topic support.conversations.v1 does not exist")))
    with pytest.raises(BrokerUnavailable, match="cannot follow routing's answers"):
        await broken.ingest.transfer("shop-a", TRANSFER)
    assert broken.sink.sent == []  # nothing written that nobody could answer
