"""What SLA clocks tell the worker: started, warned, breached, stopped, retargeted, paused, resumed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.sla.domain.policy import Metric, Target


@dataclass(frozen=True)
class Started:
    metric: Metric
    target: Target
    warn_at: datetime
    deadline: datetime
    # When the clock starts counting: the shop's next opening in business time, else the start.
    opens_at: datetime | None = None


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


@dataclass(frozen=True)
class Retargeted:
    """A clock's target changed with the conversation's priority (the customer's tier).

    The time counted so far carries over (``elapsed``); the new target counts the rest from the
    change, so ``deadline`` is where the remainder runs out (the change itself when the new target
    is already spent), None while the clock is paused. ``target`` None: the new priority has no
    target for this metric, and the clock ended without a result.
    """

    metric: Metric
    target: Target | None
    elapsed: timedelta
    priority: int
    warn_at: datetime | None = None
    deadline: datetime | None = None


@dataclass(frozen=True)
class Paused:
    """A running clock stopped counting: ``state`` says why (``pending``, ``on_hold``,
    ``awaiting_customer``), ``reason`` in the operator's words; ``elapsed`` is what it counted."""

    metric: Metric
    elapsed: timedelta
    state: str
    reason: str = ""


@dataclass(frozen=True)
class Resumed:
    """A paused clock counts again from where it stood: ``state`` is what resumed it (``open``, set by
    the operator, or ``customer_wrote``); the deadline is the new one."""

    metric: Metric
    elapsed: timedelta
    warn_at: datetime
    deadline: datetime
    state: str
    reason: str = ""


Output = Started | Warned | Breached | Stopped | Retargeted | Paused | Resumed
