"""The routing decision: who may take a conversation, who should, and how urgent waiting is."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.routing.domain.decision import (
    Assign,
    Candidate,
    Decision,
    Level,
    Wait,
    decide,
    fits,
    priority,
    refusal,
)
from services.routing.domain.model import Conversation, Operator, Status
from tests.unit.routing.builders import T0, a_conversation, an_operator, at
from tests.unit.routing.test_invariants import profiles


def assigned_to(decision: Decision) -> str:
    assert isinstance(decision, Assign), decision
    return decision.operator_id


def reasons(candidates: tuple[Candidate, ...]) -> dict[str, str]:
    return {candidate.operator_id: candidate.reason for candidate in candidates}


# ---------------------------------------------------------------- eligibility


def test_an_online_operator_with_room_who_speaks_and_covers_the_topic_takes_the_conversation() -> None:
    ana = an_operator("ana")
    conversation = a_conversation()

    assert refusal(ana, conversation) == ""
    assert assigned_to(decide(conversation, [ana], T0)) == "ana"


@pytest.mark.parametrize("status", [Status.AWAY, Status.OFFLINE])
def test_an_operator_who_is_not_online_is_refused_with_their_status(status: Status) -> None:
    ana = an_operator("ana", status=status)
    conversation = a_conversation()

    assert refusal(ana, conversation) == status.value
    decision = decide(conversation, [ana], T0)
    assert isinstance(decision, Wait)
    assert decision.candidates == (Candidate("ana", 0.0, status.value),)


def test_an_operator_who_does_not_handle_the_channel_is_refused() -> None:
    ana = an_operator("ana", capacities={"web_chat": 2, "email": 5})

    assert refusal(ana, a_conversation(channel="phone")) == "does not handle phone"
    assert refusal(ana, a_conversation(channel="email")) == ""


def test_an_operator_full_on_one_channel_still_takes_another_channel() -> None:
    ana = an_operator("ana", capacities={"web_chat": 2, "email": 5}, load={"web_chat": 2, "email": 4})

    assert refusal(ana, a_conversation(channel="web_chat")) == "at capacity on web_chat"
    assert refusal(ana, a_conversation(channel="email")) == ""


def test_a_channel_listed_with_no_capacity_takes_nothing() -> None:
    ana = an_operator("ana", capacities={"phone": 0})

    assert refusal(ana, a_conversation(channel="phone")) == "at capacity on phone"


def test_an_operator_who_does_not_speak_the_language_is_refused() -> None:
    ana = an_operator("ana", languages={"it": 5, "en": 3})

    assert refusal(ana, a_conversation(language="pl")) == "does not speak pl"
    assert refusal(ana, a_conversation(language="en")) == ""


def test_a_conversation_without_a_language_accepts_anyone() -> None:
    mute = an_operator("mute", languages={})

    assert refusal(mute, a_conversation(language="")) == ""
    assert refusal(mute, a_conversation(language="it")) == "does not speak it"


def test_an_operator_who_covers_none_of_the_topics_is_refused() -> None:
    ana = an_operator("ana", topics={"shipping"})

    assert refusal(ana, a_conversation(topics=("billing", "returns"))) == "does not cover billing, returns"


def test_covering_one_of_several_topics_is_enough() -> None:
    ana = an_operator("ana", topics={"returns"})

    assert refusal(ana, a_conversation(topics=("billing", "returns"))) == ""


def test_a_conversation_without_topics_accepts_anyone() -> None:
    specialist = an_operator("spec", topics=("returns",))

    assert refusal(specialist, a_conversation(topics=())) == ""


def test_an_operator_listing_no_topics_is_a_generalist() -> None:
    """Small shops do not split by topic: their operators take every question."""
    generalist = an_operator("gen", topics=())

    assert refusal(generalist, a_conversation(topics=())) == ""
    assert refusal(generalist, a_conversation(topics=("billing",))) == ""


def test_a_conversation_naming_a_team_accepts_only_that_team() -> None:
    conversation = a_conversation(team="vip")

    assert refusal(an_operator("ana", team=""), conversation) == "not in team vip"
    assert refusal(an_operator("bob", team="retail"), conversation) == "not in team vip"
    assert refusal(an_operator("cleo", team="vip"), conversation) == ""


def test_a_conversation_without_a_team_accepts_any_team() -> None:
    assert refusal(an_operator("bob", team="retail"), a_conversation(team="")) == ""


def test_an_operator_who_let_the_conversation_go_unanswered_is_refused() -> None:
    conversation = a_conversation(excluded=frozenset({"ana"}))

    assert refusal(an_operator("ana"), conversation) == "let it go unanswered before"
    assert refusal(an_operator("ana", status=Status.AWAY), conversation) == "away"
    assert refusal(an_operator("bob"), conversation) == ""
    assert assigned_to(decide(conversation, [an_operator("ana"), an_operator("bob")], T0)) == "bob"


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


# ---------------------------------------------------------------- the widening ladder


@pytest.mark.parametrize("level", list(Level))
def test_any_topic_accepts_an_operator_without_the_topic_from_its_level_on(level: Level) -> None:
    shipping_only = an_operator("ana", topics={"shipping"})

    accepted = refusal(shipping_only, a_conversation(topics=("billing",), level=level)) == ""

    assert accepted == (level >= Level.ANY_TOPIC)


@pytest.mark.parametrize("level", list(Level))
def test_fallback_language_accepts_an_english_speaker_from_its_level_on(level: Level) -> None:
    english = an_operator("ana", languages={"en": 5})

    accepted = refusal(english, a_conversation(language="it", level=level)) == ""

    assert accepted == (level >= Level.FALLBACK_LANGUAGE)


@pytest.mark.parametrize("level", list(Level))
def test_fallback_language_never_accepts_a_speaker_of_neither_language(level: Level) -> None:
    german = an_operator("ana", languages={"de": 5})

    assert refusal(german, a_conversation(language="it", level=level)) == "does not speak it"


@pytest.mark.parametrize("level", list(Level))
def test_any_team_ignores_the_team_from_its_level_on(level: Level) -> None:
    retail = an_operator("ana", team="retail")

    accepted = refusal(retail, a_conversation(team="vip", level=level)) == ""

    assert accepted == (level >= Level.ANY_TEAM)


def test_widening_never_relaxes_status_channel_or_capacity() -> None:
    widest = a_conversation(channel="phone", level=Level.ANY_TEAM)

    assert refusal(an_operator("ana", status=Status.AWAY), widest) == "away"
    assert refusal(an_operator("ana", capacities={"email": 1}), widest) == "does not handle phone"
    assert refusal(an_operator("ana", load={"phone": 1}), widest) == "at capacity on phone"


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


# ---------------------------------------------------------------- priority


def test_a_standard_conversation_that_just_arrived_has_no_priority() -> None:
    assert priority(a_conversation(waiting_since=T0), T0) == 0.0
    assert priority(a_conversation(waiting_since=None), at(30)) == 0.0


@pytest.mark.parametrize(
    "urgent",
    [
        pytest.param(a_conversation(tier=1), id="tier"),
        pytest.param(a_conversation(is_public=True), id="public"),
        pytest.param(a_conversation(callback=True), id="callback"),
        pytest.param(a_conversation(waiting_since=at(-1)), id="one minute waited"),
    ],
)
def test_each_urgency_alone_raises_the_priority(urgent: Conversation) -> None:
    standard = a_conversation(waiting_since=T0)

    assert priority(urgent, T0) > priority(standard, T0)


def test_a_higher_tier_raises_the_priority_further() -> None:
    tiers = [priority(a_conversation(tier=tier, waiting_since=T0), T0) for tier in range(4)]

    assert tiers == sorted(set(tiers))


def test_a_public_complaint_is_more_urgent_than_other_public_messages() -> None:
    public = a_conversation(is_public=True, topics=("billing",), waiting_since=T0)
    public_complaint = a_conversation(is_public=True, topics=("billing", "complaint"), waiting_since=T0)

    assert priority(public_complaint, T0) > priority(public, T0)


def test_a_private_complaint_is_not_raised() -> None:
    private_complaint = a_conversation(topics=("complaint",), waiting_since=T0)

    assert priority(private_complaint, T0) == priority(a_conversation(waiting_since=T0), T0)


def test_priority_adds_one_per_minute_waited() -> None:
    conversation = a_conversation(tier=2, callback=True, waiting_since=T0)

    assert priority(conversation, at(7)) - priority(conversation, T0) == pytest.approx(7.0)


conversations = st.builds(
    a_conversation,
    topics=st.lists(st.sampled_from(["billing", "complaint", "returns"]), max_size=3).map(tuple),
    tier=st.integers(0, 3),
    is_public=st.booleans(),
    callback=st.booleans(),
    waiting_since=st.just(T0),
)


@settings(max_examples=200, database=None, deadline=None)
@given(
    conversation=conversations,
    sooner=st.integers(0, 24 * 60),
    later=st.integers(0, 24 * 60),
)
def test_priority_never_falls_while_a_conversation_waits(
    conversation: Conversation, sooner: int, later: int
) -> None:
    sooner, later = sorted((sooner, later))

    before, after = priority(conversation, at(sooner)), priority(conversation, at(later))

    assert before <= after
    if later > sooner:
        assert before < after


@settings(max_examples=500)
@given(
    profiles,
    st.sampled_from(("web_chat", "email", "phone")),
    st.sampled_from(("", "it", "pl", "en")),
    st.lists(st.sampled_from(("billing", "returns", "complaint")), max_size=2),
    st.sampled_from(("", "vip")),
    st.integers(0, 3),
    st.dictionaries(st.sampled_from(("web_chat", "email", "phone")), st.integers(0, 3), max_size=3),
)
def test_the_fast_eligibility_check_agrees_with_the_reasons(
    operator: Operator,
    channel: str,
    language: str,
    topics: list[str],
    team: str,
    level: int,
    load: dict[str, int],
) -> None:
    operator = replace(operator, id="ana", load=load)
    conversation = a_conversation(
        channel=channel, language=language, topics=tuple(topics), team=team, level=level
    )
    assert fits(operator, conversation) == (refusal(operator, conversation) == "")
