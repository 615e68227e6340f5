"""Checks one shop's routing over time: the widening ladder, and unanswered assignments taken back."""

from __future__ import annotations

from datetime import timedelta

from services.routing.domain.decision import Level
from services.routing.domain.model import Status
from services.routing.domain.tenant import Ladder, Reassigned, TenantRouting, Widened
from tests.unit.routing.builders import T0, a_conversation, an_operator, at
from tests.unit.routing.tenant_shops import a_shop, assignments, holder, queued, waiting_in

REPLY_IN_3_MINUTES = {"web_chat": timedelta(minutes=3)}


# ---------------------------------------------------------------- time: the widening ladder


def test_a_waiting_conversation_widens_step_by_step_until_someone_can_take_it() -> None:
    # Eve speaks English only, covers shipping only and is in another team: only the widest match fits.
    shop = a_shop(an_operator("eve", languages={"en": 5}, topics={"shipping"}, team="retail"))
    shop.arrive(a_conversation("c1", language="it", topics=("billing",), team="vip"), T0)
    ladder = Ladder()

    assert shop.tick(at(1), ladder, {}) == []
    assert shop.tick(at(2), ladder, {}) == [Widened("c1", Level.ANY_TOPIC, "waited past 0:02:00")]
    assert shop.waiting["c1"].level == Level.ANY_TOPIC
    assert shop.tick(at(3), ladder, {}) == []
    assert shop.tick(at(5), ladder, {}) == [Widened("c1", Level.FALLBACK_LANGUAGE, "waited past 0:05:00")]
    assert shop.tick(at(9), ladder, {}) == []

    outputs = shop.tick(at(10), ladder, {})

    assert outputs[0] == Widened("c1", Level.ANY_TEAM, "waited past 0:10:00")
    assert assignments(outputs[1:]) == [("c1", "eve")]
    assert len(outputs) == 2
    assert shop.waiting == {}
    assert shop.assigned["c1"].conversation.level == Level.ANY_TEAM


def test_widening_assigns_as_soon_as_the_widened_match_finds_someone() -> None:
    shop = a_shop(an_operator("ana", topics={"shipping"}))
    shop.arrive(a_conversation("c1", topics=("billing",)), T0)

    outputs = shop.tick(at(2), Ladder(), {})

    assert outputs[0] == Widened("c1", Level.ANY_TOPIC, "waited past 0:02:00")
    assert assignments(outputs[1:]) == [("c1", "ana")]


def test_a_long_wait_widens_straight_to_the_level_reached_and_only_once() -> None:
    shop = a_shop()
    shop.arrive(a_conversation("c1"), T0)

    assert shop.tick(at(12), Ladder(), {}) == [Widened("c1", Level.ANY_TEAM, "waited past 0:10:00")]
    assert shop.tick(at(60), Ladder(), {}) == []
    assert shop.waiting["c1"].level == Level.ANY_TEAM


def test_the_ladder_decides_when_and_how_far_to_widen() -> None:
    shop = a_shop()
    shop.arrive(a_conversation("c1"), T0)
    one_step = Ladder(after=(timedelta(seconds=30),))

    assert shop.tick(at(0.25), one_step, {}) == []
    assert shop.tick(at(0.5), one_step, {}) == [Widened("c1", Level.ANY_TOPIC, "waited past 0:00:30")]
    assert shop.tick(at(60), one_step, {}) == []
    assert shop.waiting["c1"].level == Level.ANY_TOPIC


# ---------------------------------------------------------------- time: unanswered assignments


def a_shop_where_ana_holds_c1() -> TenantRouting:
    """Bob has been idle the longest, but c1's customer was Ana's: Ana has it since ``T0``."""
    shop = a_shop(an_operator("bob"), now=at(-10))
    shop.operator_changed(an_operator("ana"), at(-5))
    shop.arrive(a_conversation("c1", last_operator_id="ana"), T0)
    assert holder(shop, "c1") == "ana"
    return shop


