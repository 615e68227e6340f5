"""Fairness chosen per shop, the sticky switch and the sticky hold (issue #20, item 3)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, run_state_machine_as_test
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from pronto import envelope
from pronto.envelope import Envelope
from pronto.v1.events_pb2 import RoutingTick
from services.routing.domain.decision import Assign, Fairness, Rules, Wait, decide, fits
from services.routing.domain.model import Operator, Status
from services.routing.domain.tenant import Ladder, Output, TenantRouting, Widened
from services.routing.metrics import RoutingMetrics
from services.routing.settings import RoutingSettings, ShopRules
from services.routing.shop import Policy
from services.routing.worker import Worker
from tests.unit.routing.builders import T0, a_conversation, an_operator, at
from tests.unit.routing.shop_events import message, profile, status
from tests.unit.routing.test_invariants import ShopMachine

HOLD = Rules(sticky_hold=timedelta(seconds=30))
LADDER = Ladder()


def winner(decision: Assign | Wait) -> str:
    assert isinstance(decision, Assign), decision
    return decision.operator_id


def a_shop(rules: Rules, *operators: Operator) -> TenantRouting:
    shop = TenantRouting()
    shop.configure(rules)
    for operator in operators:
        assert shop.operator_changed(operator, T0) == []
    return shop


def assigned(outputs: list[Output]) -> list[tuple[str, str]]:
    return [(o.conversation_id, o.operator_id) for o in outputs if isinstance(o, Assign)]


# ---------------------------------------------------------------- each rule alone


def test_round_robin_gives_it_to_the_least_recently_assigned_even_when_busier() -> None:
    ana = an_operator("ana", load={"web_chat": 1}, idle_since=at(1))
    ana = replace(ana, last_assigned=at(1))
    bob = replace(an_operator("bob", idle_since=at(9)), last_assigned=at(5))
    rules = Rules(Fairness.ROUND_ROBIN)

    decision = decide(a_conversation(), [bob, ana], at(10), rules=rules)

    assert winner(decision) == "ana"
    assert decision.reason == "least recently assigned (round robin)"


def test_round_robin_puts_who_was_never_assigned_first_and_coming_online_does_not_count() -> None:
    """Ana was assigned, went offline, came back: longest idle forgets her work, round robin does not."""
    shop = a_shop(Rules(Fairness.ROUND_ROBIN), an_operator("ana", capacities={"web_chat": 3}))
    assert assigned(shop.arrive(a_conversation("c1"), at(1))) == [("c1", "ana")]
    shop.finished("c1", at(2))
    shop.operator_changed(an_operator("bob", capacities={"web_chat": 3}), at(3))
    shop.operator_changed(an_operator("ana", capacities={"web_chat": 3}, status=Status.OFFLINE), at(4))
    shop.operator_changed(an_operator("ana", capacities={"web_chat": 3}), at(5))

    assert assigned(shop.arrive(a_conversation("c2"), at(6))) == [("c2", "bob")]
    shop.configure(Rules(Fairness.LONGEST_IDLE))
    # Bob idle since his assignment at 6, ana since coming back at 5.
    assert assigned(shop.arrive(a_conversation("c3"), at(7))) == [("c3", "ana")]


def test_round_robin_rotates_through_the_team() -> None:
    team = [an_operator(name, capacities={"web_chat": 5}) for name in ("cleo", "ana", "bob")]
    shop = a_shop(Rules(Fairness.ROUND_ROBIN), *team)

    order = []
    for n in range(6):
        [(_, operator_id)] = assigned(shop.arrive(a_conversation(f"c{n}"), at(n + 1)))
        order.append(operator_id)

    # Nobody assigned yet: ties go to most spare, lowest load, longest idle (all equal), then the id.
    assert order == ["ana", "bob", "cleo", "ana", "bob", "cleo"]


def test_most_spare_prefers_more_free_slots_on_the_channel_over_a_lower_load_ratio() -> None:
    # Ana: 1 of 4 chats taken and nothing else (ratio 0.25, 3 free). Bob: 2 of 6 chats and 0 of 6
    # e-mails (ratio 0.17, 4 free).
    ana = an_operator("ana", capacities={"web_chat": 4}, load={"web_chat": 1})
    bob = an_operator("bob", capacities={"web_chat": 6, "email": 6}, load={"web_chat": 2})

    assert winner(decide(a_conversation(), [ana, bob], T0)) == "bob"
    # Ana with 8 chats, 3 taken: ratio 0.375 but 5 free.
    bigger = replace(ana, capacities={"web_chat": 8}, load={"web_chat": 3})
    assert winner(decide(a_conversation(), [bigger, bob], T0)) == "bob"
    decision = decide(a_conversation(), [bigger, bob], T0, rules=Rules(Fairness.MOST_SPARE))
    assert winner(decision) == "ana"
    assert decision.reason == "most spare capacity on web_chat (5)"


def test_longest_idle_prefers_the_longest_idle_over_a_lower_load() -> None:
    ana = an_operator("ana", load={"web_chat": 1}, idle_since=at(1))
    bob = an_operator("bob", idle_since=at(2))

    assert winner(decide(a_conversation(), [ana, bob], at(5))) == "bob"
    decision = decide(a_conversation(), [ana, bob], at(5), rules=Rules(Fairness.LONGEST_IDLE))
    assert winner(decision) == "ana"
    assert decision.reason == "idle the longest"


@pytest.mark.parametrize("fairness", list(Fairness))
def test_the_sticky_operator_still_goes_first_whatever_the_fairness(fairness: Fairness) -> None:
    busy = replace(an_operator("zoe", load={"web_chat": 1}, idle_since=at(9)), last_assigned=at(9))
    decision = decide(
        a_conversation(last_operator_id="zoe"), [an_operator("ana"), busy], at(10), rules=Rules(fairness)
    )
    assert winner(decision) == "zoe"
    assert decision.reason == "served this customer before"


def test_sticky_switched_off_ranks_the_previous_operator_like_anyone_else() -> None:
    busy = an_operator("zoe", load={"web_chat": 1})
    conversation = a_conversation(last_operator_id="zoe")

    decision = decide(conversation, [an_operator("ana"), busy], T0, rules=Rules(sticky=False))

    assert winner(decision) == "ana"
    assert decision.reason.startswith("lowest load")


# ---------------------------------------------------------------- ties, as documented


def documented(operator: Operator, channel: str, fairness: Fairness) -> tuple[float | str, ...]:
    """The README's table, written out: the rule, then the rules after it, then the id."""
    never = float("-inf")
    assigned_at = operator.last_assigned.timestamp() if operator.last_assigned else never
    idle = operator.idle_since.timestamp() if operator.idle_since else never
    rules = {
        Fairness.ROUND_ROBIN: assigned_at,
        Fairness.MOST_SPARE: -operator.free(channel),
        Fairness.LOWEST_LOAD: operator.ratio,
        Fairness.LONGEST_IDLE: idle,
    }
    chain = list(Fairness)[list(Fairness).index(fairness) :]
    return (*(rules[f] for f in chain), operator.id)


