"""How many operators a queue needs to meet its reply-time target: Erlang C and a multi-chat variant. No I/O.

Erlang C models a queue with Poisson arrivals, exponential handling times, ``agents`` servers
and nobody giving up: the standard sizing model for calls and e-mail. The probability of waiting
is computed through the Erlang B recursion (``B(n) = A·B(n-1) / (n + A·B(n-1))``) rather than
factorials, so it stays exact for hundreds of agents. From it:

- service level: the share answered within ``target_s``, ``1 - Pw·e^(-(N-A)·t/AHT)``;
- average wait (ASA): ``Pw·AHT / (N-A)``;
- agents needed: the fewest ``N`` meeting the service level (and, when asked, an occupancy cap).

Chat: an operator holds several chats at once, so a queue of chats is served by ``operators x
chats_at_once`` slots, each slot busy for the handling time of one chat as measured while
working in parallel (longer than a chat handled alone). That is an approximation (it treats the
slots as independent servers); it is exact for one chat at a time, where it is Erlang C.

No maintained package fits (pyworkforce 0.5.2+ needs Python 3.12 and brings OR-Tools, numpy
and pandas; ErlangCCmath computes on a remote server): docs/decisions.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Load:
    """What a queue is offered in one interval: arrivals per hour and the handling time of each."""

    arrivals_per_hour: float
    handling_s: float

    def __post_init__(self) -> None:
        if not (self.arrivals_per_hour >= 0 and math.isfinite(self.arrivals_per_hour)):
            raise ValueError(f"arrivals per hour must be a finite number >= 0, got {self.arrivals_per_hour}")
        if not (self.handling_s > 0 and math.isfinite(self.handling_s)):
            raise ValueError(f"handling time must be a finite number of seconds > 0, got {self.handling_s}")

    @property
    def erlangs(self) -> float:
        """The traffic: how many agents would be busy all the time, on average."""
        return self.arrivals_per_hour * self.handling_s / 3600


def waiting_probability(erlangs: float, agents: int) -> float:
    """Erlang C: the probability that an arrival waits. 1 when the agents cannot keep up (N <= A)."""
    if agents <= erlangs:
        return 1.0
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = erlangs * blocking / (n + erlangs * blocking)
    return agents * blocking / (agents - erlangs * (1 - blocking))


def service_level(erlangs: float, agents: int, handling_s: float, target_s: float) -> float:
    """The share of arrivals answered within ``target_s``."""
    if agents <= erlangs:
        return 0.0
    waits = waiting_probability(erlangs, agents)
    return 1 - waits * math.exp(-(agents - erlangs) * target_s / handling_s)


def average_wait_s(erlangs: float, agents: int, handling_s: float) -> float:
    """The average speed of answer, in seconds; infinite when the agents cannot keep up."""
    if agents <= erlangs:
        return math.inf
    return waiting_probability(erlangs, agents) * handling_s / (agents - erlangs)


def agents_needed(load: Load, target_s: float, level: float, max_occupancy: float = 1.0) -> int:
    """The fewest agents answering ``level`` (0 to 1) of arrivals within ``target_s``, kept at or
    under ``max_occupancy`` busy. None arriving: none needed."""
    if not 0 < level < 1:
        raise ValueError(f"the service level must be between 0 and 1 (exclusive), got {level}")
    if not 0 < max_occupancy <= 1:
        raise ValueError(f"the occupancy cap must be in (0, 1], got {max_occupancy}")
    erlangs = load.erlangs
    if erlangs == 0:
        return 0
    agents = max(math.floor(erlangs) + 1, math.ceil(erlangs / max_occupancy))
    while service_level(erlangs, agents, load.handling_s, target_s) < level:
        agents += 1
    return agents


def operators_needed_for_chat(load: Load, target_s: float, level: float, chats_at_once: int) -> int:
    """Operators for a chat queue when each holds up to ``chats_at_once`` chats: the chat slots
    Erlang C asks for, shared out (``load.handling_s`` is one chat's time while working in parallel)."""
    if chats_at_once < 1:
        raise ValueError(f"an operator holds at least one chat at once, got {chats_at_once}")
    return math.ceil(agents_needed(load, target_s, level) / chats_at_once)
