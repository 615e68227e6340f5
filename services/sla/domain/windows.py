"""First-response figures per shop and channel over time windows, kept in one-minute buckets. No I/O.

A window is a sum of buckets: tumbling windows are aligned to their size
(the current hour: 10:00-11:00), hopping ones end at the current minute and
move every minute (the last five minutes). The response rate is the share of
conversations started in the window that were answered within 24 hours.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

SIZES = {"1m": 60, "5m": 300, "1h": 3600, "1d": 86400}
ANSWERED_WITHIN = timedelta(hours=24)
KEEP = timedelta(days=2)
# The instants a window may be asked about: a day's room inside what ``datetime`` holds, since a
# window's bounds are computed around the instant (year 1 and 9999 overflowed into a 500).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)


@dataclass
class Bucket:
    responses: list[float] = field(default_factory=list)
    met: int = 0
    started: int = 0
    answered_in_24h: int = 0


@dataclass(frozen=True)
class WindowFigures:
    start: datetime
    end: datetime
    responses: int
    compliance: float | None
    average_s: float | None
    p50_s: float | None
    p90_s: float | None
    p99_s: float | None
    started: int
    response_rate: float | None


def _minute(at: datetime) -> int:
    return int(at.timestamp()) // 60


@dataclass
class ResponseWindows:
    # (tenant, channel) -> minute since the epoch -> bucket
    buckets: dict[tuple[str, str], dict[int, Bucket]] = field(default_factory=lambda: defaultdict(dict))
    # The oldest minute kept at the last pruning: buckets are dropped once per minute, not per tick.
    kept_from: int = 0

    def started(self, tenant: str, channel: str, at: datetime) -> None:
        self._bucket(tenant, channel, at).started += 1

    def responded(
        self, tenant: str, channel: str, started_at: datetime, at: datetime, seconds: float, met: bool
    ) -> None:
        """A first response at ``at`` to a conversation started at ``started_at``."""
        bucket = self._bucket(tenant, channel, at)
        bucket.responses.append(seconds)
        bucket.met += met
        if at - started_at <= ANSWERED_WITHIN:
            self._bucket(tenant, channel, started_at).answered_in_24h += 1

    def prune(self, now: datetime) -> None:
        """Drop buckets older than ``KEEP``, from the oldest made until the first still kept.

        Minute buckets age a minute at a time, so a second call within the same minute has nothing
        to do; and they are made in time order, so each call looks at what it drops and one more
        (it used to scan two days of buckets every minute, a third of a month's replay). A bucket
        made late for an older minute (a response to a conversation started long ago) goes when
        the buckets made before it have gone: within ``KEEP`` of those, and ``figures`` never
        counts it outside its window."""
        oldest = _minute(now - KEEP)
        if oldest <= self.kept_from:
            return
        self.kept_from = oldest
        for buckets in self.buckets.values():
            while buckets:
                first = next(iter(buckets))
                if first >= oldest:
                    break
                del buckets[first]

    def channels(self, tenant: str) -> list[str]:
        return sorted(channel for t, channel in self.buckets if t == tenant)

    def _bucket(self, tenant: str, channel: str, at: datetime) -> Bucket:
        buckets = self.buckets[(tenant, channel)]
        minute = _minute(at)
        bucket = buckets.get(minute)
        if bucket is None:
            bucket = buckets[minute] = Bucket()
        return bucket


def figures(
    parts: Iterable[ResponseWindows], tenant: str, channel: str, size: str, now: datetime, hopping: bool
) -> WindowFigures:
    """A window's figures from the buckets of every part (one per partition a worker owns)."""
    minutes = SIZES[size] // 60
    current = _minute(now)
    first = current - minutes + 1 if hopping else current - current % minutes
    chosen = [
        bucket
        for part in parts
        for minute, bucket in part.buckets.get((tenant, channel), {}).items()
        if first <= minute < first + minutes
    ]
    values = sorted(v for b in chosen for v in b.responses)
    started = sum(b.started for b in chosen)
    met = sum(b.met for b in chosen)
    return WindowFigures(
        start=datetime.fromtimestamp(first * 60, now.tzinfo),
        end=datetime.fromtimestamp((first + minutes) * 60, now.tzinfo),
        responses=len(values),
        compliance=met / len(values) if values else None,
        average_s=statistics.fmean(values) if values else None,
        p50_s=_quantile(values, 0.50),
        p90_s=_quantile(values, 0.90),
        p99_s=_quantile(values, 0.99),
        started=started,
        response_rate=sum(b.answered_in_24h for b in chosen) / started if started else None,
    )


def _quantile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank quantile of sorted values."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