moments = st.none() | st.integers(0, 3).map(at)
# Online, handling a channel or two with some load, assigned and idle at a few coarse moments (ties).
members = st.builds(
    lambda slots, idle, last, status: an_operator(
        capacities={c: capacity for c, (capacity, _) in slots.items()},
        load={c: min(load, capacity) for c, (capacity, load) in slots.items()},
        idle_since=idle if last is None or (idle is not None and idle > last) else last,
        status=status,
        languages={},
        topics=(),
    ),
    slots=st.dictionaries(
        st.sampled_from(("web_chat", "email")), st.tuples(st.integers(1, 6), st.integers(0, 6)), min_size=1
    ),
    idle=moments,
    last=moments,
    status=st.sampled_from((Status.ONLINE, Status.ONLINE, Status.ONLINE, Status.AWAY)),
).flatmap(lambda o: moments.map(lambda last: replace(o, last_assigned=last)))


@settings(max_examples=400, deadline=None)
@given(
    members=st.lists(members, min_size=2, max_size=8),
    fairness=st.sampled_from(Fairness),
    sticky=st.booleans(),
    channel=st.sampled_from(("web_chat", "email")),
    last=st.sampled_from(("", "op0", "op1")),
)
def test_the_winner_is_first_by_the_rule_then_the_rules_after_it_then_the_id(
    members: list[Operator], fairness: Fairness, sticky: bool, channel: str, last: str
) -> None:
    team = [replace(o, id=f"op{n}") for n, o in enumerate(members)]
    conversation = a_conversation(channel=channel, language="", topics=(), last_operator_id=last)

    decision = decide(conversation, team, at(5), rules=Rules(fairness, sticky=sticky))

    eligible = [o for o in team if fits(o, conversation)]
    if not eligible:
        assert isinstance(decision, Wait)
        return
    preferred = [o for o in eligible if sticky and o.id == last]
    expected = preferred[0] if preferred else min(eligible, key=lambda o: documented(o, channel, fairness))
    assert winner(decision) == expected.id


