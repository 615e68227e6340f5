"""Checks who should take a conversation among the eligible, the decision log, and nobody online."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.routing.domain.decision import (
    Assign,
    Level,
    Wait,
    decide,
    priority,
)
from services.routing.domain.model import Status
from tests.unit.routing.builders import T0, a_conversation, an_operator, at
from tests.unit.routing.decision_outcomes import assigned_to, reasons

# ---------------------------------------------------------------- preference


def test_the_operator_who_served_the_customer_before_wins_even_when_busier() -> None:
    ana = an_operator("ana", load={"web_chat": 1}, idle_since=at(10))
    bob = an_operator("bob", idle_since=T0)
    conversation = a_conversation(last_operator_id="ana")

    decision = decide(conversation, [bob, ana], at(20))

    assert isinstance(decision, Assign)
    assert decision.operator_id == "ana"
    assert decision.reason == "served this customer before"


def test_the_previous_operator_does_not_win_when_not_eligible() -> None:
    ana = an_operator("ana", status=Status.AWAY)
    bob = an_operator("bob", load={"web_chat": 1})

    assert assigned_to(decide(a_conversation(last_operator_id="ana"), [ana, bob], T0)) == "bob"


def test_the_lowest_load_ratio_wins() -> None:
    # Ana holds more conversations, but in proportion to her capacity she is the less busy.
    ana = an_operator(
        "ana", capacities={"web_chat": 4, "email": 4}, load={"web_chat": 1, "email": 1}, idle_since=at(4)
    )
    bob = an_operator("bob", capacities={"web_chat": 2}, load={"web_chat": 1}, idle_since=T0)

    decision = decide(a_conversation(), [bob, ana], at(5))

    assert isinstance(decision, Assign)
    assert decision.operator_id == "ana"
    assert decision.reason == "lowest load (0.25), then longest idle"


def test_at_equal_load_the_longest_idle_wins() -> None:
    ana = an_operator("ana", idle_since=at(5))
    bob = an_operator("bob", idle_since=at(1))

    assert assigned_to(decide(a_conversation(), [ana, bob], at(10))) == "bob"


def test_an_operator_never_assigned_counts_as_idle_the_longest() -> None:
    ana = an_operator("ana", idle_since=T0 - timedelta(days=365))
    bob = an_operator("bob", idle_since=None)

    assert assigned_to(decide(a_conversation(), [ana, bob], T0)) == "bob"


@pytest.mark.parametrize("order", [["cleo", "bob", "ana"], ["ana", "cleo", "bob"], ["bob", "ana", "cleo"]])
def test_a_full_tie_goes_to_the_smallest_operator_id_whatever_the_order(order: list[str]) -> None:
    operators = [an_operator(name, idle_since=T0) for name in order]

    assert assigned_to(decide(a_conversation(), operators, at(1))) == "ana"


# ---------------------------------------------------------------- the decision log


def test_an_assignment_lists_every_operator_considered_and_why() -> None:
    winner = an_operator("ana", idle_since=T0)
    runner_up = an_operator("bob", load={"web_chat": 1}, idle_since=T0)
    away = an_operator("cleo", status=Status.AWAY)
    full = an_operator("dan", load={"web_chat": 2})
    polish = an_operator("ewa", languages={"pl": 5})
    operators = [away, runner_up, full, polish, winner]

    decision = decide(a_conversation(), operators, at(1))

    assert isinstance(decision, Assign)
    assert decision.operator_id == "ana"
    assert sorted(c.operator_id for c in decision.candidates) == ["ana", "bob", "cleo", "dan", "ewa"]
    assert reasons(decision.candidates) == {
        "ana": "lowest load (0.00), then longest idle",
        "bob": "eligible, ranked lower",
        "cleo": "away",
        "dan": "at capacity on web_chat",
        "ewa": "does not speak it",
    }
    # Eligible candidates come first, best first, scored by their spare capacity.
    assert [c.operator_id for c in decision.candidates[:2]] == ["ana", "bob"]
    assert decision.candidates[0].score == 1.0
    assert decision.candidates[1].score == round(1 - 1 / 8, 4)


def test_a_wait_lists_every_refusal() -> None:
    away = an_operator("cleo", status=Status.AWAY)
    full = an_operator("dan", load={"web_chat": 2})
    polish = an_operator("ewa", languages={"pl": 5})
    conversation = a_conversation(waiting_since=T0)

    decision = decide(conversation, [away, full, polish], at(3))

    assert isinstance(decision, Wait)
    assert decision.conversation_id == "c1"
    assert reasons(decision.candidates) == {
        "cleo": "away",
        "dan": "at capacity on web_chat",
        "ewa": "does not speak it",
    }
    assert decision.reason == "no eligible operator at level EXACT"
    assert decision.priority == priority(conversation, at(3))


def test_a_wait_names_the_level_reached() -> None:
    decision = decide(a_conversation(level=Level.FALLBACK_LANGUAGE), [an_operator(languages={"de": 1})], T0)

    assert isinstance(decision, Wait)
    assert decision.reason == "no eligible operator at level FALLBACK_LANGUAGE"


# ---------------------------------------------------------------- nobody online


@pytest.mark.parametrize(("channel", "offer_email"), [("web_chat", True), ("phone", True), ("email", False)])
def test_nobody_online_on_a_live_channel_offers_an_answer_by_email(channel: str, offer_email: bool) -> None:
    operators = [an_operator("ana", status=Status.AWAY), an_operator("bob", status=Status.OFFLINE)]

    decision = decide(a_conversation(channel=channel), operators, T0)

    assert isinstance(decision, Wait)
    assert decision.reason == "nobody online"
    assert decision.nobody_online is offer_email


def test_no_operators_at_all_is_nobody_online() -> None:
    decision = decide(a_conversation(channel="web_chat"), [], T0)

    assert isinstance(decision, Wait)
    assert decision.nobody_online is True
    assert decision.candidates == ()


def test_operators_online_but_none_eligible_is_not_nobody_online() -> None:
    operators = [an_operator("ana", status=Status.OFFLINE), an_operator("bob", languages={"pl": 5})]

    decision = decide(a_conversation(channel="web_chat"), operators, T0)

    assert isinstance(decision, Wait)
    assert decision.nobody_online is False
    assert decision.reason == "no eligible operator at level EXACT"
