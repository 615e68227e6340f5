"""A conversation's read model: a pure function of the set of its events.

Events of one conversation reach the projector from several topics, whose
interleaving differs between a live run and a replay. So the document is not
built by applying events in arrival order: its timeline holds every event
once (keyed by event id), ordered by time, numbered by a per-conversation
sequence, and everything else is summarised from that timeline. Events a
service derives from another carry that event's time (a message and its
clock), or for routing its shop's clock, which never goes back (a reassignment
and the assignment that follows it share it): at equal times they are ordered
as cause before effect (``CAUSAL_ORDER``), then by id. The same
events in any order, any number of times, give the same document; that is
what makes redelivery harmless and a rebuild give identical documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.query.domain.entries import Doc


def document_id(tenant: str, conversation_id: str) -> str:
    return f"{tenant}/{conversation_id}"


def with_entry(current: Doc | None, tenant: str, conversation_id: str, entry: Doc) -> Doc | None:
    """The document once ``entry`` is folded in; None when it holds that event already."""
    timeline = [] if current is None else [dict(e) for e in current["timeline"]]
    if any(e["id"] == entry["id"] for e in timeline):
        return None
    timeline.append(dict(entry))
    return summarise(tenant, conversation_id, timeline)


# At equal times: what causes comes before what it causes.
CAUSAL_ORDER = {
    name: rank
    for rank, name in enumerate(
        (
            "message",
            "reassigned",
            "widened",
            "queued",
            "queue_position",
            "assigned",
            "sla_started",
            "sla_retargeted",
            "reply",
            "state",
            "sla_warning",
            "sla_breached",
            "sla_met",
            "sla_missed",
            # A pause follows the reply or state change that caused it, and a breach fired with it.
            "sla_paused",
            "sla_resumed",
            "resolved",
        )
    )
}


def summarise(tenant: str, conversation_id: str, entries: list[Doc]) -> Doc:
    timeline = sorted(
        entries, key=lambda e: (e["at"], CAUSAL_ORDER.get(e["type"], len(CAUSAL_ORDER)), e["id"])
    )
    for seq, entry in enumerate(timeline, start=1):
        entry["seq"] = seq
    doc: Doc = {
        "_id": document_id(tenant, conversation_id),
        "tenant": tenant,
        "conversation_id": conversation_id,
        "channel": next((e["channel"] for e in timeline if e.get("channel")), "unknown"),
        "status": "new",
        # Whom it waits on, as the operator set it: open (the shop), pending (the customer), on_hold
        # (a third party); a customer's message opens it again.
        "state": "open",
        "customer": None,
        "language": "",
        "subject": "",
        "topics": [],
        # The ad, post or link that brought the customer: the first one a message of it named.
        "referral": None,
        "operator": None,
        "queue": None,
        # Routing's latest decision (assigned or queued), with its candidates and reasons.
        "last_decision": None,
        "created_at": timeline[0]["at"],
        "updated_at": timeline[-1]["at"],
        "last_customer_message_at": None,
        # Since when it has waited for an operator (not routed yet, queued, taken back); None when
        # someone has it or it is resolved.
        "waiting_since": None,
        "messages": 0,
        "replies": 0,
        "first_response": None,
        "resolved_at": None,
        "resolved_by": None,
        # Every time it was resolved: an operator's daily "handled" counts these.
        "resolutions": [],
        "sla": {},
        "timeline": timeline,
        "seq": len(timeline),
    }
    first_message_at: datetime | None = None
    for entry in timeline:
        was = doc["status"]
        _STEPS[entry["type"]](doc, entry)
        if doc["status"] in ("waiting", "queued") and was not in ("waiting", "queued"):
            doc["waiting_since"] = entry["at"]
        elif doc["status"] not in ("waiting", "queued"):
            doc["waiting_since"] = None
        if entry["type"] == "message" and first_message_at is None:
            first_message_at = entry["at"]
        if entry["type"] == "reply" and doc["first_response"] is None and first_message_at is not None:
            seconds = round((entry["at"] - first_message_at).total_seconds(), 3)
            doc["first_response"] = {
                "at": entry["at"],
                "operator_id": entry["operator_id"],
                "seconds": seconds,
            }
    return doc


def _message(doc: Doc, e: Doc) -> None:
    doc["messages"] += 1
    doc["last_customer_message_at"] = e["at"]
    doc["customer"] = doc["customer"] or e["customer"]
    tier = e["customer"]["tier"]
    if tier not in ("unspecified", "unknown") and doc["customer"].get("tier") != tier:
        # A later message naming another tier changes it, as SLA's targets follow it; one naming
        # none keeps it.
        doc["customer"] = {**doc["customer"], "tier": tier}
    doc["language"] = e["language"] or doc["language"]
    doc["subject"] = doc["subject"] or e["subject"]
    doc["topics"] = sorted(set(doc["topics"]) | set(e["topics"]))
    doc["referral"] = doc["referral"] or e.get("referral")  # entries written before it had none
    if doc["status"] == "resolved":  # written again: it is open, and routing finds it someone anew
        doc["operator"] = doc["resolved_at"] = doc["resolved_by"] = None
    if doc["status"] in ("new", "resolved"):
        doc["status"] = "waiting"
    doc["state"] = "open"


def _decided(doc: Doc, e: Doc) -> None:
    keep = (
        "type",
        "at",
        "operator_id",
        "operator_name",
        "reason",
        "level",
        "candidates",
        "position",
        "nobody_online",
    )
    doc["last_decision"] = {k: e[k] for k in keep if k in e}


def _assigned(doc: Doc, e: Doc) -> None:
    _decided(doc, e)
    doc["status"] = "assigned"
    doc["operator"] = {"id": e["operator_id"], "name": e["operator_name"]}
    doc["queue"] = None


def _queued(doc: Doc, e: Doc) -> None:
    _decided(doc, e)
    doc["status"] = "queued"
    doc["operator"] = None
    doc["queue"] = {
        "position": e["position"],
        "estimated_wait_s": e["estimated_wait_s"],
        "nobody_online": e["nobody_online"],
    }


def _queue_position(doc: Doc, e: Doc) -> None:
    if doc["queue"] is not None:
        doc["queue"] = {**doc["queue"], "position": e["position"], "estimated_wait_s": e["estimated_wait_s"]}


def _reassigned(doc: Doc, _e: Doc) -> None:
    # A ConversationAssigned or ConversationQueued follows and says where it went.
    doc["status"] = "waiting"
    doc["operator"] = None


def _reply(doc: Doc, _e: Doc) -> None:
    doc["replies"] += 1


# What SLA's clocks do when the conversation is resolved: a response clock still counting ends
# without a result and without an event of its own (nobody owes that reply any more), so the read
# model ends it here; left running, its passed deadline read as a breach SLA never fired.
_ENDED_BY_RESOLUTION = ("running", "at_risk", "paused")


def _resolved(doc: Doc, e: Doc) -> None:
    doc["sla"] = {
        metric: {**clock, "state": "ended", "deadline": None, "warn_at": None}
        if metric != "resolution" and clock.get("state") in _ENDED_BY_RESOLUTION
        else clock
        for metric, clock in doc["sla"].items()
    }
    doc["status"] = "resolved"
    doc["resolved_at"] = e["at"]
    doc["resolved_by"] = e["operator_id"]
    doc["resolutions"] = [*doc["resolutions"], {"at": e["at"], "operator_id": e["operator_id"]}]
    doc["queue"] = None
    doc["state"] = "open"


def _state(doc: Doc, e: Doc) -> None:
    doc["state"] = e["state"]


def _sla(state: str) -> Any:
    def step(doc: Doc, e: Doc) -> None:
        metric = e["metric"]
        clock = dict(doc["sla"].get(metric) or {})
        if state == "running":
            clock = {
                "state": state,
                "started_at": e["at"],
                "target_s": e["target_s"],
                "warn_at": e["warn_at"],
                "deadline": e["deadline"],
                "business_time": e["business_time"],
                "elapsed_s": None,
                # Each pause: from, to (None while it lasts), the state that caused it, the reason.
                "pauses": [],
                "warned": False,
                "breached": False,
            }
        elif state in ("met", "missed"):
            clock |= {"state": state, "elapsed_s": e["elapsed_s"], "target_s": e["target_s"]}
        elif state == "retargeted":
            if clock.get("state") in (None, "met", "missed"):
                return  # a clock not started here, or already settled
            # The new target counts from the change; a breach already fired stays one.
            clock |= {k: e[k] for k in ("target_s", "warn_at", "deadline", "business_time")}
            if e["switched_off"]:
                clock["state"] = "switched_off"
        elif state == "paused":
            if clock.get("state") in (None, "met", "missed", "switched_off"):
                return
            pause = {"from": e["at"], "to": None, "state": e["state"], "reason": e["reason"]}
            clock |= {"state": "paused", "elapsed_s": e["elapsed_s"], "deadline": None, "warn_at": None}
            clock["pauses"] = [*clock.get("pauses", []), pause]
        elif state == "resumed":
            pauses = [dict(p) for p in clock.get("pauses", [])]
            if e["state"] == "reopened" and clock.get("state") in ("met", "missed"):
                # Resolved counted as a pause: from the resolution to the customer's new message.
                since = doc["resolutions"][-1]["at"] if doc["resolutions"] else e["at"]
                pauses.append({"from": since, "to": None, "state": "resolved", "reason": ""})
            elif clock.get("state") != "paused":
                return
            if pauses and pauses[-1]["to"] is None:
                pauses[-1] |= {"to": e["at"], "resumed_by": e["state"]}
            again = "breached" if clock.get("breached") else "at_risk" if clock.get("warned") else "running"
            clock |= {
                "state": again,
                "elapsed_s": e["elapsed_s"],
                "deadline": e["deadline"],
                "warn_at": e["warn_at"],
                "pauses": pauses,
            }
        elif clock.get("state") not in ("met", "missed"):
            # A warning or breach fired with a pause (no tick saw it pass) leaves the clock paused.
            breached = clock.get("breached", False) or state == "breached"
            clock |= {"warned": True, "breached": breached}
            if clock.get("state") != "paused":
                clock |= {"state": "breached" if breached else state, "deadline": e["deadline"]}
        doc["sla"] = {**doc["sla"], metric: clock}

    return step


def _nothing(_doc: Doc, _e: Doc) -> None:
    """Kept in the timeline; changes nothing else."""


_STEPS = {
    "message": _message,
    "assigned": _assigned,
    "queued": _queued,
    "queue_position": _queue_position,
    "widened": _nothing,
    "reassigned": _reassigned,
    "transfer_refused": _nothing,
    "reply": _reply,
    "resolved": _resolved,
    "state": _state,
    "sla_started": _sla("running"),
    "sla_retargeted": _sla("retargeted"),
    "sla_warning": _sla("at_risk"),
    "sla_breached": _sla("breached"),
    "sla_met": _sla("met"),
    "sla_missed": _sla("missed"),
    "sla_paused": _sla("paused"),
    "sla_resumed": _sla("resumed"),
}
