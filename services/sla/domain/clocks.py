"""One conversation's SLA clocks and how its events move them: ``(clocks, event) -> outputs``. No I/O.

Each metric has its own clock, so a next-response clock never touches the
first-response result. A clock counts in business or calendar time as its
target says; a paused clock keeps what it counted and gets a new deadline
when it runs again. Warnings and breaches are outputs of ``tick`` (time
passing) or, for predicted breaches, of queue estimates; a breach no tick
saw pass fires when the clock pauses or stops. Each fires once per clock.
The outputs are the classes of ``clock_outputs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pronto.calendar import BusinessCalendar
from services.sla.domain.clock_outputs import (
    Breached,
    Output,
    Paused,
    Resumed,
    Retargeted,
    Started,
    Stopped,
    Warned,
)
from services.sla.domain.policy import Metric, Policy, Target

ALWAYS = BusinessCalendar.always_open()
RESPONSES = (Metric.FIRST_RESPONSE, Metric.NEXT_RESPONSE)

OPEN = "open"
AWAITING_CUSTOMER = "awaiting_customer"
CUSTOMER_WROTE = "customer_wrote"
# A resolution pauses the resolution clock (``paused_by``); the customer writing again reopens it.
RESOLVED = "resolved"
REOPENED = "reopened"


@dataclass
class Clock:
    metric: Metric
    target: Target
    started_at: datetime
    # The policy's calendar and warning fraction when the clock started: a policy changed later
    # applies to clocks started later, not to this one's deadline or result.
    calendar: BusinessCalendar
    warn_fraction: float
    # Counted before ``running_since`` (while it ran before a pause).
    consumed: timedelta = timedelta(0)
    running_since: datetime | None = None
    deadline: datetime | None = None
    warn_at: datetime | None = None
    # The last instants at which the warning and the breach have not yet fired: they fire as soon as
    # time passes them, when the elapsed time exceeds the fraction or the target. Both are open
    # instants, so a budget that runs out exactly at closing time fires at the next opening, and a
    # reply sent while closed is still in time.
    warn_fires: datetime | None = None
    breach_fires: datetime | None = None
    warned: bool = False
    breached: bool = False
    # What paused it (a pause state, or a reply awaiting the customer); None while it runs. A class
    # attribute by default, so clocks pickled before it existed read None.
    paused_by: str | None = None

    @property
    def paused_for(self) -> str | None:
        """What keeps it paused, None while it runs; a clock paused in a snapshot from before
        ``paused_by`` was kept can only have been paused by a reply awaiting the customer."""
        if self.running_since is not None:
            return None
        return self.paused_by or AWAITING_CUSTOMER

    @classmethod
    def start(cls, metric: Metric, target: Target, at: datetime, policy: Policy) -> Clock:
        calendar = policy.calendar if target.business else ALWAYS
        return cls(metric, target, at, calendar, policy.warn_fraction)

    def run(self, at: datetime) -> tuple[datetime, datetime]:
        """Count from ``at``; returns when it warns and when it is due."""
        self.running_since = at
        deadline = self.deadline = self.calendar.add(
            at, max(timedelta(0), self.target.duration - self.consumed)
        )
        warn_after = self.target.duration * self.warn_fraction - self.consumed
        warn_at = self.warn_at = self.calendar.add(at, warn_after) if warn_after > timedelta(0) else at
        self.warn_fires = self.calendar.next_open(warn_at)
        self.breach_fires = self.calendar.next_open(deadline)
        return warn_at, deadline

    def pause(self, at: datetime) -> list[Output]:
        """Stop counting until ``run``; a breach no tick saw pass fires now (see ``overdue``)."""
        if self.running_since is None:
            return []
        late = self.overdue(at)
        self.consumed = self.elapsed(at)
        self.running_since = self.deadline = self.warn_at = self.warn_fires = self.breach_fires = None
        return late

    def retarget(self, at: datetime, target: Target, policy: Policy) -> list[Output]:
        """Follow ``target`` from ``at`` on, as a clock started then that had counted ``elapsed(at)``
        already: the policy in force gives its calendar and warning fraction. A breach of the old
        target no tick saw pass fires first; a warning or breach already fired is not fired again."""
        running = self.running_since is not None
        late = self.overdue(at)
        self.consumed = self.elapsed(at)
        self.target = target
        self.calendar = policy.calendar if target.business else ALWAYS
        self.warn_fraction = policy.warn_fraction
        self.running_since = self.deadline = self.warn_at = self.warn_fires = self.breach_fires = None
        if running:
            self.run(at)
        return late

    def overdue(self, at: datetime) -> list[Output]:
        """The breach, if the target was exceeded by ``at`` and no tick fired it (the worker was behind).

        Pausing or stopping forgets the deadline, so a breach not fired by then never would be: it
        fires now, once, with the deadline that passed, so that every late answer counts as breached
        exactly once (the read models' compliance and the SLO rules count breaches). The warning is
        then spent too: a warning after its breach says nothing.
        """
        if self.breached or self.deadline is None or self.elapsed(at) <= self.target.duration:
            return []
        self.breached = self.warned = True
        return [Breached(self.metric, self.deadline)]

    def elapsed(self, at: datetime) -> timedelta:
        if self.running_since is None:
            return self.consumed
        return self.consumed + self.calendar.between(self.running_since, at)


@dataclass
class ConversationClocks:
    conversation_id: str
    channel: str
    priority: int = 0
    operator_id: str = ""
    clocks: dict[Metric, Clock] = field(default_factory=dict)
    # An operator answered since the conversation (re)opened: the next message starts a next-response clock.
    answered: bool = False
    # Whom it waits on, as the operator set it: "open", "pending" or "on_hold" (``state_changed``).
    state: str = OPEN
    # When it was resolved, while it can be reopened (``resolved``); None while open. A class
    # attribute by default, so clocks pickled before it existed read None.
    resolved_at: datetime | None = None

    # ---------------------------------------------------------------- events in

    def reprioritized(self, at: datetime, priority: int, policy: Policy) -> list[Output]:
        """The conversation's priority changed: each clock follows its new target (``Clock.retarget``),
        or ends without a result where the new priority has none. Clocks the old priority had no
        target for start when the customer next writes, as any clock does."""
        if priority == self.priority:
            return []
        self.priority = priority
        outputs: list[Output] = []
        for metric, clock in list(self.clocks.items()):
            target = policy.target(self.channel, priority, metric)
            if target == clock.target:
                continue
            if target is None:
                outputs += clock.overdue(at)
                del self.clocks[metric]
                outputs.append(Retargeted(metric, None, clock.elapsed(at), priority))
                continue
            outputs += clock.retarget(at, target, policy)
            outputs.append(
                Retargeted(metric, target, clock.consumed, priority, clock.warn_at, clock.deadline)
            )
        return outputs

    def customer_wrote(self, at: datetime, policy: Policy) -> list[Output]:
        """The customer wrote: the conversation is the shop's again. Every paused clock counts again
        (pending and on hold alike: whoever the shop waited on, the customer now waits on it), then
        the clocks this message starts. Resolved, it reopens (``resolved``)."""
        self.state = OPEN
        outputs = self._reopen(at, policy) if self.resolved_at is not None else []
        outputs += self._resume_all(at, CUSTOMER_WROTE, "")
        response = Metric.NEXT_RESPONSE if self.answered else Metric.FIRST_RESPONSE
        if not any(m in self.clocks for m in RESPONSES):
            outputs += self._start(response, at, policy)
        if Metric.RESOLUTION not in self.clocks:
            outputs += self._start(Metric.RESOLUTION, at, policy)
        return outputs

    def state_changed(self, at: datetime, state: str, reason: str, policy: Policy) -> list[Output]:
        """The operator set the conversation ``open``, ``pending`` or ``on_hold``: the clocks the
        policy pauses in that state stop counting, and those paused by a state no longer in force
        count again (on hold to pending keeps what both pause, resumes what only on hold paused).
        A clock paused by a reply awaiting the customer stays paused until the customer writes,
        unless the operator opens the conversation. A resolved conversation's state changes
        nothing: only the customer reopens it."""
        if self.resolved_at is not None:
            return []
        self.state = state
        pausing = policy.pauses(state)
        outputs: list[Output] = []
        for metric, clock in self.clocks.items():
            if clock.paused_for is not None and metric not in pausing:
                if clock.paused_for != AWAITING_CUSTOMER or state == OPEN:
                    outputs += self._resume(clock, at, state, reason)
            elif clock.running_since is not None and metric in pausing:
                outputs += self._pause(clock, at, state, reason)
        return outputs

    def operator_replied(self, at: datetime, awaiting_customer: bool, policy: Policy) -> list[Output]:
        outputs: list[Output] = []
        for metric in RESPONSES:
            if metric in self.clocks:
                outputs += self._stop(metric, at)
        self.answered = True
        resolution = self.clocks.get(Metric.RESOLUTION)
        if (
            awaiting_customer
            and policy.pause_when_awaiting_customer
            and resolution is not None
            and resolution.running_since is not None
        ):
            outputs += self._pause(resolution, at, AWAITING_CUSTOMER, "")
        return outputs

    def resolved(self, at: datetime, policy: Policy) -> list[Output]:
        """Closed: the resolution clock stops with its result for the time counted so far, and response
        clocks still running end without one. Resolved then counts as paused: within the policy's
        ``reopen_within`` the customer writing reopens the conversation, and the resolution clock
        counts on from where it stood (the time it was resolved never counts); the next resolution
        is judged on the whole time counted. ``resolved_at`` says it can be reopened; None: nothing
        to keep (no resolution clock, or no reopening in this policy)."""
        if self.resolved_at is not None:
            return []  # resolved already
        clock = self.clocks.get(Metric.RESOLUTION)
        outputs = self._stop(Metric.RESOLUTION, at) if clock is not None else []
        self.clocks.clear()
        self.answered = False
        self.state = OPEN
        if clock is not None and policy.reopen_within > timedelta(0):
            clock.pause(at)
            clock.paused_by = RESOLVED
            self.clocks[Metric.RESOLUTION] = clock
            self.resolved_at = at
        return outputs

    def reopenable(self, at: datetime, policy: Policy) -> bool:
        """Resolved, and still within the policy's time for a reopen at ``at``."""
        return self.resolved_at is not None and at - self.resolved_at <= policy.reopen_within

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
            if not clock.warned and now > clock.warn_fires:
                clock.warned = True
                outputs.append(Warned(clock.metric, clock.deadline))
            if not clock.breached and now > clock.breach_fires:
                clock.breached = True
                outputs.append(Breached(clock.metric, clock.deadline))
        return outputs

    def next_due(self) -> datetime | None:
        """The earliest warning or breach not yet fired: ``tick`` fires it as soon as time passes it."""
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
        clock = self.clocks[metric] = Clock.start(metric, target, at, policy)
        warn_at, deadline = clock.run(at)
        opens_at = policy.calendar.next_open(at) if target.business else at
        return [Started(metric, target, warn_at, deadline, opens_at)]

    def _pause(self, clock: Clock, at: datetime, state: str, reason: str) -> list[Output]:
        late = clock.pause(at)
        clock.paused_by = state
        return [*late, Paused(clock.metric, clock.consumed, state, reason)]

    def _resume(self, clock: Clock, at: datetime, state: str, reason: str) -> list[Output]:
        clock.paused_by = None
        warn_at, deadline = clock.run(at)
        return [Resumed(clock.metric, clock.consumed, warn_at, deadline, state, reason)]

    def _reopen(self, at: datetime, policy: Policy) -> list[Output]:
        """The customer wrote after the resolution: within the time for a reopen, the resolution
        clock counts on (``Resumed`` with ``reopened``); later, the conversation starts afresh."""
        reopen = self.reopenable(at, policy)
        self.resolved_at = None
        clock = self.clocks.pop(Metric.RESOLUTION, None)
        if clock is None or not reopen:
            self.clocks.clear()
            return []
        self.clocks[Metric.RESOLUTION] = clock
        return self._resume(clock, at, REOPENED, "")

    def _resume_all(self, at: datetime, state: str, reason: str) -> list[Output]:
        outputs: list[Output] = []
        for clock in self.clocks.values():
            if clock.paused_for is not None:
                outputs += self._resume(clock, at, state, reason)
        return outputs

    def _stop(self, metric: Metric, at: datetime) -> list[Output]:
        """The result; an answer after the deadline that no tick saw pass is a breach first, so that
        every late answer counts as breached once (the SLO rules count breaches)."""
        clock = self.clocks.pop(metric)
        elapsed = clock.elapsed(at)
        late = clock.overdue(at)
        # A clock breached under a target its priority later loosened stays breached.
        met = elapsed <= clock.target.duration and not clock.breached
        return [*late, Stopped(metric, elapsed, clock.target, met=met)]
