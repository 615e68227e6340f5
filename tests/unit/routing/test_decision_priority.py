"""Checks how urgent a waiting conversation is: tier, public complaints, callbacks, minutes waited."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.routing.domain.decision import (
    priority,
)
from services.routing.domain.model import Conversation
from tests.unit.routing.builders import T0, a_conversation, at

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
