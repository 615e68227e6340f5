"""Checks staffing advice from a made-up shop's history: slots, arrivals, handling time, who was online."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pronto_tools.backtest import candidate
from pronto_tools.backtest.staffing import Staffing, hours_by_slot, slot_name, slot_of
from pronto_tools.backtest.synthetic import live
from services.query.domain.staffing import Load, operators_needed_for_chat
from tests.unit.backtest.scenarios import ONE_POLISH_SPEAKER

SCENARIO = ONE_POLISH_SPEAKER


def test_slots_are_hours_of_the_week_in_utc() -> None:
    assert slot_of(datetime(2026, 11, 2, 0, 30, tzinfo=UTC)) == 0  # Monday
    assert slot_of(datetime(2026, 11, 8, 23, 59, tzinfo=UTC)) == 167  # Sunday
    assert slot_name(24 + 18) == "Tue 18:00-19:00"
    pieces = list(
        hours_by_slot(datetime(2026, 11, 2, 8, 30, tzinfo=UTC), datetime(2026, 11, 2, 10, 15, tzinfo=UTC))
    )
    assert pieces == [(8, 0.5), (9, 1.0), (10, 0.25)]


@pytest.fixture(scope="module")
def staffing() -> Staffing:
    history = live(SCENARIO, candidate.routing({}), candidate.sla({}))
    staffing = Staffing()
    for event in [*history.routing, *history.decisions]:
        staffing.observe(event)
    return staffing


def test_one_polish_speaker_is_short_and_two_italians_are_enough(staffing: Staffing) -> None:
    advice = {(a.language, a.slot): a for a in staffing.week({"web_chat": 600.0}, 0.8)}
    assert {slot for _, slot in advice} == set(range(8, 16))  # Monday 08:00 to 16:00
    for slot in range(9, 16):
        polish, italian = advice[("pl", slot)], advice[("it", slot)]
        assert polish.online == pytest.approx(1.0)
        assert italian.online == pytest.approx(2.0)
        assert polish.handling_s == pytest.approx(600.0, rel=0.01)  # resolved 600 s after assignment
        # The figures are Erlang's for what the slot saw: recomputed here from the same inputs.
        load = Load(polish.arrivals_per_hour, polish.handling_s)
        assert polish.needed == operators_needed_for_chat(load, 600.0, 0.8, 2)
    short = [slot for slot in range(9, 16) if advice[("pl", slot)].needed > advice[("pl", slot)].online]
    assert len(short) >= 5
    assert all(advice[("it", slot)].needed <= 2 for slot in range(9, 16))


def test_arrivals_are_per_hour_of_the_slot_covered(staffing: Staffing) -> None:
    advice = staffing.week({"web_chat": 600.0}, 0.8)
    total = sum(a.arrivals_per_hour for a in advice) / 8  # eight one-hour slots, all covered
    assert total == pytest.approx(30, rel=0.25)  # the scenario's 30 an hour, at random
    assert staffing.week({}, 0.8) == []  # no target, no advice
