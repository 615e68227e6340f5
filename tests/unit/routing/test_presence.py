"""Presence per channel (issue #20, item 2): away is not offline, and one channel can be paused.

By default an away operator still gets e-mails and contact forms and keeps what they hold on
asynchronous channels (all but chat and phone), while their chats and calls go back to the queue;
offline takes everything back. A paused channel brings
nothing new and takes nothing back, and resuming it restores the capacity it had.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError

from pronto.v1 import common_pb2, events_pb2
from services.routing import translate
from services.routing.domain.decision import Assign, Rules, Wait
from services.routing.domain.model import Operator, Status
from services.routing.domain.tenant import Reassigned, TenantRouting
from services.routing.domain.transfer import Transfer, TransferRefused
from services.routing.settings import ShopRules
from tests.unit.routing.builders import T0, a_conversation, an_operator, at

DESK = {"web_chat": 2, "email": 5}


def a_shop(*operators: Operator, rules: Rules | None = None) -> TenantRouting:
    shop = TenantRouting()
    shop.configure(rules or Rules())
    for operator in operators:
        shop.operator_changed(operator, T0)
    return shop


def arrive(shop: TenantRouting, conversation_id: str, channel: str) -> Assign | Wait:
    decision = shop.arrive(a_conversation(conversation_id, channel=channel), T0)[-1]
    assert isinstance(decision, Assign | Wait)
    return decision


def test_an_away_operator_keeps_receiving_email_but_no_chat() -> None:
    shop = a_shop(an_operator("ana", capacities=DESK, status=Status.AWAY))

    email, chat = arrive(shop, "m1", "email"), arrive(shop, "c1", "web_chat")

    assert isinstance(email, Assign)
    assert email.operator_id == "ana"
    assert isinstance(chat, Wait)
    assert [c.reason for c in chat.candidates] == ["away"]


def test_going_away_takes_back_chats_and_keeps_emails() -> None:
    shop = a_shop(an_operator("ana", capacities=DESK))
    arrive(shop, "m1", "email")
    arrive(shop, "c1", "web_chat")

    outputs = shop.operator_changed(an_operator("ana", capacities=DESK, status=Status.AWAY), at(1))

    assert outputs == [Reassigned("c1", "ana", "operator went away")]
    assert shop.assigned["m1"].operator_id == "ana"
    assert shop.operators["ana"].load == {"email": 1, "web_chat": 0}


def test_going_offline_takes_back_everything() -> None:
    shop = a_shop(an_operator("ana", capacities=DESK))
    arrive(shop, "m1", "email")

    shop.operator_changed(an_operator("ana", capacities=DESK, status=Status.OFFLINE), at(1))

    assert "m1" in shop.waiting


@pytest.mark.parametrize(
    ("rules", "kept"),
    [
        # Nothing new while away, but what they hold on e-mail (asynchronous) stays theirs.
        (Rules(away_channels=frozenset()), {"m1"}),
        # Nothing new, and e-mail taken back too: away is offline.
        (Rules(away_channels=frozenset(), away_takes_back=frozenset({"web_chat", "phone", "email"})), set()),
    ],
)
def test_a_shop_chooses_what_away_keeps_and_gets(rules: Rules, kept: set[str]) -> None:
    shop = a_shop(an_operator("ana", capacities=DESK), rules=rules)
    arrive(shop, "m1", "email")

    shop.operator_changed(an_operator("ana", capacities=DESK, status=Status.AWAY), at(1))

    assert {c for c, a in shop.assigned.items() if a.operator_id == "ana"} == kept
    assert isinstance(arrive(shop, "m2", "email"), Wait)


def test_a_paused_channel_brings_nothing_new_and_takes_nothing_back() -> None:
    ana = an_operator("ana", capacities=DESK)
    shop = a_shop(ana)
    arrive(shop, "c1", "web_chat")

    outputs = shop.operator_changed(replace(shop.operators["ana"], paused=frozenset({"web_chat"})), at(1))

    assert outputs == []
    assert shop.assigned["c1"].operator_id == "ana"
    waiting = arrive(shop, "c2", "web_chat")
    assert isinstance(waiting, Wait)
    assert [c.reason for c in waiting.candidates] == ["paused web_chat"]
    assert isinstance(arrive(shop, "m1", "email"), Assign)  # other channels go on

    shop.operator_changed(replace(shop.operators["ana"], paused=frozenset()), at(2))

    assert shop.assigned["c2"].operator_id == "ana"  # resumed with its capacity: the queue drains
    assert shop.operators["ana"].capacities == DESK


def test_a_status_event_for_one_channel_pauses_and_resumes_it_alone() -> None:
    ana = an_operator("ana", capacities=DESK)
    pause = events_pb2.OperatorStatusChanged(
        operator_id="ana", status=events_pb2.OPERATOR_STATUS_AWAY, channel=common_pb2.CHANNEL_WEB_CHAT
    )
    paused = translate.with_status(pause, ana)
    assert (paused.status, paused.paused) == (Status.ONLINE, frozenset({"web_chat"}))
    assert paused.capacities == DESK

    profile = events_pb2.OperatorProfileUpdated(operator_id="ana", display_name="Ana")
    assert translate.profiled(profile, paused).paused == {"web_chat"}  # a new profile keeps it

    resume = events_pb2.OperatorStatusChanged(
        operator_id="ana", status=events_pb2.OPERATOR_STATUS_ONLINE, channel=common_pb2.CHANNEL_WEB_CHAT
    )
    assert translate.with_status(resume, paused).paused == frozenset()


def test_a_transfer_follows_presence_too() -> None:
    shop = a_shop(an_operator("ana", capacities=DESK))
    arrive(shop, "m1", "email")
    arrive(shop, "c1", "web_chat")
    shop.operator_changed(an_operator("bea", capacities=DESK, status=Status.AWAY), T0)

    made = shop.transfer(Transfer("m1", "ana", to_operator="bea"), at(1))
    refused = shop.transfer(Transfer("c1", "ana", to_operator="bea"), at(1))

    assert shop.assigned["m1"].operator_id == "bea"  # e-mail still routes to her while away
    assert isinstance(made[-1], Assign)
    assert refused == [TransferRefused("c1", "bea is away")]


def test_unknown_channels_are_refused_in_the_settings() -> None:
    with pytest.raises(ValidationError, match="away_channels: unknown channels"):
        ShopRules(away_channels=frozenset({"pigeon"}))