# ---------------------------------------------------------------- the hold


def test_a_held_conversation_waits_for_its_previous_operator_then_goes_to_anyone() -> None:
    shop = a_shop(HOLD, an_operator("zoe", capacities={"web_chat": 1}), an_operator("ana"))
    # Zoe is full with another conversation of hers.
    assert assigned(shop.arrive(a_conversation("z1", last_operator_id="zoe"), T0)) == [("z1", "zoe")]

    [waited] = shop.arrive(a_conversation("c1", last_operator_id="zoe"), at(1))

    assert isinstance(waited, Wait)
    assert waited.reason.startswith("held for zoe, who served this customer before, until 09:01:30")
    assert [c.reason for c in waited.candidates] == ["at capacity on web_chat", waited.reason]
    assert shop.tick(at(1.4), LADDER, {}) == []
    outputs = shop.tick(at(1.5), LADDER, {})
    assert [type(o) for o in outputs] == [Widened, Assign]
    assert outputs[0].reason == "held 0:00:30 for zoe: offered to everyone"
    assert assigned(outputs) == [("c1", "ana")]


def test_the_previous_operator_freed_within_the_hold_takes_it() -> None:
    shop = a_shop(HOLD, an_operator("zoe", capacities={"web_chat": 1}), an_operator("ana"))
    shop.arrive(a_conversation("z1", last_operator_id="zoe"), T0)

    assert isinstance(shop.arrive(a_conversation("c1", last_operator_id="zoe"), T0)[0], Wait)
    assert assigned(shop.finished("z1", at(0.2))) == [("c1", "zoe")]


def test_the_hold_ends_when_the_previous_operator_leaves() -> None:
    zoe = an_operator("zoe", capacities={"web_chat": 1})
    shop = a_shop(HOLD, zoe, an_operator("ana"))
    shop.arrive(a_conversation("z1", last_operator_id="zoe"), T0)
    shop.arrive(a_conversation("c1", last_operator_id="zoe"), T0)

    outputs = shop.operator_changed(replace(zoe, status=Status.AWAY), at(0.1))

    # Her own conversation is taken back and the hold ends: ana (two chats) takes both.
    assert assigned(outputs) == [("z1", "ana"), ("c1", "ana")]
    [widened] = [o for o in outputs if isinstance(o, Widened)]
    assert (widened.conversation_id, widened.reason) == (
        "c1",
        "held for zoe, who went away: offered to everyone",
    )


@pytest.mark.parametrize("status", [Status.OFFLINE, Status.AWAY])
def test_no_hold_for_a_previous_operator_who_is_not_online(status: Status) -> None:
    shop = a_shop(HOLD, an_operator("zoe", status=status), an_operator("ana"))
    assert assigned(shop.arrive(a_conversation("c1", last_operator_id="zoe"), T0)) == [("c1", "ana")]


def test_no_hold_without_a_hold_or_with_sticky_off() -> None:
    for rules in (Rules(), Rules(sticky=False, sticky_hold=timedelta(seconds=30))):
        shop = a_shop(rules, an_operator("zoe", capacities={"web_chat": 1}))
        assert assigned(shop.arrive(a_conversation("z1", last_operator_id="zoe"), T0)) == [("z1", "zoe")]
        shop.operator_changed(an_operator("ana"), T0)
        assert assigned(shop.arrive(a_conversation("c1", last_operator_id="zoe"), T0)) == [("c1", "ana")]


