"""A conversation's SLA at a glance, computed when asked (issue #21, item 4). No I/O.

The read model keeps what the SLA events said (a clock's state, deadline, what it counted, its
pauses); how much time is left, or by how much a deadline is overrun, depends on the moment of
reading, so it is computed here, for the query API, the operator view and the wallboard alike.
A running clock whose deadline has passed is shown breached at once, before SLA's tick says so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.query.domain.entries import Doc

COUNTING = ("running", "at_risk", "breached")


def at_glance(clock: Doc, now: datetime) -> Doc:
    """``clock`` with ``time_left_s`` and ``overrun_s`` (one of them set while it counts or is paused)
    and its state as of ``now``.

    Counting: the wall-clock time to the deadline (a business-time deadline already skips closed
    hours). Paused: what is left of the target, in the clock's own time (business or calendar), as
    no deadline exists until it resumes.
    """
    state: str = clock.get("state", "running")
    left: float | None = None
    overrun: float | None = None
    deadline = clock.get("deadline")
    if state in COUNTING and deadline is not None:
        seconds = (deadline - now).total_seconds()
        if seconds >= 0:
            left = seconds
        else:
            overrun, state = -seconds, "breached"
    elif state == "paused" and clock.get("target_s") is not None and clock.get("elapsed_s") is not None:
        rest = clock["target_s"] - clock["elapsed_s"]
        left, overrun = (rest, None) if rest >= 0 else (None, -rest)
    return {
        **clock,
        "state": state,
        "pauses": clock.get("pauses", []),
        "time_left_s": None if left is None else round(left, 3),
        "overrun_s": None if overrun is None else round(overrun, 3),
    }


def with_glance(doc: Doc, now: datetime) -> dict[str, Any]:
    """The document with each of its clocks at a glance."""
    return {**doc, "sla": {metric: at_glance(clock, now) for metric, clock in doc["sla"].items()}}
