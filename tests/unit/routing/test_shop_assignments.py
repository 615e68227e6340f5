"""Checks a shop's routing fold: assignments, hand-overs, silence, replies and the decision log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pronto.v1 import common_pb2, events_pb2
from services.routing.shop import Policy, Shop
from tests.unit.routing.shop_events import (
    POLICY,
    event,
    kinds,
    message,
    online,
    payloads,
    profile,
    status,
)


def test_a_message_is_assigned_with_the_operators_name_and_the_decision_log() -> None:
    shop = Shop(POLICY)
    online(shop, profile("giulia"), profile("marek", languages=("pl",)))
    trigger = event(message("c1"), 1.0)

    [assigned] = payloads(shop.apply(trigger))

    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert (assigned.operator_id, assigned.operator_display_name) == ("giulia", "Giulia")
    assert assigned.channel == common_pb2.CHANNEL_WEB_CHAT
    assert assigned.trigger_event_id == trigger.id
    assert assigned.level == "EXACT"
    # marek does not speak Italian: not a candidate at all.
    assert assigned.candidates_considered == 1
    assert [(c.operator_id, c.reason) for c in assigned.candidates] == [
        ("giulia", "lowest load (0.00), then longest idle"),
    ]


def test_the_customer_gets_the_operator_who_served_them_last() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana"), profile("bea"))
    first = shop.apply(event(message("c1", customer="rossi"), 1.0))[0].payload
    assert isinstance(first, events_pb2.ConversationAssigned)
    shop.apply(event(events_pb2.ConversationResolved(conversation_id="c1"), 2.0))

    again = shop.apply(event(message("c2", customer="rossi"), 3.0))[0].payload

    assert isinstance(again, events_pb2.ConversationAssigned)
    assert again.operator_id == first.operator_id
    assert again.reason == "served this customer before"


def test_a_redelivered_event_changes_nothing() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=5))
    arrival = event(message("c1"), 1.0)
    shop.apply(arrival)
    shop.apply(event(events_pb2.ConversationResolved(conversation_id="c1"), 2.0))

    assert shop.apply(arrival) == []
    assert "c1" not in shop.routing.assigned


@pytest.mark.parametrize(
    "kind",
    [events_pb2.MESSAGE_KIND_EDITED, events_pb2.MESSAGE_KIND_DELETED, events_pb2.MESSAGE_KIND_AUTOMATIC],
)
def test_edits_deletions_and_automatic_messages_never_open_a_conversation(kind: int) -> None:
    """An out-of-office reply opening a conversation would be acknowledged, and the acknowledgement
    answered again: a mail loop (issue #19, defect 7)."""
    shop = Shop(POLICY)
    online(shop, profile("ana"))
    edit = message("c1")
    edit.kind = kind  # type: ignore[assignment]

    assert shop.apply(event(edit, 1.0)) == []
    assert not shop.routing.assigned
    assert not shop.routing.waiting


def test_nobody_online_on_the_chat_queues_and_offers_email() -> None:
    shop = Shop(POLICY)
    shop.apply(event(profile("ana")))

    [queued] = payloads(shop.apply(event(message("c1"), 1.0)))

    assert isinstance(queued, events_pb2.ConversationQueued)
    assert queued.nobody_online
    assert (queued.position, queued.reason) == (1, "nobody online")
    # Nobody online: each customer ahead costs a whole handling time.
    assert queued.estimated_wait.ToTimedelta() == timedelta(minutes=4)


def test_an_operator_going_offline_hands_their_conversations_to_another() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=1))
    shop.apply(event(message("c1"), 1.0))
    online(shop, profile("bea", chats=1), minute=2.0)

    out = shop.apply(event(status("ana", events_pb2.OPERATOR_STATUS_OFFLINE), 3.0))

    assert kinds(out) == ["ConversationReassigned", "ConversationAssigned"]
    reassigned, assigned = payloads(out)
    assert isinstance(reassigned, events_pb2.ConversationReassigned)
    assert (reassigned.from_operator_id, reassigned.to_operator_id) == ("ana", "bea")
    assert reassigned.to_operator_display_name == "Bea"
    assert reassigned.reason == "operator went offline"
    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert assigned.operator_id == "bea"


def test_a_conversation_nobody_can_take_back_waits_first_in_line() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=1))
    shop.apply(event(message("c1"), 1.0))
    shop.apply(event(message("c2"), 1.5))  # waits: ana is full

    out = shop.apply(event(status("ana", events_pb2.OPERATOR_STATUS_AWAY), 3.0))

    assert kinds(out) == ["ConversationReassigned", "ConversationQueued"]
    reassigned, queued = payloads(out)
    assert isinstance(reassigned, events_pb2.ConversationReassigned)
    assert reassigned.to_operator_id == ""
    assert isinstance(queued, events_pb2.ConversationQueued)
    assert (queued.conversation_id, queued.position) == ("c1", 1)
    assert queued.reason == "taken back from its operator; first in line"


