"""Operator status and replies go to their topics, keyed as the processors expect."""

from __future__ import annotations

import uuid

import grpc
import pytest

from pronto import envelope, topics
from pronto.broker.embedded import EmbeddedBroker
from pronto.kafka.reader import header, read_records
from pronto.services import IngestService
from pronto.v1 import events_pb2, operator_pb2, operator_pb2_grpc
from tests.plugins.ingest import bearer

pytestmark = pytest.mark.integration


async def test_status_changes_and_replies_are_published(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex[:8]
    async with grpc.aio.insecure_channel(ingest.grpc_target) as channel:
        stub = operator_pb2_grpc.OperatorServiceStub(channel)
        status = await stub.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(
                operator_id=f"op-{run}", status=events_pb2.OPERATOR_STATUS_ONLINE, idempotency_key=f"s-{run}"
            ),
            metadata=bearer("shop-a"),
        )
        again = await stub.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(
                operator_id=f"op-{run}", status=events_pb2.OPERATOR_STATUS_ONLINE, idempotency_key=f"s-{run}"
            ),
            metadata=bearer("shop-a"),
        )
        reply = await stub.PostReply(
            operator_pb2.PostReplyRequest(
                conversation_id=f"c-{run}", operator_id=f"op-{run}", text="Buongiorno!"
            ),
            metadata=bearer("shop-a"),
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.PostReply(
                operator_pb2.PostReplyRequest(conversation_id=f"c-{run}", operator_id="", text=""),
                metadata=bearer("shop-a"),
            )
    assert again.duplicate
    assert again.event_id == status.event_id
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "operator_id is required" in (raised.value.details() or "")

    statuses = await read_records(
        broker.bootstrap_servers, topics.OPERATORS.name, lambda r: r.key == f"op-{run}".encode(), expect=1
    )
    assert [header(r, "ce_id") for r in statuses] == [status.event_id]
    changed = envelope.decode(statuses[0].headers, statuses[0].value)
    assert changed.payload == events_pb2.OperatorStatusChanged(
        operator_id=f"op-{run}", status=events_pb2.OPERATOR_STATUS_ONLINE
    )
    replies = await read_records(
        broker.bootstrap_servers, topics.OUTBOUND.name, lambda r: r.key == f"c-{run}".encode(), expect=1
    )
    assert [header(r, "ce_id") for r in replies] == [reply.event_id]
    replied = envelope.decode(replies[0].headers, replies[0].value).payload
    assert isinstance(replied, events_pb2.OperatorReplied)
    assert (replied.text, replied.operator_id) == ("Buongiorno!", f"op-{run}")
    assert replied.HasField("sent_at")
