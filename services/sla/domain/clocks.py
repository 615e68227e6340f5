"""One conversation's SLA clocks and how its events move them: ``(clocks, event) -> outputs``. No I/O.

Each metric has its own clock, so a next-response clock never touches the
first-response result. A clock counts in business or calendar time as its
target says; a paused clock keeps what it counted and gets a new deadline
when it runs again. Warnings and breaches are outputs of ``tick`` (time
passing) or, for predicted breaches, of queue estimates; each fires once
per clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.sla.domain.calendar import BusinessCalendar
from services.sla.domain.policy import Metric, Policy, Target

ALWAYS = BusinessCalendar.always_open()
RESPONSES = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE)


@dataclass(frozen=True)
class Started:
    metric: Metric
    target: Target
    warn_at: datetime
    deadline: datetime


@dataclass(frozen=True)
class Warned:
    metric: Metric
    deadline: datetime
    # From a queue estimate passing the deadline, not from elapsed time.
    predicted: bool = False


@dataclass(frozen=True)
class Breached:
    metric: Metric
    deadline: datetime


@dataclass(frozen=True)
class Stopped:
    """A clock ended by the reply (or resolution) it waited for: met when within target."""

    metric: Metric
    elapsed: timedelta
    target: Target
    met: bool


Output = Started | Warned | Breached | Stopped


@dataclass
class Clock:
    metric: Metric
    target: Target
    started_at: datetime
    # Counted before ``running_since`` (while it ran before a pause).
    consumed: timedelta = timedelta(0)
    running_since: datetime | None = None
    deadline: datetime | None = None
    warn_at: datetime | None = None
    # When the warning and the breach fire: the first open instant at or after warn_at and the
    # deadline. A budget that runs out exactly at closing time fires at the next opening, and a reply
    # sent while closed is still in time.
    warn_fires: datetime | None = None
    breach_fires: datetime | None = None
    warned: bool = False
    breached: bool = False

    def calendar(self, policy: Policy) -> BusinessCalendar:
        return policy.calendar if self.target.business else ALWAYS

    def run(self, at: datetime, policy: Policy) -> tuple[datetime, datetime]:
        """Count from ``at``; returns when it warns and when it is due."""
        calendar = self.calendar(policy)
        self.running_since = at
        deadline = self.deadline = calendar.add(at, max(timedelta(0), self.target.duration - self.consumed))
        warn_after = self.target.duration * policy.warn_fraction - self.consumed
        warn_at = self.warn_at = calendar.add(at, warn_after) if warn_after > timedelta(0) else at
        self.warn_fires = calendar.next_open(warn_at)
        self.breach_fires = calendar.next_open(deadline)
        return warn_at, deadline

    def pause(self, at: datetime, policy: Policy) -> None:
        if self.running_since is not None:
            self.consumed = self.elapsed(at, policy)
            self.running_since = self.deadline = self.warn_at = self.warn_fires = self.breach_fires = None

    def elapsed(self, at: datetime, policy: Policy) -> timedelta:
        if self.running_since is None:
            return self.consumed
        return self.consumed + self.calendar(policy).between(self.running_since, at)


@dataclass
class ConversationClocks:
    conversation_id: str
    channel: str
    priority: int = 0
    operator_id: str = ""
    clocks: dict[Metric, Clock] = field(default_factory=dict)
    # An operator answered since the conversation (re)opened: the next message starts a next-response clock.
    answered: bool = False

    # ---------------------------------------------------------------- events in

    def customer_wrote(self, at: datetime, policy: Policy) -> list[Output]:
        outputs: list[Output] = []
        response = Metric.NEXT_RESPONSE if self.answered else Metric.FIRST_RESPONSE
        if not any(m in self.clocks for m in RESPONSES):
            outputs += self._start(response, at, policy)
        resolution = self.clocks.get(Metric.RESOLUTION)
        if resolution is None:
            outputs += self._start(Metric.RESOLUTION, at, policy)
        elif resolution.running_since is None:
            resolution.run(at, policy)  # the customer answered: the clock runs again
        return outputs

    def operator_replied(self, at: datetime, awaiting_customer: bool, policy: Policy) -> list[Stopped]:
        outputs: list[Stopped] = []
        for metric in RESPONSES:
            if metric in self.clocks:
                outputs.append(self._stop(metric, at, policy))
        self.answered = True
        resolution = self.clocks.get(Metric.RESOLUTION)
        if awaiting_customer and policy.pause_when_awaiting_customer and resolution is not None:
            resolution.pause(at, policy)
        return outputs

    def resolved(self, at: datetime, policy: Policy) -> list[Stopped]:
        """Closed: the resolution clock stops; response clocks still running end without a result."""
        outputs = [self._stop(Metric.RESOLUTION, at, policy)] if Metric.RESOLUTION in self.clocks else []
        self.clocks.clear()
        self.answered = False
        return outputs

    def estimated_answer(self, at: datetime, wait: timedelta) -> list[Output]:
        """Routing's estimate of when a human answers: warn now if that is after the deadline."""
        for metric in RESPONSES:
            clock = self.clocks.get(metric)
            if (
                clock
                and clock.deadline
                and not clock.warned
                and not clock.breached
                and at + wait > clock.deadline
            ):
                clock.warned = True
                return [Warned(metric, clock.deadline, predicted=True)]
        return []

    def tick(self, now: datetime) -> list[Output]:
        outputs: list[Output] = []
        for clock in self.clocks.values():
            if clock.deadline is None or clock.warn_fires is None or clock.breach_fires is None:
                continue
            if not clock.warned and now >= clock.warn_fires:
                clock.warned = True
                outputs.append(Warned(clock.metric, clock.deadline))
            if not clock.breached and now >= clock.breach_fires:
                clock.breached = True
                outputs.append(Breached(clock.metric, clock.deadline))
        return outputs

    def next_due(self) -> datetime | None:
        """When ``tick`` next has something to do: the earliest warning or deadline not yet fired."""
        due = [
            moment
            for clock in self.clocks.values()
            for moment, fired in ((clock.warn_fires, clock.warned), (clock.breach_fires, clock.breached))
            if moment is not None and not fired
        ]
        return min(due, default=None)

    # ---------------------------------------------------------------- internals

    def _start(self, metric: Metric, at: datetime, policy: Policy) -> list[Output]:
        target = policy.target(self.channel, self.priority, metric)
        if target is None:
            return []
        clock = self.clocks[metric] = Clock(metric, target, at)
        warn_at, deadline = clock.run(at, policy)
        return [Started(metric, target, warn_at, deadline)]

    def _stop(self, metric: Metric, at: datetime, policy: Policy) -> Stopped:
        clock = self.clocks.pop(metric)
        elapsed = clock.elapsed(at, policy)
        return Stopped(metric, elapsed, clock.target, met=elapsed <= clock.target.duration)
