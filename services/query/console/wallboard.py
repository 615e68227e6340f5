"""What the supervisor's wallboard shows, from the read models. No I/O.

The queue is every conversation waiting for an operator (queued, or not yet
routed), by channel, language and topic with the oldest wait; operators with
their status, load against capacity and today's figures; first-response
compliance per channel over the last minutes and today against the shop's
objective; the open conversations at risk or breached; routing's latest
decisions with their candidates and reasons.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from services.query.domain.entries import Doc
from services.query.domain.sla_view import at_glance

ATTENTION = ("at_risk", "breached")


def queue(waiting: list[Doc], total: int, now: datetime) -> dict[str, Any]:
    """``waiting``: the longest-waiting conversations (a page of them); ``total``: how many wait."""
    groups: defaultdict[tuple[str, str, str], list[datetime]] = defaultdict(list)
    for doc in waiting:
        since = doc.get("waiting_since") or doc["created_at"]
        groups[(doc["channel"], doc["language"] or "-", (doc["topics"] or ["-"])[0])].append(since)
    rows: list[dict[str, Any]] = [
        {
            "channel": channel,
            "language": language,
            "topic": topic,
            "waiting": len(times),
            "oldest_since": min(times),
            "oldest_wait_s": round(max(0.0, (now - min(times)).total_seconds())),
        }
        for (channel, language, topic), times in groups.items()
    ]
    rows.sort(key=lambda r: (-r["oldest_wait_s"], r["channel"], r["language"], r["topic"]))
    return {"total": total, "listed": len(waiting), "groups": rows}


def operators(docs: list[Doc], stats: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "operator_id": d["operator_id"],
            "name": d["display_name"] or d["operator_id"],
            "status": d["status"],
            "load": stats[d["operator_id"]].load,
            "capacity": sum(d["capacities"].values()),
            "handled_today": stats[d["operator_id"]].handled,
            "average_first_response_s": stats[d["operator_id"]].average_first_response_s,
        }
        for d in docs
    ]


def _figures(rows: list[Doc]) -> dict[str, dict[str, Any]]:
    by_channel: dict[str, dict[str, Any]] = {}
    for row in rows:
        counts = by_channel.setdefault(row["channel"], {"met": 0, "breached": 0})
        counts["met"] += row["met"]
        counts["breached"] += row["breached"]
    for counts in by_channel.values():
        decided = counts["met"] + counts["breached"]
        counts["compliance"] = round(counts["met"] / decided, 4) if decided else None
    return by_channel


def compliance(window: list[Doc], today: list[Doc], objective: float) -> list[dict[str, Any]]:
    recent, daily = _figures(window), _figures(today)
    empty = {"met": 0, "breached": 0, "compliance": None}
    return [
        {
            "channel": channel,
            "window": recent.get(channel, empty),
            "today": daily.get(channel, empty),
            "below_objective": _below(daily.get(channel, empty)["compliance"], objective),
        }
        for channel in sorted({*recent, *daily})
    ]


def _below(compliance: float | None, objective: float) -> bool:
    return compliance is not None and compliance < objective


def attention(open_docs: list[Doc], now: datetime) -> list[dict[str, Any]]:
    """Clocks at risk or breached as of ``now``, by the query API's own computation (``at_glance``):
    a deadline passed is breached before SLA's tick says so; a paused clock needs no one now."""
    rows = []
    for doc in open_docs:
        for metric, stored in doc["sla"].items():
            clock = at_glance(stored, now)
            if clock["state"] in ATTENTION:
                rows.append(
                    {
                        "conversation_id": doc["conversation_id"],
                        "channel": doc["channel"],
                        "metric": metric,
                        "state": clock["state"],
                        "deadline": clock.get("deadline"),
                        "time_left_s": clock["time_left_s"],
                        "overrun_s": clock["overrun_s"],
                        "operator": (doc["operator"] or {}).get("name", ""),
                    }
                )
    rows.sort(key=lambda r: (r["state"] != "breached", r["deadline"] or datetime.max.replace(tzinfo=UTC)))
    return rows


def decisions(docs: list[Doc], count: int = 12) -> list[dict[str, Any]]:
    found = [
        {"conversation_id": d["conversation_id"], "channel": d["channel"], **d["last_decision"]}
        for d in docs
        if d.get("last_decision")
    ]
    found.sort(key=lambda r: (r["at"], r["conversation_id"]), reverse=True)
    return found[:count]
