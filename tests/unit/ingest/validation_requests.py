"""Builds the requests the validation tests check: messages, senders, status changes, replies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from tests.support.events import message

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def publish(
    idempotency_key: str = "", conversation_id: str = "conv-1", **fields: Any
) -> ingest_pb2.PublishRequest:
    """A request publishing a valid web chat message, with ``fields`` replaced.

    The channel message id and the sender do not follow ``conversation_id``, so that a
    test of the conversation id sees only its own problem.
    """
    fields = {"channel_message_id": "wc-1", "sender": sender()} | fields
    return ingest_pb2.PublishRequest(
        idempotency_key=idempotency_key, message_received=message(conversation_id, 1, **fields)
    )


def sender(id: str = "cust-1", tier: int = common_pb2.CUSTOMER_TIER_STANDARD) -> common_pb2.Sender:
    fields: dict[str, Any] = {"id": id, "display_name": "Giulia Rossi", "tier": tier}  # tier may be unknown
    return common_pb2.Sender(**fields)


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def status(**fields: Any) -> operator_pb2.SetOperatorStatusRequest:
    values: dict[str, Any] = {"operator_id": "op-7", "status": events_pb2.OPERATOR_STATUS_ONLINE}
    return operator_pb2.SetOperatorStatusRequest(**(values | fields))


def reply(**fields: Any) -> operator_pb2.PostReplyRequest:
    values: dict[str, Any] = {"conversation_id": "conv-1", "operator_id": "op-7", "text": "Arriva domani."}
    return operator_pb2.PostReplyRequest(**(values | fields))


def only_problem(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


def attachment(size_bytes: int = 1024) -> common_pb2.Attachment:
    return common_pb2.Attachment(filename="scontrino.jpg", content_type="image/jpeg", size_bytes=size_bytes)