def test_an_assignment_unanswered_past_the_limit_goes_to_someone_else() -> None:
    shop = a_shop_where_ana_holds_c1()

    assert shop.tick(at(3), Ladder(), REPLY_IN_3_MINUTES) == []
    outputs = shop.tick(at(4), Ladder(), REPLY_IN_3_MINUTES)

    assert outputs[0] == Reassigned("c1", "ana", "no reply within 0:03:00")
    assert assignments(outputs[1:]) == [("c1", "bob")]
    assert len(outputs) == 2
    assert shop.operators["ana"].load == {"web_chat": 0}
    assert shop.operators["bob"].load == {"web_chat": 1}
    assert shop.assigned["c1"].at == at(4)


def test_an_assignment_that_was_replied_to_is_kept() -> None:
    shop = a_shop_where_ana_holds_c1()
    shop.replied("c1")

    assert shop.tick(at(60), Ladder(), REPLY_IN_3_MINUTES) == []

    assert holder(shop, "c1") == "ana"
    assert shop.assigned["c1"].replied is True


def test_a_channel_without_a_reply_limit_is_never_taken_back() -> None:
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1", channel="email"), T0)

    assert shop.tick(at(24 * 60), Ladder(), REPLY_IN_3_MINUTES) == []

    assert holder(shop, "c1") == "ana"


def test_a_reply_by_someone_other_than_the_holder_does_not_keep_it() -> None:
    """The operator it was taken from may still send the answer they were typing: the new holder
    has not replied for all that, and still loses it if silent."""
    shop = a_shop_where_ana_holds_c1()

    shop.replied("c1", "bob")
    assert shop.assigned["c1"].replied is False
    shop.replied("c1", "ana")
    assert shop.assigned["c1"].replied is True


def test_a_reply_to_an_unknown_conversation_is_ignored() -> None:
    shop = a_shop_where_ana_holds_c1()

    shop.replied("nope")

    assert shop.assigned["c1"].replied is False


def test_an_unanswered_conversation_is_not_given_back_to_the_operator_who_did_not_reply() -> None:
    shop = a_shop(an_operator("bob", capacities={"web_chat": 3}), now=at(-10))
    shop.operator_changed(an_operator("ana", capacities={"web_chat": 3}), at(-5))
    shop.arrive(a_conversation("b1", last_operator_id="bob"), T0)
    shop.arrive(a_conversation("c1"), T0)
    shop.replied("b1")
    assert (holder(shop, "b1"), holder(shop, "c1")) == ("bob", "ana")

    outputs = shop.tick(at(4), Ladder(), REPLY_IN_3_MINUTES)

    assert outputs[0] == Reassigned("c1", "ana", "no reply within 0:03:00")
    # Ana is less busy (0/3 against Bob's 1/3), but she let it go unanswered.
    assert holder(shop, "c1") == "bob"


def test_an_unanswered_conversation_with_nobody_else_waits_then_goes_back_at_the_last_widening() -> None:
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1"), T0)

    outputs = shop.tick(at(4), Ladder(), REPLY_IN_3_MINUTES)

    assert outputs == [Reassigned("c1", "ana", "no reply within 0:03:00")]
    assert queued(shop, at(4)) == ["c1"]
    assert shop.waiting["c1"].excluded == {"ana"}
    assert shop.operators["ana"].load == {"web_chat": 0}
    # Widened step by step; at the last step (any team, after ten minutes) ana may have it again.
    assert shop.tick(at(6), Ladder(), REPLY_IN_3_MINUTES) == [
        Widened("c1", Level.FALLBACK_LANGUAGE, "waited past 0:05:00")
    ]
    outputs = shop.tick(at(10), Ladder(), REPLY_IN_3_MINUTES)
    assert [type(o).__name__ for o in outputs] == ["Widened", "Assign"]
    assert holder(shop, "c1") == "ana"


