"""The message an adapter sends for one request, or for a digest of a recipient's held requests. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pronto import event_ids
from pronto.channels import channel_name
from pronto.v1 import events_pb2
from services.notify.delivery.adapters import Outgoing
from services.notify.delivery.partition_state import Request

PROCESSOR = "notify-delivery"
KINDS = {
    events_pb2.RECIPIENT_KIND_CUSTOMER: "customer",
    events_pb2.RECIPIENT_KIND_OPERATOR: "operator",
    events_pb2.RECIPIENT_KIND_SUPERVISOR: "supervisor",
}


def message(requests: list[Request], now: datetime) -> Outgoing:
    """One request as it was asked for; several (all to one recipient) as one digest made at ``now``."""
    first = requests[0]
    r = first.request
    common: dict[str, Any] = {
        "tenant": first.event.tenant,
        "recipient_kind": KINDS.get(r.recipient_kind, "unknown"),
        "recipient": r.recipient,
        "language": r.language,
        "channel": channel_name(r.channel),
    }
    if len(requests) == 1:
        return Outgoing(
            id=r.notification_id,
            kind=r.kind,
            text=r.text,
            conversation_id=r.conversation_id,
            created_at=first.event.time,
            customer_wrote_at=r.customer_wrote_at.ToDatetime(UTC)
            if r.HasField("customer_wrote_at")
            else None,
            thread_message_id=r.thread.message_id,
            thread_references=tuple(r.thread.references),
            thread_subject=r.thread.subject,
            customer_email=r.customer_email,
            operator_name=r.operator_name,
            **common,
        )
    ids = tuple(q.id for q in requests)
    lines = "\n".join(f"- {q.request.text}" for q in requests)
    return Outgoing(
        id=event_ids.derived(PROCESSOR, ",".join(ids), 0),
        kind="digest",
        text=f"{len(requests)} notifications while you were away or busy:\n{lines}",
        conversation_id="",
        created_at=now,
        covers=ids,
        **common,
    )
