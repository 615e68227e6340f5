"""The wallboard's figures from read-model documents; who a console token is."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from pronto.auth import TokenAuthenticator
from pronto.errors import Unauthenticated
from services.query.console import wallboard
from services.query.console.auth import Caller, ConsoleAuth
from services.query.console.changes import Changes
from services.query.store.port import OperatorStats

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def waiting(channel: str, language: str, since_s: int, created_s: int = 3600) -> dict[str, object]:
    return {
        "channel": channel,
        "language": language,
        "topics": ["orders"],
        "created_at": NOW - timedelta(seconds=created_s),
        "waiting_since": NOW - timedelta(seconds=since_s),
    }


def test_the_queue_by_channel_language_and_topic_with_the_wait_since_routing_lost_it() -> None:
    board = wallboard.queue(
        [waiting("web_chat", "it", 90), waiting("web_chat", "it", 30), waiting("email", "de", 600)], 250, NOW
    )
    assert (board["total"], board["listed"]) == (250, 3)
    assert [(g["channel"], g["waiting"], g["oldest_wait_s"]) for g in board["groups"]] == [
        ("email", 1, 600),
        ("web_chat", 2, 90),
    ]


def row(channel: str, met: int, breached: int) -> dict[str, object]:
    return {"channel": channel, "met": met, "breached": breached}


def test_compliance_against_the_objective_zero_included() -> None:
    rows = wallboard.compliance(
        [row("x", 0, 1)], [row("x", 0, 5), row("email", 19, 1), row("phone", 0, 0)], 0.95
    )
    by_channel = {r["channel"]: r for r in rows}
    assert by_channel["x"]["today"]["compliance"] == 0.0
    assert by_channel["x"]["below_objective"] is True
    assert by_channel["email"]["below_objective"] is False  # 95% meets 95%
    assert by_channel["phone"]["today"]["compliance"] is None
    assert by_channel["phone"]["below_objective"] is False


def test_operators_with_their_load_against_their_capacity() -> None:
    docs = [
        {
            "operator_id": "anna",
            "display_name": "Anna",
            "status": "online",
            "capacities": {"email": 3, "web_chat": 2},
        }
    ]
    (anna,) = wallboard.operators(
        docs, {"anna": OperatorStats(load=4, handled=2, average_first_response_s=12.5)}
    )
    assert (anna["name"], anna["load"], anna["capacity"], anna["handled_today"]) == ("Anna", 4, 5, 2)


def test_attention_lists_breaches_first_then_the_nearest_deadlines() -> None:
    def doc(cid: str, state: str, deadline_s: int) -> dict[str, object]:
        clock = {"state": state, "deadline": NOW + timedelta(seconds=deadline_s)}
        return {
            "conversation_id": cid,
            "channel": "email",
            "operator": None,
            "sla": {"first_response": clock},
        }

    rows = wallboard.attention(
        [doc("a", "at_risk", 60), doc("b", "breached", -30), doc("c", "running", 5), doc("d", "at_risk", 10)],
        NOW,
    )
    assert [r["conversation_id"] for r in rows] == ["b", "d", "a"]


def test_attention_counts_at_read_time_a_passed_deadline_breached_and_a_paused_clock_not_at_all() -> None:
    """Issue #21, item 4: the wallboard's "at risk" is the query API's own computation."""
    late = {"state": "running", "deadline": NOW - timedelta(seconds=90)}
    paused = {"state": "paused", "deadline": None, "target_s": 600.0, "elapsed_s": 590.0}
    docs = [
        {"conversation_id": cid, "channel": "email", "operator": None, "sla": {"resolution": clock}}
        for cid, clock in (("late", late), ("paused", paused))
    ]

    [row] = wallboard.attention(docs, NOW)

    assert (row["conversation_id"], row["state"], row["overrun_s"]) == ("late", "breached", 90.0)


def test_console_tokens_name_a_supervisor_or_one_operator() -> None:
    auth = ConsoleAuth(
        TokenAuthenticator({"shop": SecretStr("supervisor-token")}),
        {"shop": {"sam": SecretStr("sam-token")}, "other": {"sam": SecretStr("other-sam-token")}},
    )
    assert auth.caller("supervisor-token") == Caller("shop")
    assert auth.caller("sam-token") == Caller("shop", "sam")
    assert auth.caller("other-sam-token") == Caller("other", "sam")
    for wrong in ("", None, "nobody"):
        with pytest.raises(Unauthenticated):
            auth.caller(wrong)


async def test_changes_wake_a_listener_of_that_shop_only() -> None:
    changes = Changes()
    publishing = asyncio.create_task(changes.publish(every_s=0.05))
    try:
        seen = changes.version("shop")
        waiting = asyncio.create_task(changes.wait("shop", seen, timeout_s=2))
        other = asyncio.create_task(changes.wait("other", changes.version("other"), timeout_s=0.3))
        await asyncio.sleep(0.1)
        changes.touch("shop")
        assert await waiting == seen + 1
        assert await other == 0  # timed out: nothing changed for it
    finally:
        publishing.cancel()


def test_one_token_for_two_callers_is_refused_at_start() -> None:
    from services.query.settings import QuerySettings

    with pytest.raises(ValueError, match="the same token"):
        QuerySettings(
            query_operator_tokens={"a": {"sam": SecretStr("t-1234")}, "b": {"sam": SecretStr("t-1234")}}
        )
    with pytest.raises(ValueError, match="the same token"):
        QuerySettings(query_operator_tokens={"demo-shop": {"sam": SecretStr("demo-query-token")}})
