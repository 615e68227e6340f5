"""Transfers (issue #20, item 1): to a named colleague, to a team, back to the queue.

A supervisor may move any conversation and override a colleague's capacity. A refused transfer changes
nothing."""

from __future__ import annotations

import copy

import pytest

from pronto.v1 import events_pb2
from services.routing.domain.decision import Assign, Rules
from services.routing.domain.model import Operator, Status
from services.routing.domain.tenant import Ladder, Reassigned, TenantRouting
from services.routing.domain.transfer import Transfer, TransferRefused
from services.routing.shop import Shop
from tests.unit.routing.builders import T0, a_conversation, an_operator, at
from tests.unit.routing.shop_events import POLICY, event, kinds, message, online, payloads, profile

LADDER = Ladder()


def a_shop(*operators: Operator, rules: Rules | None = None) -> TenantRouting:
    shop = TenantRouting()
    if rules is not None:
        shop.configure(rules)
    for operator in operators:
        shop.operator_changed(operator, T0)
    return shop


def held_by_ana(*others: Operator, rules: Rules | None = None) -> TenantRouting:
    """``c1`` (a web chat) with Ana, who has room for one chat; ``others`` online after it came."""
    shop = a_shop(an_operator("ana", capacities={"web_chat": 1}), rules=rules)
    shop.arrive(a_conversation("c1"), T0)
    for operator in others:
        shop.operator_changed(operator, T0)
    assert shop.assigned["c1"].operator_id == "ana"
    return shop


def unchanged(shop: TenantRouting, transfer: Transfer) -> TransferRefused:
    before = copy.deepcopy((shop.operators, shop.waiting, shop.assigned, shop.boosted, shop.team_open))
    outputs = shop.transfer(transfer, at(1), LADDER)
    assert (shop.operators, shop.waiting, shop.assigned, shop.boosted, shop.team_open) == before
    assert len(outputs) == 1
    assert isinstance(outputs[0], TransferRefused)
    return outputs[0]


def test_the_holder_hands_it_to_a_colleague_with_room() -> None:
    shop = held_by_ana(an_operator("bea", languages={"en": 5}))  # skills are the holder's judgment

    outputs = shop.transfer(Transfer("c1", "ana", to_operator="bea", reason="speaks English"), at(1))

    reassigned, assigned = outputs
    assert isinstance(reassigned, Reassigned)
    assert isinstance(assigned, Assign)
    assert (reassigned.from_operator_id, assigned.operator_id) == ("ana", "bea")
    assert reassigned.reason == "transferred to bea by ana: speaks English"
    assert shop.assigned["c1"].operator_id == "bea"
    assert (shop.operators["ana"].load["web_chat"], shop.operators["bea"].load["web_chat"]) == (0, 1)


def test_the_holders_freed_place_goes_to_whoever_waits() -> None:
    """Found by the state-machine property: a transfer to a named colleague frees its holder."""
    shop = held_by_ana(an_operator("bea", languages={"en": 5}))
    shop.arrive(a_conversation("c2"), T0)  # Italian: only Ana, who is full
    assert "c2" in shop.waiting

    outputs = shop.transfer(Transfer("c1", "ana", to_operator="bea"), at(1))

    assert [(o.conversation_id, o.operator_id) for o in outputs if isinstance(o, Assign)] == [
        ("c1", "bea"),
        ("c2", "ana"),
    ]


def test_a_colleague_at_capacity_is_refused_and_nothing_changes() -> None:
    shop = held_by_ana(an_operator("bea", capacities={"web_chat": 1}))
    shop.arrive(a_conversation("c2"), T0)  # Bea's one chat
    assert shop.assigned["c2"].operator_id == "bea"

    refusal = unchanged(shop, Transfer("c1", "ana", to_operator="bea", request_id="r1"))

    assert refusal == TransferRefused("c1", "bea is at capacity on web_chat (1 of 1)", "r1")


@pytest.mark.parametrize(
    ("rules", "why"),
    [
        (Rules(team_limits={"desk": 1}), "bea's team desk is at its limit of open conversations"),
        (
            Rules(operator_cap=1, channel_weights={"email": 1}),
            "bea is at their cap of 1 units across channels",
        ),
    ],
)
def test_limits_beyond_the_channel_refuse_a_transfer_too(rules: Rules, why: str) -> None:
    bea = an_operator("bea", capacities={"web_chat": 3, "email": 3}, team="desk")
    shop = held_by_ana(bea, rules=rules)
    shop.arrive(a_conversation("m1", channel="email"), T0)
    assert shop.assigned["m1"].operator_id == "bea"

    assert unchanged(shop, Transfer("c1", "ana", to_operator="bea")).reason == why


def test_a_supervisor_may_override_capacity_and_it_is_recorded() -> None:
    shop = held_by_ana(an_operator("bea", capacities={"web_chat": 1}))
    shop.arrive(a_conversation("c2"), T0)
    transfer = Transfer("c1", "", by_supervisor=True, to_operator="bea", override=True)

    reassigned, assigned = shop.transfer(transfer, at(1))

    assert isinstance(reassigned, Reassigned)
    assert reassigned.transfer == transfer
    assert isinstance(assigned, Assign)
    assert assigned.operator_id == "bea"
    assert shop.operators["bea"].load["web_chat"] == 2  # beyond the 1: the supervisor's call
    assert reassigned.reason == "transferred to bea by a supervisor"


