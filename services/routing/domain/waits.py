"""How long a queued customer will wait: the pace at which the queue was served, else a guess. No I/O.

A customer told "72nd in the queue, about 98 seconds" who then waits eight
minutes has been misinformed. A guess from handling time and the capacity
online assumes every slot frees up at the measured handling time; under
overload, with operators on long conversations, breaks and shift changes, it
is far too short. What the next customers will wait is what the queue has
actually done lately: the time between two conversations leaving it while
others still waited (each gap is one place moved up). ``QueuePace`` keeps the
last ``GAPS_KEPT`` such gaps per channel; their mean is the time each place
ahead of a customer costs.

A gap is measured only while the queue stayed busy (someone was still waiting
when the previous conversation left it), because a queue that emptied says
nothing about how fast it is served. A gap is counted at most ``LONGEST_GAP``:
longer means the team was away (a night, a closure), which is no pace for the
next morning's customers. Until ``MIN_GAPS`` gaps are measured, the guess from
handling time and capacity stands.

How good the estimate is, is itself measured: routing compares the last wait a
customer was told with how long they then waited (``Told.error``), and exports
it as a metric.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

GAPS_KEPT = 30
MIN_GAPS = 3
LONGEST_GAP = timedelta(minutes=30)


@dataclass
class QueuePace:
    """Per channel: recent gaps between conversations leaving a busy queue."""

    gaps: dict[str, deque[float]] = field(default_factory=dict)
    # Channel -> when the last conversation left its queue while others still waited.
    last_left: dict[str, datetime] = field(default_factory=dict)

    def left(self, channel: str, at: datetime, still_waiting: bool) -> None:
        """A queued conversation on ``channel`` was assigned at ``at``; ``still_waiting``: others remain."""
        previous = self.last_left.pop(channel, None)
        if previous is not None:
            gap = min(max(at - previous, timedelta(0)), LONGEST_GAP).total_seconds()
            self.gaps.setdefault(channel, deque(maxlen=GAPS_KEPT)).append(gap)
        if still_waiting:
            self.last_left[channel] = at

    def per_place(self, channel: str) -> timedelta | None:
        """What each place ahead costs on ``channel``, once enough gaps are measured."""
        gaps = self.gaps.get(channel)
        if gaps is None or len(gaps) < MIN_GAPS:
            return None
        return timedelta(seconds=sum(gaps) / len(gaps))


def estimate(position: int, per_place: timedelta | None, handling: timedelta, capacity: int) -> timedelta:
    """The wait of the customer at ``position`` (1 = next).

    From the measured pace when there is one (the customer waits for ``position``
    departures); else each turn of the online operators' capacity ahead costs a
    handling time (nobody online: each customer ahead costs a whole one).
    """
    if per_place is not None:
        return per_place * position
    return handling * (math.ceil(position / capacity) if capacity else position)


@dataclass(frozen=True)
class Told:
    """The last wait a queued customer was told, and when."""

    at: datetime
    wait: timedelta

    def error(self, assigned_at: datetime) -> tuple[float, float]:
        """(waited seconds, told seconds): how long they then waited against what they were told."""
        return max(0.0, (assigned_at - self.at).total_seconds()), self.wait.total_seconds()
