"""Checks who may take a conversation: status, channel, capacity, language, topics, team, the ladder."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.routing.domain.decision import (
    Candidate,
    Level,
    Wait,
    decide,
    fits,
    refusal,
)
from services.routing.domain.model import Operator, Status
from tests.unit.routing.builders import T0, a_conversation, an_operator
from tests.unit.routing.decision_outcomes import assigned_to
from tests.unit.routing.test_invariants import profiles

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
