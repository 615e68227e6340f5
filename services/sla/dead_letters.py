"""Records SLA gives up on, as dead letters for ``support.deadletter.v1``. No I/O.

A record the worker cannot read, or whose event fails (a policy it cannot use, a
clock that cannot be computed), used to be logged and skipped: its clocks were
lost without trace (issue #26). It now becomes a ``RecordDeadLettered`` with the
reason and the record as it came, so it can be looked at and replayed. The id
derives from the record, so a redelivery writes the same dead letter again, which
consumers deduplicate.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pronto import envelope, event_ids, topics
from pronto.envelope import Envelope
from pronto.errors import EnvelopeError
from pronto.folding import Headers, Out
from pronto.v1 import events_pb2

PROCESSOR = "sla"
# A reason is a diagnosis, not a copy of the input: pydantic's messages quote what was refused.
REASON_CHARS = 2_000


def unreadable_reason(headers: Headers, value: bytes | None) -> str:
    """Why the envelope cannot be read (decoded again: this path is rare, the first decode is hot)."""
    try:
        envelope.decode(headers, value)
    except EnvelopeError as exc:
        return f"cannot read the record: {exc}"
    return "cannot read the record"


def dead_letter(
    source: str,
    partition: int,
    headers: Headers,
    value: bytes | None,
    reason: str,
    event: Envelope | None,
    now: datetime,
) -> Out:
    """The dead letter of one input record of partition ``partition``; ``event`` None: unreadable.
    The fold reads its sources and ``support.clocks.v1`` together and does not say which topic a
    record came from, so the dead letter names none (its event type tells)."""
    letter = events_pb2.RecordDeadLettered(
        processor=PROCESSOR,
        partition=partition,
        event_id=event.id if event else "",
        event_type=event.type if event else "",
        reason=reason[:REASON_CHARS],
        headers=[events_pb2.RecordDeadLettered.Header(key=k, value=v) for k, v in headers],
        value=value or b"",
    )
    if event is not None:
        cause, tenant = event.id, event.tenant
        key = getattr(event.payload, "conversation_id", "") or tenant
    else:
        digest = hashlib.sha256(letter.SerializeToString(deterministic=True)).hexdigest()
        cause, tenant, key = f"unreadable:{digest}", "*", "unreadable"
    letter_id = event_ids.derived(f"{PROCESSOR}-deadletter", cause, 0)
    out_headers, out_value = envelope.encode(
        Envelope(letter_id, source, tenant, letter, event.time if event else now)
    )
    return Out(key.encode(), out_headers, out_value, letter, topic=topics.DEADLETTER.name)
