"""The made-up shops the backtest's tests replay."""

from __future__ import annotations

from datetime import UTC, datetime

from pronto_tools.backtest.synthetic import Member, Scenario

# Eight hours of a Monday: half the customers write in Polish, one operator speaks it.
ONE_POLISH_SPEAKER = Scenario(
    start=datetime(2026, 11, 2, 8, tzinfo=UTC),
    hours=8,
    messages_per_hour=30,
    team=(
        Member("anna", {"pl": 5, "en": 4}, capacity=2),
        Member("giulia", {"it": 5}, capacity=2),
        Member("marco", {"it": 5}, capacity=2),
    ),
    languages={"it": 0.5, "pl": 0.5},
    channels={"web_chat": 1.0},
    reply_after_s=120,
    resolve_after_s=600,
)