@pytest.mark.parametrize(
    ("transfer", "why"),
    [
        (Transfer("c1", "bea", to_operator="cleo"), "it is held by ana: only its operator or a supervisor"),
        (Transfer("c1", "ana", to_operator="bea", override=True), "only a supervisor may override"),
        (Transfer("c1", "ana", to_operator="nobody"), "nobody is not an operator of this shop"),
        (Transfer("c1", "ana", to_operator="ana"), "it is already with ana"),
        (Transfer("c1", "ana", to_operator="dan"), "dan is away"),
        (Transfer("c1", "ana", to_operator="eve"), "eve does not handle web_chat"),
        (Transfer("c1", "ana", to_team="nowhere"), "no operator is in team nowhere"),
        (Transfer("c1", "ana", to_operator="bea", to_team="desk"), "name a colleague or a team"),
        (Transfer("c9", "ana", to_operator="bea"), "conversation c9 is not open"),
    ],
)
def test_what_cannot_be_done_is_refused_with_why(transfer: Transfer, why: str) -> None:
    shop = held_by_ana(
        an_operator("bea"),
        an_operator("cleo"),
        an_operator("dan", status=Status.AWAY),
        an_operator("eve", capacities={"email": 5}),
    )
    assert unchanged(shop, transfer).reason.startswith(why)


def test_back_to_the_queue_goes_to_someone_else_first_in_line() -> None:
    shop = held_by_ana(an_operator("bea", capacities={"web_chat": 1}))
    shop.arrive(a_conversation("c2"), T0)  # Bea is full: c1 must wait
    shop.arrive(a_conversation("c3"), T0)  # an older customer already waiting

    reassigned, drained = shop.transfer(Transfer("c1", "ana", reason="end of shift"), at(1))

    assert isinstance(reassigned, Reassigned)
    assert reassigned.reason == "transferred to the queue by ana: end of shift"
    # Ana's freed place goes to the customer who was waiting; c1 waits first in line for someone else.
    assert isinstance(drained, Assign)
    assert (drained.conversation_id, drained.operator_id) == ("c3", "ana")
    assert [c.id for c in shop.queue(at(1))] == ["c1"]
    assert "c1" in shop.boosted
    assert "ana" in shop.waiting["c1"].excluded  # not offered back to whoever handed it on
    shop.finished("c2", at(2))
    assert shop.assigned["c1"].operator_id == "bea"


def test_to_a_team_its_members_get_it() -> None:
    shop = held_by_ana(an_operator("rita", team="returns"))

    outputs = shop.transfer(Transfer("c1", "ana", to_team="returns"), at(1), LADDER)

    assert isinstance(outputs[-1], Assign)
    assert outputs[-1].operator_id == "rita"
    assert shop.assigned["c1"].conversation.team == "returns"


def test_a_supervisor_moves_a_waiting_conversation_to_an_operator() -> None:
    shop = a_shop(an_operator("ana", capacities={"web_chat": 1}))
    shop.arrive(a_conversation("c1"), T0)
    shop.arrive(a_conversation("c2"), T0)
    shop.operator_changed(an_operator("bea", languages={"de": 5}), T0)  # cannot take c2 herself
    assert "c2" in shop.waiting

    reassigned, assigned = shop.transfer(Transfer("c2", "", by_supervisor=True, to_operator="bea"), at(1))

    assert isinstance(reassigned, Reassigned)
    assert reassigned.from_operator_id == ""
    assert isinstance(assigned, Assign)
    assert shop.assigned["c2"].operator_id == "bea"
    assert not shop.waiting


# ---------------------------------------------------------------- the fold's events


def test_the_fold_says_who_moved_it_and_where_or_why_not() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=1))
    shop.apply(event(message("c1"), 1.0))
    online(shop, profile("bea", chats=1), minute=2.0)
    request = events_pb2.ConversationTransferRequested(
        conversation_id="c1", operator_id="ana", to_operator_id="bea", reason="Bea knows this order"
    )

    out = shop.apply(event(request, 3.0, event_id="req-1"))

    assert kinds(out) == ["ConversationReassigned", "ConversationAssigned"]
    reassigned, assigned = payloads(out)
    assert isinstance(reassigned, events_pb2.ConversationReassigned)
    assert (reassigned.from_operator_id, reassigned.to_operator_id) == ("ana", "bea")
    assert reassigned.transfer.by_operator_id == "ana"
    assert reassigned.transfer.request_event_id == "req-1"
    assert reassigned.transfer.reason == "Bea knows this order"
    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert assigned.operator_id == "bea"

    shop.apply(event(message("c2"), 4.0))  # Ana takes the next one; Bea is full
    back = events_pb2.ConversationTransferRequested(
        conversation_id="c2", operator_id="ana", to_operator_id="bea"
    )
    out = shop.apply(event(back, 5.0, event_id="req-2"))

    assert kinds(out) == ["ConversationTransferRefused"]
    (refused,) = payloads(out)
    assert isinstance(refused, events_pb2.ConversationTransferRefused)
    assert (refused.reason, refused.request_event_id) == ("bea is at capacity on web_chat (1 of 1)", "req-2")
