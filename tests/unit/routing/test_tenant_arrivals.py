"""Checks one shop's routing as conversations arrive and resolve and operators come online or leave."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.routing.domain.decision import Wait
from services.routing.domain.model import Status
from services.routing.domain.tenant import Reassigned
from tests.unit.routing.builders import T0, a_conversation, an_operator, at
from tests.unit.routing.tenant_shops import CHAT_ONLY, a_shop, assignments, holder, queued, waiting_in

# ---------------------------------------------------------------- arrivals


def test_an_arrival_with_an_eligible_operator_is_assigned_at_once() -> None:
    shop = a_shop(an_operator("ana"))

    outputs = shop.arrive(a_conversation("c1"), at(1))

    assert assignments(outputs) == [("c1", "ana")]
    assert len(outputs) == 1
    assert holder(shop, "c1") == "ana"
    assert shop.assigned["c1"].at == at(1)
    assert shop.operators["ana"].load == {"web_chat": 1}
    assert shop.operators["ana"].idle_since == at(1)
    assert shop.waiting == {}


def test_an_arrival_nobody_can_take_waits_in_the_queue_from_now() -> None:
    shop = a_shop(an_operator("ana", languages={"pl": 5}))

    outputs = shop.arrive(a_conversation("c1", tier=1), at(1))

    assert len(outputs) == 1
    wait = outputs[0]
    assert isinstance(wait, Wait)
    assert wait.priority == 10.0
    assert wait.nobody_online is False
    assert shop.waiting["c1"].waiting_since == at(1)
    assert shop.position("c1", at(1)) == 1
    assert shop.assigned == {}


def test_an_arrival_keeps_the_waiting_time_it_already_has() -> None:
    shop = a_shop()

    shop.arrive(a_conversation("c1", waiting_since=T0), at(4))

    assert shop.waiting["c1"].waiting_since == T0


def test_a_second_arrival_of_an_assigned_conversation_changes_nothing() -> None:
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1"), T0)
    assignment = shop.assigned["c1"]

    assert shop.arrive(a_conversation("c1", tier=3), at(1)) == []

    assert shop.assigned == {"c1": assignment}
    assert shop.assigned["c1"].at == T0
    assert shop.operators["ana"].load == {"web_chat": 1}
    assert shop.waiting == {}


def test_a_second_arrival_of_a_waiting_conversation_keeps_its_place() -> None:
    shop = a_shop()
    shop.arrive(a_conversation("c1"), T0)
    shop.arrive(a_conversation("c2"), at(1))

    assert shop.arrive(a_conversation("c1", tier=3), at(2)) == []

    assert shop.waiting["c1"].waiting_since == T0
    assert shop.waiting["c1"].tier == 0
    assert queued(shop, at(2)) == ["c1", "c2"]


# ---------------------------------------------------------------- resolutions


def test_a_resolution_frees_the_capacity_for_the_most_urgent_conversation_the_operator_can_take() -> None:
    shop = a_shop(an_operator("ana", capacities=CHAT_ONLY))
    shop.arrive(a_conversation("c1"), T0)
    waiting_in(shop, ("low", 0), ("high", 2))
    waiting_in(shop, ("polish", 3), language="pl")

    outputs = shop.finished("c1", at(1))

    assert assignments(outputs) == [("high", "ana")]
    assert len(outputs) == 1
    assert set(shop.waiting) == {"low", "polish"}
    assert set(shop.assigned) == {"high"}
    assert shop.operators["ana"].load == {"web_chat": 1}


def test_a_resolution_with_nobody_waiting_only_frees_the_capacity() -> None:
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1"), T0)

    assert shop.finished("c1", at(1)) == []

    assert shop.assigned == {}
    assert shop.operators["ana"].load == {"web_chat": 0}


def test_a_waiting_conversation_resolved_leaves_the_queue() -> None:
    shop = a_shop()
    waiting_in(shop, ("c1", 0), ("c2", 0))

    assert shop.finished("c1", at(1)) == []

    assert queued(shop, at(1)) == ["c2"]


def test_resolving_an_unknown_conversation_changes_nothing() -> None:
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1"), T0)

    assert shop.finished("nope", at(1)) == []

    assert set(shop.assigned) == {"c1"}
    assert shop.operators["ana"].load == {"web_chat": 1}


# ---------------------------------------------------------------- operators coming and going


def test_an_operator_coming_online_takes_the_queue_best_first_and_only_what_they_can_take() -> None:
    shop = a_shop(an_operator("ana", status=Status.OFFLINE))
    waiting_in(shop, ("low", 0), ("high", 2), ("mid", 1))
    waiting_in(shop, ("polish", 3), language="pl")

    outputs = shop.operator_changed(an_operator("ana", capacities={"web_chat": 2}), at(1))

    assert assignments(outputs) == [("high", "ana"), ("mid", "ana")]
    assert len(outputs) == 2
    assert set(shop.waiting) == {"low", "polish"}
    assert shop.operators["ana"].load == {"web_chat": 2}


def test_coming_online_starts_the_idle_clock_and_staying_online_keeps_it() -> None:
    shop = a_shop(an_operator("ana", status=Status.AWAY, idle_since=T0 - timedelta(days=1)))

    shop.operator_changed(an_operator("ana", idle_since=None), at(3))
    assert shop.operators["ana"].idle_since == at(3)

    shop.operator_changed(an_operator("ana", topics={"billing", "returns"}), at(7))
    assert shop.operators["ana"].idle_since == at(3)
    assert shop.operators["ana"].topics == {"billing", "returns"}


@pytest.mark.parametrize("status", [Status.AWAY, Status.OFFLINE])
def test_an_operator_leaving_puts_their_conversations_back_ahead_of_everybody(status: Status) -> None:
    shop = a_shop(an_operator("ana", capacities=CHAT_ONLY))
    shop.arrive(a_conversation("c1"), T0)
    waiting_in(shop, ("vip", 3))

    outputs = shop.operator_changed(an_operator("ana", capacities=CHAT_ONLY, status=status), at(1))

    assert outputs == [Reassigned("c1", "ana", f"operator went {status.value}")]
    assert shop.assigned == {}
    assert shop.operators["ana"].load == {"web_chat": 0}
    assert queued(shop, at(1)) == ["c1", "vip"]
    assert shop.position("c1", at(1)) == 1
    assert shop.boosted == {"c1"}

    # The next operator to come online serves the released conversation first.
    outputs = shop.operator_changed(an_operator("bob", capacities=CHAT_ONLY), at(2))

    assert assignments(outputs) == [("c1", "bob")]
    assert queued(shop, at(2)) == ["vip"]
    assert shop.boosted == set()


def test_a_released_conversation_goes_before_even_one_waiting_since_yesterday() -> None:
    shop = a_shop(an_operator("ana", capacities={"email": 1}))
    shop.arrive(a_conversation("c1", channel="email"), T0)
    shop.arrive(a_conversation("yesterday", channel="email", waiting_since=T0 - timedelta(hours=17)), T0)
    assert set(shop.waiting) == {"yesterday"}

    shop.operator_changed(an_operator("ana", capacities={"email": 1}, status=Status.OFFLINE), at(1))

    assert queued(shop, at(1)) == ["c1", "yesterday"]


def test_an_operator_leaving_hands_their_conversations_to_another_eligible_operator() -> None:
    shop = a_shop(an_operator("ana"), now=T0)
    shop.operator_changed(an_operator("bob"), at(1))
    shop.arrive(a_conversation("c1"), at(2))
    assert holder(shop, "c1") == "ana"

    outputs = shop.operator_changed(an_operator("ana", status=Status.OFFLINE), at(3))

    assert outputs[0] == Reassigned("c1", "ana", "operator went offline")
    assert assignments(outputs[1:]) == [("c1", "bob")]
    assert len(outputs) == 2
    assert holder(shop, "c1") == "bob"
    assert shop.operators["ana"].load == {"web_chat": 0}
    assert shop.operators["bob"].load == {"web_chat": 1}
    assert shop.waiting == {}


def test_a_released_conversation_no_longer_prefers_the_operator_who_left() -> None:
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1", last_operator_id="ana"), T0)

    shop.operator_changed(an_operator("ana", status=Status.AWAY), at(1))

    assert shop.waiting["c1"].last_operator_id == ""


def test_an_operator_leaving_keeps_the_conversations_of_others() -> None:
    shop = a_shop(an_operator("ana"), an_operator("bob", capacities=CHAT_ONLY))
    shop.arrive(a_conversation("c1", last_operator_id="ana"), T0)
    shop.arrive(a_conversation("c2", last_operator_id="bob"), T0)

    outputs = shop.operator_changed(an_operator("ana", status=Status.AWAY), at(1))

    assert outputs == [Reassigned("c1", "ana", "operator went away")]
    assert holder(shop, "c2") == "bob"
    assert set(shop.waiting) == {"c1"}
