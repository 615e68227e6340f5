"""Checks one shop's routing when capacities or channels change under load, and its queue's order."""

from __future__ import annotations

import pytest

from services.routing.domain.decision import priority
from services.routing.domain.tenant import Reassigned, TenantRouting
from tests.unit.routing.builders import T0, a_conversation, an_operator, at
from tests.unit.routing.tenant_shops import a_shop, assignments, queued, waiting_in

# ---------------------------------------------------------------- profile changes under load


def a_shop_where_ana_holds_three_chats() -> TenantRouting:
    """Ana holds c1, c2 and c3 on the web chat, given to her one minute apart from ``T0``."""
    shop = a_shop(an_operator("ana", capacities={"web_chat": 3, "email": 1}))
    for minute, conversation_id in enumerate(("c1", "c2", "c3")):
        shop.arrive(a_conversation(conversation_id), at(minute))
    assert shop.operators["ana"].load == {"web_chat": 3}
    return shop


def test_lowering_the_capacity_of_a_busy_operator_puts_their_newest_conversations_back() -> None:
    shop = a_shop_where_ana_holds_three_chats()

    outputs = shop.operator_changed(an_operator("ana", capacities={"web_chat": 1, "email": 1}), at(3))

    assert outputs == [
        Reassigned("c3", "ana", "capacity lowered"),
        Reassigned("c2", "ana", "capacity lowered"),
    ]
    assert set(shop.assigned) == {"c1"}
    assert shop.operators["ana"].load == {"web_chat": 1}
    assert queued(shop, at(3)) == ["c2", "c3"]
    assert shop.boosted == {"c2", "c3"}


def test_the_conversations_beyond_a_lowered_capacity_go_to_another_eligible_operator() -> None:
    shop = a_shop_where_ana_holds_three_chats()
    shop.operator_changed(an_operator("bob", capacities={"web_chat": 1}), at(3))

    outputs = shop.operator_changed(an_operator("ana", capacities={"web_chat": 1}), at(4))

    assert outputs[:2] == [
        Reassigned("c3", "ana", "capacity lowered"),
        Reassigned("c2", "ana", "capacity lowered"),
    ]
    # Bob has room for one: the longest waiting of the two.
    assert assignments(outputs[2:]) == [("c2", "bob")]
    assert len(outputs) == 3
    assert queued(shop, at(4)) == ["c3"]


def test_an_operator_who_stops_handling_a_channel_gives_back_its_conversations() -> None:
    shop = a_shop(an_operator("ana", capacities={"web_chat": 2, "email": 5}))
    shop.arrive(a_conversation("chat"), T0)

    outputs = shop.operator_changed(an_operator("ana", capacities={"email": 5}), at(1))

    assert outputs == [Reassigned("chat", "ana", "no longer handles web_chat")]
    assert shop.assigned == {}
    assert shop.operators["ana"].load == {"web_chat": 0}


def test_lowering_the_capacity_on_two_channels_at_once_gives_back_the_excess_on_both() -> None:
    shop = a_shop(an_operator("ana", capacities={"web_chat": 2, "email": 2}))
    shop.arrive(a_conversation("chat-1"), T0)
    shop.arrive(a_conversation("chat-2"), at(1))
    shop.arrive(a_conversation("mail-1", channel="email"), at(2))
    shop.arrive(a_conversation("mail-2", channel="email"), at(3))

    outputs = shop.operator_changed(an_operator("ana", capacities={"web_chat": 1, "email": 1}), at(4))

    released = sorted(o.conversation_id for o in outputs if isinstance(o, Reassigned))
    assert released == ["chat-2", "mail-2"], "the newest on each channel goes back"
    assert set(shop.assigned) == {"chat-1", "mail-1"}
    assert shop.operators["ana"].load == {"web_chat": 1, "email": 1}


def test_an_operator_who_stops_handling_one_channel_keeps_the_others() -> None:
    shop = a_shop(an_operator("ana", capacities={"web_chat": 2, "email": 5}))
    shop.arrive(a_conversation("chat"), T0)
    shop.arrive(a_conversation("mail", channel="email"), at(1))

    outputs = shop.operator_changed(an_operator("ana", capacities={"email": 5}), at(2))

    assert outputs == [Reassigned("chat", "ana", "no longer handles web_chat")]
    assert set(shop.assigned) == {"mail"}


# ---------------------------------------------------------------- the queue


def test_the_queue_serves_the_highest_priority_first() -> None:
    shop = a_shop()
    waiting_in(shop, ("standard", 0), ("vip", 3), ("gold", 2))

    assert queued(shop, at(1)) == ["vip", "gold", "standard"]
    assert [shop.position(c, at(1)) for c in ("vip", "gold", "standard")] == [1, 2, 3]


def test_at_equal_priority_the_longest_waiting_goes_first() -> None:
    shop = a_shop()
    old = a_conversation("old", tier=0, waiting_since=T0)
    new = a_conversation("new", tier=1, waiting_since=at(10))
    shop.arrive(new, at(10))
    shop.arrive(old, at(10))
    # Ten minutes waited weigh exactly as much as one tier.
    assert priority(old, at(10)) == priority(new, at(10))

    assert queued(shop, at(10)) == ["old", "new"]


def test_at_equal_priority_and_arrival_the_conversation_id_decides() -> None:
    shop = a_shop()
    waiting_in(shop, ("b", 0), ("c", 0), ("a", 0))

    assert queued(shop, T0) == ["a", "b", "c"]
    assert shop.position("c", T0) == 3


def test_a_conversation_not_waiting_has_no_position() -> None:
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1"), T0)

    with pytest.raises(ValueError, match="c1"):
        shop.position("c1", T0)


def test_an_empty_shop_has_an_empty_queue() -> None:
    assert a_shop().queue(T0) == []
