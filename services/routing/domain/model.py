"""Operators and conversations as routing sees them: small immutable values, no I/O."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum


class Status(Enum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


@dataclass(frozen=True)
class Operator:
    id: str
    display_name: str
    # Language tag -> proficiency 1 (basic) .. 5 (native).
    languages: dict[str, int]
    topics: frozenset[str]
    # Channel -> conversations handled at once; a channel not listed is not handled.
    capacities: dict[str, int]
    team: str = ""
    status: Status = Status.OFFLINE
    # Channel -> conversations assigned now.
    load: dict[str, int] = field(default_factory=dict)
    # When the operator last got a conversation (or came online): the longest idle goes first.
    idle_since: datetime | None = None
    # When the operator last got a conversation (coming online does not count): round robin.
    last_assigned: datetime | None = None
    # Limits beyond the channel's capacity, set from the shop's rules (``TenantRouting``): units of
    # work across all channels (None: no limit), what one conversation of a channel costs in them
    # (1 unless listed), and whether the operator's team is at its limit of open conversations.
    cap: float | None = None
    weights: Mapping[str, float] = field(default_factory=dict)
    team_full: bool = False
    # Channels the operator paused (issue #20): nothing new on them, their capacity kept for later.
    paused: frozenset[str] = frozenset()
    # Channels that still bring an away operator new conversations: the shop's ``away_channels``.
    away_serves: frozenset[str] = frozenset()

    # Share of the whole capacity in use, computed once: ranking reads it for every decision.
    ratio: float = field(init=False, repr=False, compare=False)
    # Units of ``cap`` in use.
    units: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        capacity = sum(self.capacities.values())
        object.__setattr__(self, "ratio", sum(self.load.values()) / capacity if capacity else 1.0)
        used = sum(count * self.weights.get(channel, 1.0) for channel, count in self.load.items())
        object.__setattr__(self, "units", used)

    def serves(self, channel: str) -> bool:
        """Whether new conversations of ``channel`` may come to them now: online, or away on a
        channel the shop still routes to away operators, and the channel not paused."""
        if channel in self.paused:
            return False
        return self.status is Status.ONLINE or (self.status is Status.AWAY and channel in self.away_serves)

    def room(self, channel: str) -> int:
        """Free places on ``channel`` by its own capacity alone."""
        return self.capacities.get(channel, 0) - self.load.get(channel, 0)

    def free(self, channel: str) -> int:
        """Conversations of ``channel`` the operator can still take: its capacity, within the cap
        across channels and while their team is under its limit."""
        room = self.room(channel)
        if room <= 0 or self.team_full:
            return min(room, 0)
        if self.cap is not None:
            weight = self.weights.get(channel, 1.0)
            if weight > 0:
                room = min(room, math.floor((self.cap - self.units) / weight + 1e-9))
        return room

    def load_ratio(self) -> float:
        return self.ratio

    def with_load(self, channel: str, delta: int, now: datetime | None = None) -> Operator:
        load = dict(self.load)
        load[channel] = max(0, load.get(channel, 0) + delta)
        if now is None or delta <= 0:
            return replace(self, load=load)
        return replace(self, load=load, idle_since=now, last_assigned=now)


@dataclass(frozen=True)
class Conversation:
    id: str
    channel: str
    language: str = ""
    topics: tuple[str, ...] = ()
    # 0 standard .. 3 VIP
    tier: int = 0
    is_public: bool = False
    callback: bool = False
    customer_id: str = ""
    # Who served this customer last: preferred when eligible.
    last_operator_id: str = ""
    team: str = ""
    waiting_since: datetime | None = None
    # How far the match has been widened (see ``ladder``).
    level: int = 0
    # Operators who had it and let it go unanswered: not given it again.
    excluded: frozenset[str] = frozenset()
    # Until then only ``last_operator_id`` may take it (the shop's sticky hold, ``Rules.sticky_hold``).
    hold_until: datetime | None = None
    # When its first response is due, as SLA computed it (``QueueOrder.SLA_TIME_LEFT``); None: no
    # target, or SLA has not said yet.
    deadline: datetime | None = None
    # Its place in the queue, which does not change with time: see ``urgency``.
    urgency: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        arrived = round(self.waiting_since.timestamp() * 1_000_000) if self.waiting_since else 0
        object.__setattr__(self, "urgency", self.points() * 60_000_000 - arrived)

    def points(self) -> int:
        """What it is worth besides its waiting: each point weighs a minute waited."""
        return (
            self.tier * 10
            + (15 if self.is_public and "complaint" in self.topics else 0)
            + (5 if self.is_public else 0)
            + (8 if self.callback else 0)
        )
