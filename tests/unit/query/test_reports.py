"""Daily SLA reports: counted per day in the shop's time zone; compliance is met over met + breached."""

from __future__ import annotations

from datetime import UTC, datetime

from services.query.domain.entries import Doc, conversation_event
from services.query.domain.reports import local_day, report, sla_fact
from tests.support import history

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def facts(conversations: int, timezone: str = "UTC") -> list[Doc]:
    found = []
    for n in range(conversations):
        for envelope in history.conversation("shop", n, START):
            event = conversation_event(envelope)
            assert event is not None
            fact = sla_fact("shop", event.conversation_id, event.entry, timezone)
            if fact is not None:
                found.append(fact)
    return found


def test_a_day_in_the_shops_time_zone() -> None:
    late_evening = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert local_day(late_evening, "UTC") == "2026-11-24"
    assert local_day(late_evening, "Europe/Rome") == "2026-11-25"


def test_rows_by_day_channel_and_metric() -> None:
    rows = report(facts(12))
    assert [(r["channel"], r["metric"]) for r in rows] == [
        ("email", "first_response"),
        ("telegram", "first_response"),
        ("web_chat", "first_response"),
    ]
    total = {k: sum(r[k] for r in rows) for k in ("started", "warned", "breached", "met", "missed")}
    # 12 conversations: 6 answered in time, 3 late (breached, then missed), 3 queued and breached.
    assert total == {"started": 12, "warned": 3, "breached": 6, "met": 6, "missed": 3}
    web_chat = rows[2]  # conversations 0, 3, 6, 9: kinds 0, 3, 2, 1
    assert (web_chat["met"], web_chat["breached"], web_chat["compliance"]) == (2, 2, 0.5)
    assert web_chat["average_elapsed_s"] == round((20 + 20 + 75) / 3, 3)


def test_no_decided_clock_has_no_compliance() -> None:
    started_only = [f for f in facts(1) if f["outcome"] == "started"]
    (row,) = report(started_only)
    assert row["compliance"] is None
    assert row["average_elapsed_s"] is None


def test_entries_that_are_not_sla_events_are_not_counted() -> None:
    envelope = history.conversation("shop", 0, START)[0]
    event = conversation_event(envelope)
    assert event is not None
    assert sla_fact("shop", event.conversation_id, event.entry, "UTC") is None
