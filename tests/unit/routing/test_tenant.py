"""One shop's routing state: arrivals, operators coming and going, resolutions, time and the queue."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.routing.domain.decision import Assign, Level, Wait, priority
from services.routing.domain.model import Operator, Status
from services.routing.domain.tenant import Ladder, Output, Reassigned, TenantRouting, Widened
from tests.unit.routing.builders import T0, a_conversation, an_operator, at

CHAT_ONLY = {"web_chat": 1}
REPLY_IN_3_MINUTES = {"web_chat": timedelta(minutes=3)}


def a_shop(*operators: Operator, now: datetime = T0) -> TenantRouting:
    shop = TenantRouting()
    for operator in operators:
        assert shop.operator_changed(operator, now) == []
    return shop


def waiting_in(shop: TenantRouting, *tiers: tuple[str, int], language: str = "it") -> None:
    """Conversations (id, tier) that nobody can take yet, all arrived at ``T0``."""
    for conversation_id, tier in tiers:
        outputs = shop.arrive(a_conversation(conversation_id, tier=tier, language=language), T0)
        assert [type(output) for output in outputs] == [Wait]


def assignments(outputs: list[Output]) -> list[tuple[str, str]]:
    return [(o.conversation_id, o.operator_id) for o in outputs if isinstance(o, Assign)]


def holder(shop: TenantRouting, conversation_id: str) -> str:
    return shop.assigned[conversation_id].operator_id


def queued(shop: TenantRouting, now: datetime) -> list[str]:
    return [conversation.id for conversation in shop.queue(now)]


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
