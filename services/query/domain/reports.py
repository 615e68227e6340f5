"""Daily SLA reports per tenant, channel and metric, counted from one document per SLA event.

Each SLA event is stored once under its event id (``sla_fact``); a report is
counted from those documents when asked. Keeping running counters instead
would need a second write per event that a crash could lose or a redelivery
repeat; counting keyed facts cannot double-count.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from services.query.domain.entries import REPORTED, Doc

# What each counted SLA event type is called in a report row.
COUNTS = {
    "sla_started": "started",
    "sla_warning": "warned",
    "sla_breached": "breached",
    "sla_met": "met",
    "sla_missed": "missed",
}


def local_day(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


def sla_fact(tenant: str, conversation_id: str, entry: Doc, timezone: str) -> Doc | None:
    """The report's document for a timeline entry, or None when reports do not count it."""
    if entry["type"] not in REPORTED:
        return None
    return {
        "_id": entry["id"],
        "tenant": tenant,
        "conversation_id": conversation_id,
        "channel": entry["channel"],
        "metric": entry["metric"],
        "outcome": COUNTS[entry["type"]],
        "at": entry["at"],
        "day": local_day(entry["at"], timezone),
        "elapsed_s": entry.get("elapsed_s"),
    }


def finish(day: str, channel: str, metric: str, counts: dict[str, int], elapsed_total: float) -> Doc:
    """One report row; compliance counts every late answer once, as its breach (SLA's rule)."""
    decided = counts.get("met", 0) + counts.get("breached", 0)
    stopped = counts.get("met", 0) + counts.get("missed", 0)
    return {
        "day": day,
        "channel": channel,
        "metric": metric,
        **{name: counts.get(name, 0) for name in COUNTS.values()},
        "compliance": round(counts.get("met", 0) / decided, 6) if decided else None,
        "average_elapsed_s": round(elapsed_total / stopped, 3) if stopped else None,
    }


def report(facts: Iterable[Doc]) -> list[Doc]:
    """Rows by day, channel and metric, ordered that way: what both stores return."""
    groups: dict[tuple[str, str, str], tuple[dict[str, int], list[float]]] = {}
    for fact in facts:
        counts, elapsed = groups.setdefault((fact["day"], fact["channel"], fact["metric"]), ({}, [0.0]))
        counts[fact["outcome"]] = counts.get(fact["outcome"], 0) + 1
        if fact["outcome"] in ("met", "missed"):
            elapsed[0] += fact["elapsed_s"] or 0.0
    return [finish(*key, counts, elapsed[0]) for key, (counts, elapsed) in sorted(groups.items())]
