"""An operator's read model: profile and status, from ``support.operators.v1``.

Events of one operator come from one partition, in order; the document keeps
the offset of the last event it took, so a redelivered older event cannot
turn a newer status back, and the ids of its latest events, so that the same
event written twice (a producer's retry, later in the partition) counts once.
Load and daily figures are not kept here: they are counted from the
conversations when asked (``store.port.OperatorStats``), so no counter can
drift from what the conversations say.
"""

from __future__ import annotations

from dataclasses import dataclass

from pronto.channels import channel_name
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.query.domain.entries import Doc, ms
from services.query.domain.entries import enum_name as name_of


@dataclass(frozen=True)
class Position:
    partition: int
    offset: int


# A retried write lands close to the first: the ids of this many latest events are kept.
RECENT = 20


def document_id(tenant: str, operator_id: str) -> str:
    return f"{tenant}/{operator_id}"


def is_operator_event(envelope: Envelope) -> bool:
    return isinstance(envelope.payload, events_pb2.OperatorProfileUpdated | events_pb2.OperatorStatusChanged)


def with_event(current: Doc | None, envelope: Envelope, position: Position) -> Doc | None:
    """The document once ``envelope`` is applied; None when it already holds this event or a later one."""
    seen = current["position"] if current is not None else None
    if seen is not None and seen["partition"] == position.partition and seen["offset"] >= position.offset:
        return None
    if current is not None and envelope.id in current["recent_events"]:
        return None
    payload = envelope.payload
    doc = dict(current) if current is not None else _blank(envelope.tenant, payload.operator_id)  # type: ignore[attr-defined]
    if isinstance(payload, events_pb2.OperatorProfileUpdated):
        doc |= {
            "display_name": payload.display_name,
            "languages": [{"language": s.language, "proficiency": s.proficiency} for s in payload.languages],
            "topics": [name_of(common_pb2.SupportTopic, t, "SUPPORT_TOPIC_") for t in payload.topics],
            "capacities": {channel_name(c.channel): c.max_concurrent for c in payload.capacities},
            "team": payload.team,
        }
    elif isinstance(payload, events_pb2.OperatorStatusChanged) and payload.channel:
        # One channel paused (away, offline) or resumed (online); the operator's status stays.
        paused = set(doc.get("paused_channels", []))
        channel = channel_name(payload.channel)
        resumed = payload.status == events_pb2.OPERATOR_STATUS_ONLINE
        doc["paused_channels"] = sorted(paused - {channel} if resumed else paused | {channel})
    elif isinstance(payload, events_pb2.OperatorStatusChanged):
        status = name_of(events_pb2.OperatorStatus, payload.status, "OPERATOR_STATUS_")
        doc |= {"status": status, "status_reason": payload.reason, "status_since": ms(envelope.time)}
    doc |= {
        "updated_at": ms(envelope.time),
        "position": {"partition": position.partition, "offset": position.offset},
        # Events applied: what concurrent writers compare and set.
        "version": (current or {}).get("version", 0) + 1,
        "recent_events": [*(current or {}).get("recent_events", []), envelope.id][-RECENT:],
    }
    return doc


def _blank(tenant: str, operator_id: str) -> Doc:
    return {
        "_id": document_id(tenant, operator_id),
        "tenant": tenant,
        "operator_id": operator_id,
        "display_name": "",
        "languages": [],
        "topics": [],
        "capacities": {},
        "team": "",
        "status": "offline",
        "status_reason": "",
        "status_since": None,
        "paused_channels": [],
    }
