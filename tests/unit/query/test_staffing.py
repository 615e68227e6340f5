"""Checks Erlang C staffing against published worked examples, within their rounding, and its properties.

The properties: more agents never wait longer; the fewest agents found is the fewest that works.

The examples and where each was read:
- Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked Example",
  https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm: 100 calls in 30 minutes,
  180 s handling, 80% within 20 s: 14 agents, Pw 0.1741, service level 88.8%, ASA 7.8 s, 82.6%
  answered at once, occupancy 71.4% (figures read through a copy of the article; the same
  figures are in the tests of pyworkforce and the README of CRAN's ErlangC).
- Mitan Ltd, "The Erlang-C Formula", http://www.mitan.co.uk/erlang/elgcmath.htm (offline; read
  through copies that quote it): 360 calls per half hour, 4-minute calls, 55 agents, 15 s target:
  occupancy 0.873, Pw 0.239, ASA 8.2 s, service level 0.846.
- jonesthenet, "Erlang uplift", http://www.jonesthenet.com/budgeting/service-levels-erlang/erlang-uplift/
  (read at the source): 250 calls an hour, 330 s handling, 80% within 30 s: "Erlang ... thinks
  we need 28 advisors", 22% more than the 22.9 of the raw workload.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.query.domain.staffing import (
    Load,
    agents_needed,
    average_wait_s,
    operators_needed_for_chat,
    service_level,
    waiting_probability,
)


def test_call_centre_helpers_example() -> None:
    load = Load(arrivals_per_hour=200, handling_s=180)

    agents = agents_needed(load, target_s=20, level=0.8)

    assert load.erlangs == pytest.approx(10)
    assert agents == 14
    assert round(waiting_probability(load.erlangs, agents), 4) == 0.1741
    assert round(service_level(load.erlangs, agents, 180, 20), 3) == 0.888
    assert round(average_wait_s(load.erlangs, agents, 180), 1) == 7.8
    assert round(1 - waiting_probability(load.erlangs, agents), 3) == 0.826
    assert round(load.erlangs / agents, 3) == 0.714
    # With 30% shrinkage the article rosters 14 / 0.7 = 20.
    assert math.ceil(agents / 0.7) == 20


def test_mitans_example() -> None:
    load = Load(arrivals_per_hour=720, handling_s=240)

    assert load.erlangs == pytest.approx(48)
    assert round(load.erlangs / 55, 3) == 0.873
    assert round(waiting_probability(48, 55), 3) == 0.239
    assert round(average_wait_s(48, 55, 240), 1) == 8.2
    assert round(service_level(48, 55, 240, 15), 3) == 0.846


def test_jonesthenets_example() -> None:
    load = Load(arrivals_per_hour=250, handling_s=330)

    agents = agents_needed(load, target_s=30, level=0.8)

    assert round(load.erlangs, 1) == 22.9
    assert agents == 28
    assert round(agents / load.erlangs - 1, 2) == 0.22


def test_an_occupancy_cap_can_ask_for_more_agents_than_the_target() -> None:
    load = Load(arrivals_per_hour=200, handling_s=180)

    assert agents_needed(load, target_s=20, level=0.8, max_occupancy=0.7) == 15


def test_agents_who_cannot_keep_up_all_wait_and_never_answer_in_time() -> None:
    assert waiting_probability(10, 10) == 1.0
    assert service_level(10, 9, 180, 20) == 0.0
    assert average_wait_s(10, 10, 180) == math.inf


def test_nobody_arriving_needs_nobody() -> None:
    assert agents_needed(Load(0, 300), target_s=60, level=0.9) == 0


@pytest.mark.parametrize(
    ("arrivals", "handling", "message"),
    [(-1, 60, "arrivals per hour"), (math.nan, 60, "arrivals per hour"), (10, 0, "handling time")],
)
def test_a_load_that_means_nothing_is_refused(arrivals: float, handling: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Load(arrivals, handling)


def test_a_service_level_or_occupancy_out_of_range_is_refused() -> None:
    load = Load(100, 60)
    with pytest.raises(ValueError, match="service level"):
        agents_needed(load, 20, 1.0)
    with pytest.raises(ValueError, match="occupancy"):
        agents_needed(load, 20, 0.8, max_occupancy=0)


def _factorial_form(erlangs: float, agents: int) -> float:
    """The textbook formula, for checking the recursion where factorials are still exact."""
    queued = erlangs**agents / math.factorial(agents) * agents / (agents - erlangs)
    return queued / (sum(erlangs**k / math.factorial(k) for k in range(agents)) + queued)


@given(st.floats(0.01, 40), st.integers(1, 60))
def test_the_recursion_is_the_textbook_formula(erlangs: float, agents: int) -> None:
    if agents > erlangs:
        assert waiting_probability(erlangs, agents) == pytest.approx(
            _factorial_form(erlangs, agents), rel=1e-9
        )


@given(st.floats(0.01, 300), st.integers(1, 400), st.floats(1, 3600), st.floats(0, 600))
def test_one_more_agent_never_makes_it_worse(
    erlangs: float, agents: int, handling: float, target: float
) -> None:
    waits = waiting_probability(erlangs, agents)
    assert 0 <= waiting_probability(erlangs, agents + 1) <= waits <= 1
    assert service_level(erlangs, agents + 1, handling, target) >= service_level(
        erlangs, agents, handling, target
    )


@given(st.floats(1, 5000), st.floats(10, 3600), st.floats(1, 300), st.floats(0.5, 0.99))
def test_the_agents_needed_are_the_fewest_that_meet_the_target(
    arrivals: float, handling: float, target: float, level: float
) -> None:
    load = Load(arrivals, handling)

    agents = agents_needed(load, target, level)

    assert service_level(load.erlangs, agents, handling, target) >= level
    assert service_level(load.erlangs, agents - 1, handling, target) < level


@given(st.floats(1, 2000), st.floats(30, 1800), st.integers(1, 6))
def test_chats_at_once_divide_the_slots_erlang_c_asks_for(
    arrivals: float, handling: float, chats: int
) -> None:
    load = Load(arrivals, handling)

    operators = operators_needed_for_chat(load, 60, 0.8, chats)

    slots = agents_needed(load, 60, 0.8)
    assert operators == math.ceil(slots / chats)
    assert operators_needed_for_chat(load, 60, 0.8, 1) == slots
    assert (operators - 1) * chats < slots <= operators * chats