def test_an_operator_silent_too_long_loses_the_conversation_on_a_tick() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana"), profile("bea"))
    shop.apply(event(message("c1"), 0.0))  # to ana (name order breaks the tie)

    assert shop.apply(event(events_pb2.RoutingTick(), 1.9))[:1] == []
    out = shop.apply(event(events_pb2.RoutingTick(), 2.1))

    reassigned, assigned = payloads(out)[:2]
    assert isinstance(reassigned, events_pb2.ConversationReassigned)
    assert (reassigned.from_operator_id, reassigned.to_operator_id) == ("ana", "bea")
    assert reassigned.reason == "no reply within 0:02:00"
    assert isinstance(assigned, events_pb2.ConversationAssigned)


def test_a_reply_keeps_the_conversation_with_its_operator() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana"), profile("bea"))
    shop.apply(event(message("c1"), 0.0))
    shop.apply(event(events_pb2.OperatorReplied(conversation_id="c1", operator_id="ana"), 1.0))

    out = shop.apply(event(events_pb2.RoutingTick(), 30.0))

    assert "ConversationReassigned" not in kinds(out)
    assert shop.routing.assigned["c1"].operator_id == "ana"


def test_the_decision_log_keeps_the_best_of_many_operators_and_a_wait_the_first_refusals() -> None:
    """An assignment lists the five best ranked, read from the index without meeting anyone offline
    (issue #20: before, every speaker was scanned and the first five refused were listed too); a
    wait lists the first five refused, in the order operators joined."""
    shop = Shop(POLICY)
    online(shop, *(profile(f"on{n:02}") for n in range(8)))
    for n in range(6):
        shop.apply(event(profile(f"off{n:02}")))  # Italian speakers, never online
    online(shop, *(profile(f"de{n:02}", ("de",)) for n in range(8)))

    [assigned] = payloads(shop.apply(event(message("c1"), 1.0)))
    # Nobody handles e-mail at all: its widening steps are skipped at once, and it waits.
    widened, queued = payloads(shop.apply(event(message("c2", channel=common_pb2.CHANNEL_EMAIL), 1.0)))

    assert isinstance(assigned, events_pb2.ConversationAssigned)
    # Only those who speak the language are counted as considered.
    assert assigned.candidates_considered == 14
    assert [c.operator_id[:2] for c in assigned.candidates] == ["on"] * 5
    assert isinstance(widened, events_pb2.ConversationWidened)
    assert widened.level == "ANY_TEAM"
    assert isinstance(queued, events_pb2.ConversationQueued)
    assert queued.candidates_considered == 14
    assert [c.operator_id for c in queued.candidates] == [f"on{n:02}" for n in range(5)]
    assert {c.reason for c in queued.candidates} == {"does not handle email"}


def test_a_channel_served_by_a_team_goes_to_others_only_at_the_last_widening() -> None:
    policy = Policy(ladder=POLICY.ladder, channel_teams={"phone": "callbacks"})
    shop = Shop(policy)
    desk = profile("ana")
    desk.capacities.append(events_pb2.ChannelCapacity(channel=common_pb2.CHANNEL_PHONE, max_concurrent=1))
    online(shop, desk)  # ana is not in the callbacks team
    caller = profile("cara")
    caller.team = "callbacks"
    caller.capacities[0].channel = common_pb2.CHANNEL_PHONE
    shop.apply(event(caller))  # the team's own operator, offline: the steps are waited out

    [queued] = payloads(shop.apply(event(message("c1", channel=common_pb2.CHANNEL_PHONE), 0.0)))
    assert isinstance(queued, events_pb2.ConversationQueued)
    assert [c.reason for c in queued.candidates] == ["not in team callbacks", "offline"]

    out = shop.apply(event(events_pb2.RoutingTick(), 10.5))
    assert kinds(out) == ["ConversationWidened", "ConversationAssigned"]
    assert payloads(out)[1].level == "ANY_TEAM"  # type: ignore[attr-defined]


def test_a_conversation_set_pending_by_its_operator_is_not_taken_back_for_silence() -> None:
    """Pending and on hold are set without a reply (issue #21): routing took it back after the
    channel's reply time as if the operator had gone silent."""
    shop = Shop(POLICY)
    online(shop, profile("ana"), profile("bea"))
    shop.apply(event(message("c1"), 0.0))
    holder = shop.routing.assigned["c1"].operator_id
    pending = events_pb2.ConversationStateChanged(
        conversation_id="c1", operator_id=holder, state=events_pb2.CONVERSATION_STATE_PENDING
    )
    shop.apply(event(pending, 1.0))

    out = shop.apply(event(events_pb2.RoutingTick(), 3.0))  # past the 2 minutes to reply

    assert "ConversationReassigned" not in kinds(out)
    assert shop.routing.assigned["c1"].operator_id == holder
