"""Every Kafka topic Pronto uses, with its partitions and configuration.

This is the one place topic names live; services import the constants.
Retention is what a production cluster keeps. The embedded broker enforces
none (its memory engine keeps every record until it stops), so demos and
benchmarks start a fresh broker and keep their runs bounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAY_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    # What the record key is; per-key order is what processors rely on.
    key: str
    configs: dict[str, str] = field(default_factory=dict)


def _retained(days: int) -> dict[str, str]:
    return {"retention.ms": str(days * DAY_MS), "cleanup.policy": "delete"}


INBOUND = TopicSpec("support.inbound.v1", 6, "conversation id", _retained(7))
# What operators did: replies to deliver and resolutions.
OUTBOUND = TopicSpec("support.outbound.v1", 6, "conversation id", _retained(7))
OPERATORS = TopicSpec("support.operators.v1", 3, "operator id", _retained(30))
# SLA's own input: its ticks, the shops' policy changes, and the journal of the order in which it
# read its sources (customer messages, operator replies and resolutions, routing's decisions:
# ``pronto.journal``). A restart replays the sources in that order from SLA's newest snapshot on:
# this topic and the sources must keep well over two snapshot intervals (minutes), and as long as
# SLA may be down.
CLOCKS = TopicSpec("support.clocks.v1", 6, "conversation id", _retained(7))
CONVERSATIONS = TopicSpec("support.conversations.v1", 6, "conversation id", _retained(7))
SLA = TopicSpec("support.sla.v1", 6, "conversation id", _retained(7))
# Requested notifications and their outcomes (delivered, failed), keyed by recipient; delivery
# reads it to know what was already sent.
NOTIFICATIONS = TopicSpec("support.notifications.v1", 6, "tenant/recipient kind/recipient", _retained(7))
# Routing's own input: everything that changes a shop's routing state, re-keyed by tenant so
# that one partition (one worker) decides for a shop. A restart replays it from routing's newest
# snapshot on (retention as for support.clocks.v1).
ROUTING = TopicSpec("support.routing.v1", 6, "tenant", _retained(7))
# Notify's own input: the journal of the order in which it read its sources (customer messages,
# operators' replies, routing's and SLA's events); a restart replays them in that order from
# notify's newest snapshot on (retention as for support.clocks.v1).
NOTIFY = TopicSpec("support.notify.v1", 6, "conversation id", _retained(7))
# Snapshots of routing's, SLA's and notify's partition states (``pronto.kafka.snapshots``): partition
# p holds those of input partition p, so it has as many partitions as their inputs. Compacted: the
# two newest snapshots of each service (two slots) stay, however old, and nothing else does.
SNAPSHOTS = TopicSpec(
    "support.snapshots.v1",
    6,
    "service/slot/chunk",
    {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1", "segment.ms": str(DAY_MS)},
)
DEADLETTER = TopicSpec("support.deadletter.v1", 1, "original key", _retained(30))

ALL: tuple[TopicSpec, ...] = (
    INBOUND,
    OUTBOUND,
    OPERATORS,
    ROUTING,
    CONVERSATIONS,
    CLOCKS,
    SLA,
    NOTIFY,
    NOTIFICATIONS,
    SNAPSHOTS,
    DEADLETTER,
)


def by_name(name: str) -> TopicSpec:
    for spec in ALL:
        if spec.name == name:
            return spec
    raise KeyError(f"unknown topic {name!r}; known: {', '.join(s.name for s in ALL)}")
