"""Limits beyond the operator's capacity per channel (issue #20, item 4): across channels, and per team.

A cap across channels in weighted units (a phone call can count as several chats), and a team's limit on the
open conversations its members hold together, binding while each of them has room. "No limit" is ``None`` (a
team not listed), distinct from 0 (takes nothing).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.routing.domain.decision import Assign, Rules, Wait
from services.routing.domain.model import Operator
from services.routing.domain.tenant import Output, TenantRouting
from services.routing.settings import RoutingSettings, ShopRules
from tests.unit.routing.builders import T0, a_conversation, an_operator, at

ROOMY = {"web_chat": 5, "phone": 2, "email": 10}


def a_shop(rules: Rules, *operators: Operator) -> TenantRouting:
    shop = TenantRouting(rules=rules)
    shop.configure(rules)
    for operator in operators:
        shop.operator_changed(operator, T0)
    return shop


def arrive(shop: TenantRouting, conversation_id: str, channel: str = "web_chat") -> Output:
    return shop.arrive(a_conversation(conversation_id, channel=channel), T0)[-1]


def test_a_phone_call_weighing_three_chats_fills_a_cap_of_four_units() -> None:
    rules = Rules(operator_cap=4, channel_weights={"phone": 3})
    shop = a_shop(rules, an_operator("ana", capacities=ROOMY))

    assert isinstance(arrive(shop, "call", "phone"), Assign)
    assert isinstance(arrive(shop, "chat1"), Assign)  # 4 units of 4
    waiting = arrive(shop, "chat2")

    assert isinstance(waiting, Wait)
    assert [c.reason for c in waiting.candidates] == ["at their cap of 4 units across channels"]
    shop.finished("call", at(1))  # three units back: chat2 is drained into them
    assert "chat2" in shop.assigned


def test_no_limit_is_expressible_for_one_operator_or_one_team() -> None:
    """``null`` lifts the shop's cap for one operator, and a team listed with ``null`` has no limit."""
    rules = ShopRules.model_validate(
        {"operator_cap": 1, "operator_caps": {"ana": None}, "team_limits": {"desk": None}}
    ).rules()
    shop = a_shop(rules, an_operator("ana", capacities=ROOMY, team="desk"))
    for n in range(4):
        assert isinstance(arrive(shop, f"c{n}", "email"), Assign)  # beyond the shop's cap of 1
    assert shop.operators["ana"].cap is None


def test_no_cap_is_not_a_cap_of_zero() -> None:
    assert isinstance(arrive(a_shop(Rules(), an_operator("ana")), "c1"), Assign)
    assert isinstance(arrive(a_shop(Rules(operator_cap=0), an_operator("ana")), "c1"), Wait)
    per_operator = Rules(operator_cap=0, operator_caps={"bea": 2})
    shop = a_shop(per_operator, an_operator("ana"), an_operator("bea"))
    decision = arrive(shop, "c1")
    assert isinstance(decision, Assign)
    assert decision.operator_id == "bea"


def test_a_team_limit_binds_while_its_members_have_room_and_frees_at_a_resolution() -> None:
    rules = Rules(team_limits={"front": 2})
    shop = a_shop(rules, *(an_operator(o, team="front", capacities=ROOMY) for o in ("ana", "bea")))

    assert isinstance(arrive(shop, "c1"), Assign)
    assert isinstance(arrive(shop, "c2"), Assign)
    waiting = arrive(shop, "c3")

    assert isinstance(waiting, Wait)
    assert {c.reason for c in waiting.candidates} == {"team front at its limit of open conversations"}
    outputs = shop.finished("c1", at(1))
    assert [(o.conversation_id, type(o)) for o in outputs] == [("c3", Assign)]


def test_a_team_not_listed_has_no_limit_and_a_limit_of_zero_takes_nothing() -> None:
    rules = Rules(team_limits={"back": 0})
    shop = a_shop(rules, an_operator("ana", team="back"), an_operator("bea", team="front"))
    decision = arrive(shop, "c1")
    assert isinstance(decision, Assign)
    assert decision.operator_id == "bea"


def test_a_raised_limit_drains_the_queue_at_once() -> None:
    shop = a_shop(Rules(team_limits={"front": 1}), an_operator("ana", team="front", capacities=ROOMY))
    arrive(shop, "c1")
    assert isinstance(arrive(shop, "c2"), Wait)

    drained = shop.configure(Rules(team_limits={"front": 3}), at(1))

    assert [(o.conversation_id, type(o)) for o in drained] == [("c2", Assign)]


def test_the_limits_are_settings_with_clear_errors() -> None:
    shop = {"operator_cap": 6, "channel_weights": {"phone": 3}, "team_limits": {"front": 20}}
    rules = RoutingSettings.model_validate({"routing_shops": {"a": shop}}).policy().for_tenant("a").rules
    assert (rules.operator_cap, rules.channel_weights, rules.team_limits) == (6, {"phone": 3}, {"front": 20})
    with pytest.raises(ValidationError, match="channel_weights: unknown channels"):
        RoutingSettings.model_validate({"routing_shops": {"a": {"channel_weights": {"fax": 2}}}})
    with pytest.raises(ValidationError, match="team_limits: must not be negative"):
        RoutingSettings.model_validate({"routing_shops": {"a": {"team_limits": {"front": -1}}}})


steps = st.lists(
    st.tuples(st.booleans(), st.integers(0, 11), st.sampled_from(["web_chat", "phone"])),
    max_size=40,
)


@settings(deadline=None)
@given(steps, st.integers(0, 4), st.one_of(st.none(), st.integers(0, 6)), st.integers(1, 3))
def test_no_team_holds_more_than_its_limit_and_no_operator_more_than_their_cap(
    events: list[tuple[bool, int, str]], team_limit: int, cap: int | None, phone_weight: int
) -> None:
    rules = Rules(
        operator_cap=cap, channel_weights={"phone": phone_weight}, team_limits={"front": team_limit}
    )
    team = [an_operator(f"op{n}", team=("front", "back")[n % 2], capacities=ROOMY) for n in range(4)]
    shop = a_shop(rules, *team)
    for minute, (arrives, n, channel) in enumerate(events):
        now = T0 + timedelta(minutes=minute)
        if arrives:
            shop.arrive(a_conversation(f"c{n}", channel=channel), now)
        else:
            shop.finished(f"c{n}", now)
        holders = [shop.operators[a.operator_id] for a in shop.assigned.values()]
        assert sum(1 for o in holders if o.team == "front") <= team_limit
        assert shop.team_open.get("front", 0) == sum(1 for o in holders if o.team == "front")
        for operator in shop.operators.values():
            assert cap is None or operator.units <= cap
        # Nothing waits that someone could take.
        for conversation in shop.waiting.values():
            assert not any(o.free(conversation.channel) > 0 for o in shop.operators.values()), conversation