class RulesMachine(ShopMachine):
    """The shop invariants, and nothing waiting for ever, under any fairness, sticky switch and hold."""

    @initialize(
        fairness=st.sampled_from(Fairness),
        sticky=st.booleans(),
        hold=st.sampled_from((0, 20, 90)),
    )
    def rules_chosen(self, fairness: Fairness, sticky: bool, hold: int) -> None:
        self.shop.configure(Rules(fairness, sticky, timedelta(seconds=hold if sticky else 0)))


def test_a_shop_keeps_its_invariants_under_any_rules() -> None:
    run_state_machine_as_test(RulesMachine, settings=settings(max_examples=150, database=None, deadline=None))


# ---------------------------------------------------------------- configuration


def test_shops_are_configured_apart_and_others_get_the_default() -> None:
    settings_ = RoutingSettings(
        routing_default_shop=ShopRules(fairness=Fairness.MOST_SPARE),
        routing_shops={"a": ShopRules(fairness=Fairness.ROUND_ROBIN, sticky_hold_s=45)},
    )
    policy = settings_.policy()

    assert policy.for_tenant("a").rules == Rules(Fairness.ROUND_ROBIN, True, timedelta(seconds=45))
    assert policy.for_tenant("b").rules == Rules(Fairness.MOST_SPARE)
    assert RoutingSettings().policy().for_tenant("a").rules == Rules()


@pytest.mark.parametrize(
    ("shop", "error"),
    [
        (
            {"fairness": "fastest"},
            "Input should be 'round_robin', 'most_spare', 'lowest_load' or 'longest_idle'",
        ),
        (
            {"sticky": False, "sticky_hold_s": 30},
            "sticky_hold_s: a hold for the previous operator needs sticky",
        ),
        ({"sticky_hold_s": -1}, "greater than or equal to 0"),
        ({"sticky_hold_s": 7200}, "less than or equal to 3600"),
        ({"stickiness": True}, "Extra inputs are not permitted"),
    ],
)
def test_bad_shop_rules_are_refused_with_a_clear_error(shop: dict[str, object], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        RoutingSettings.model_validate({"routing_shops": {"a": shop}})


@pytest.mark.parametrize(("tenant", "held"), [("held", True), ("other", False)])
def test_each_tenant_decides_by_its_own_rules_and_a_hold_is_due_for_a_tick(tenant: str, held: bool) -> None:
    """Through the fold: the customer's second conversation waits for zoe in the shop that holds."""
    policy = Policy(position_every=timedelta(minutes=5), shops={"held": HOLD})
    worker = Worker(policy, RoutingMetrics(CollectorRegistry()), "/test")

    def apply(payload: Message, minute: float) -> list[Message]:
        encoded = envelope.encode(Envelope(str(uuid.uuid4()), "/test", tenant, payload, at(minute)))
        return [envelope.decode(out.headers, out.value).payload for out in worker.apply(0, *encoded)]

    apply(profile("zoe", chats=1), 0)
    apply(status("zoe"), 0)
    assert kinds_of(apply(message("c1", customer="walt"), 0)) == ["ConversationAssigned"]
    apply(profile("ana"), 0)
    apply(status("ana"), 0)

    second = apply(message("c2", customer="walt"), 1)

    shop = worker.partitions[0][tenant]
    if not held:
        assert [(type(p).__name__, getattr(p, "operator_id", "")) for p in second] == [
            ("ConversationAssigned", "ana")
        ]
        return
    assert kinds_of(second) == ["ConversationQueued"]
    assert apply(RoutingTick(), 1) == []  # its position was published with it
    assert shop.due() == at(1.5)
    ticked = apply(RoutingTick(), 1.5)
    assert kinds_of(ticked)[:2] == ["ConversationWidened", "ConversationAssigned"]
    assert ticked[1].operator_id == "ana"  # type: ignore[attr-defined]


def kinds_of(payloads: list[Message]) -> list[str]:
    return [type(p).__name__ for p in payloads]