def test_an_operator_silent_on_a_conversation_already_at_the_last_step_gets_it_back_later() -> None:
    """Issue #20: the one operator of a small shop (a night shift) went silent on a conversation
    that had already reached the last widening step; it must not wait for ever while they are idle."""
    shop = a_shop(an_operator("ana", status=Status.OFFLINE))
    waiting_in(shop, ("c1", 0))
    assert [type(o) for o in shop.tick(at(11), Ladder(), REPLY_IN_3_MINUTES)] == [Widened]
    assert shop.waiting["c1"].level == Level.ANY_TEAM
    assert assignments(shop.operator_changed(an_operator("ana"), at(12))) == [("c1", "ana")]

    outputs = shop.tick(at(16), Ladder(), REPLY_IN_3_MINUTES)

    assert outputs == [Reassigned("c1", "ana", "no reply within 0:03:00")]
    assert shop.waiting["c1"].excluded == {"ana"}

    outputs = shop.tick(at(76), Ladder(), REPLY_IN_3_MINUTES)

    assert assignments(outputs) == [("c1", "ana")]
    assert len(outputs) == 1
    assert shop.waiting == {}
    assert shop.operators["ana"].load == {"web_chat": 1}
    assert shop.assigned["c1"].at == at(76)


def test_at_the_last_step_a_silent_operator_is_passed_over_for_one_tick_then_forgiven() -> None:
    """The tick that takes it back offers it to everyone else first; the next one forgives."""
    shop = a_shop(an_operator("ana"), an_operator("bob", status=Status.OFFLINE))
    shop.arrive(a_conversation("c1", waiting_since=at(-20), level=Level.ANY_TEAM), T0)
    assert holder(shop, "c1") == "ana"
    shop.tick(at(4), Ladder(), REPLY_IN_3_MINUTES)
    assert shop.waiting["c1"].excluded == {"ana"}

    # No time passed and nothing widened: the exclusion is dropped all the same, without an event.
    outputs = shop.tick(at(4), Ladder(), REPLY_IN_3_MINUTES)

    assert assignments(outputs) == [("c1", "ana")]
    assert len(outputs) == 1


def test_at_the_last_step_another_eligible_operator_goes_before_the_silent_one() -> None:
    shop = a_shop(an_operator("bob", capacities={"web_chat": 3}), now=at(-10))
    shop.operator_changed(an_operator("ana", capacities={"web_chat": 3}), at(-5))
    shop.arrive(a_conversation("b1", last_operator_id="bob"), T0)
    shop.arrive(a_conversation("c1", waiting_since=at(-20), level=Level.ANY_TEAM), T0)
    shop.replied("b1")
    assert (holder(shop, "b1"), holder(shop, "c1")) == ("bob", "ana")

    outputs = shop.tick(at(4), Ladder(), REPLY_IN_3_MINUTES)

    assert outputs[0] == Reassigned("c1", "ana", "no reply within 0:03:00")
    # Ana is less busy (0/3 against Bob's 1/3), and forgiven from the next tick on: Bob gets it now.
    assert assignments(outputs[1:]) == [("c1", "bob")]


def test_with_a_shorter_ladder_the_exclusion_ends_at_its_last_step() -> None:
    """The last step is the ladder's own: with one step, dropping the topic."""
    one_step = Ladder(after=(timedelta(minutes=2),))
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1"), T0)
    assert shop.tick(at(4), one_step, REPLY_IN_3_MINUTES) == [
        Reassigned("c1", "ana", "no reply within 0:03:00")
    ]

    outputs = shop.tick(at(5), one_step, REPLY_IN_3_MINUTES)

    assert outputs[0] == Widened("c1", Level.ANY_TOPIC, "waited past 0:02:00")
    assert assignments(outputs[1:]) == [("c1", "ana")]


def test_before_the_last_step_the_silent_operator_stays_excluded() -> None:
    shop = a_shop(an_operator("ana"))
    shop.arrive(a_conversation("c1"), T0)
    shop.tick(at(4), Ladder(), REPLY_IN_3_MINUTES)

    assert shop.tick(at(5), Ladder(), REPLY_IN_3_MINUTES) == [
        Widened("c1", Level.FALLBACK_LANGUAGE, "waited past 0:05:00")
    ]
    assert shop.tick(at(9), Ladder(), REPLY_IN_3_MINUTES) == []
    assert shop.waiting["c1"].excluded == {"ana"}
