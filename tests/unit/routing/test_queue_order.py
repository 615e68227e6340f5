"""Which waiting conversation is served first: the shop's ``QueueOrder`` (issue #20, item 5).

The case from the issue: a standard e-mail has waited 40 minutes with two hours left to its SLA
target when a VIP writes with five minutes left. Weighed like minutes waited (the default), the VIP's
30 points lose to the 40 minutes; by priority, or by the time left to the deadline SLA computed,
the VIP goes first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pronto.v1 import common_pb2, events_pb2
from services.routing.app import wanted
from services.routing.domain.decision import QueueOrder, Rules
from services.routing.domain.tenant import TenantRouting
from services.routing.settings import RoutingSettings
from services.routing.shop import Shop
from tests.unit.routing.builders import a_conversation, at
from tests.unit.routing.shop_events import POLICY, event, profile, status

EMAIL = common_pb2.CHANNEL_EMAIL


def _email(conversation_id: str, tier: int) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation_id,
        channel=EMAIL,
        sender=common_pb2.Sender(id=f"customer-{conversation_id}", tier=tier),  # type: ignore[arg-type]
        text="Buongiorno",
        language="it",
    )


def _due(conversation_id: str, deadline: datetime, retargeted: bool = False) -> events_pb2.SlaClockStarted:
    kind = events_pb2.SlaClockRetargeted if retargeted else events_pb2.SlaClockStarted
    started = kind(
        conversation_id=conversation_id, metric=events_pb2.SLA_METRIC_FIRST_RESPONSE, channel=EMAIL
    )
    started.deadline.FromDatetime(deadline)
    return started  # type: ignore[return-value]


def _served_first(order: QueueOrder, sla_first: bool = False) -> str:
    """The conversation the first operator to come online gets, in the issue's case."""
    shop = Shop(replace(POLICY, rules=Rules(queue_order=order)))
    # (message, minute it arrives, minutes its first response is due after that)
    for message, minute, target in ((_email("standard", 0), 0, 160), (_email("vip", 3), 40, 5)):
        arrival = event(message, minute)
        sla = event(_due(message.conversation_id, at(minute + target)), minute)
        for e in (sla, arrival) if sla_first else (arrival, sla):
            shop.apply(e)
    desk = profile("ana")
    desk.capacities[0].channel, desk.capacities[0].max_concurrent = EMAIL, 1
    out = [*shop.apply(event(desk, 41)), *shop.apply(event(status("ana"), 41))]
    [assigned] = [e.payload for e in out if isinstance(e.payload, events_pb2.ConversationAssigned)]
    return assigned.conversation_id


def test_weighted_the_default_a_vip_loses_to_a_standard_customer_40_minutes_older() -> None:
    assert Rules().queue_order is QueueOrder.WEIGHTED
    assert _served_first(QueueOrder.WEIGHTED) == "standard"


@pytest.mark.parametrize("order", [QueueOrder.PRIORITY_THEN_AGE, QueueOrder.SLA_TIME_LEFT])
def test_by_priority_or_by_time_left_the_vip_goes_first(order: QueueOrder) -> None:
    assert _served_first(order) == "vip"


def test_a_deadline_that_comes_before_its_message_is_kept_for_it() -> None:
    """SLA's event and the customer's message reach routing through different topics."""
    assert _served_first(QueueOrder.SLA_TIME_LEFT, sla_first=True) == "vip"


def test_a_retargeted_deadline_moves_the_conversation() -> None:
    routing = TenantRouting(rules=Rules(queue_order=QueueOrder.SLA_TIME_LEFT))
    for name, minute in (("a", 0.0), ("b", 1.0)):
        routing.waiting[name] = a_conversation(name, waiting_since=at(minute))
    routing.due_by("a", at(60))
    routing.due_by("b", at(90))
    assert [c.id for c in routing.queue(at(2))] == ["a", "b"]
    routing.due_by("b", at(30))  # its tier rose: a shorter target
    assert [c.id for c in routing.queue(at(2))] == ["b", "a"]
    routing.due_by("b", None)  # the new tier has no target: after those with one
    assert [c.id for c in routing.queue(at(2))] == ["a", "b"]


conversations = st.lists(
    st.tuples(
        st.integers(0, 3),  # tier
        st.integers(0, 600),  # arrival, minutes
        st.one_of(st.none(), st.integers(0, 24 * 60)),  # deadline, minutes
        st.sampled_from(["web_chat", "email"]),
        st.booleans(),  # taken back from an operator who left
    ),
    min_size=1,
    max_size=30,
)


@given(conversations, st.sampled_from(list(QueueOrder)))
def test_the_queue_is_in_the_documented_order_and_positions_count_in_it(
    specs: list[tuple[int, int, int | None, str, bool]], order: QueueOrder
) -> None:
    routing = TenantRouting(rules=Rules(queue_order=order))
    for n, (tier, arrived, deadline, channel, boosted) in enumerate(specs):
        conversation = a_conversation(f"c{n:02d}", channel=channel, tier=tier, waiting_since=at(arrived))
        routing.waiting[conversation.id] = replace(
            conversation, deadline=None if deadline is None else at(deadline)
        )
        if boosted:
            routing.boosted.add(conversation.id)
    now = at(700)
    queue = routing.queue(now)

    def key(c: object) -> tuple[object, ...]:
        assert isinstance(c, type(queue[0]))
        since = c.waiting_since or now
        weighted = c.points() - since.timestamp() / 60  # points weigh like minutes
        if order is QueueOrder.SLA_TIME_LEFT:
            first: tuple[float, ...] = (0, c.deadline.timestamp()) if c.deadline else (1, 0.0)
        elif order is QueueOrder.PRIORITY_THEN_AGE:
            first = (-c.points(),)
        else:
            first = ()
        return (c.id not in routing.boosted, *first, -weighted, since, c.id)

    assert queue == sorted(queue, key=key)
    for channel in ("web_chat", "email"):
        mine = [c.id for c in queue if c.channel == channel]
        assert [routing.position(c, now) for c in mine] == list(range(1, len(mine) + 1))


def test_routing_reads_sla_deadlines_only_when_a_shop_orders_its_queue_by_them() -> None:
    assert not RoutingSettings().reads_deadlines()
    by_sla = {"routing_shops": {"a": {"queue_order": "sla_time_left"}}}
    settings = RoutingSettings.model_validate(by_sla)
    assert settings.reads_deadlines()
    assert settings.policy().for_tenant("a").rules.queue_order is QueueOrder.SLA_TIME_LEFT
    assert settings.policy().for_tenant("b").rules.queue_order is QueueOrder.WEIGHTED
    with pytest.raises(ValidationError, match="'weighted', 'priority_then_age' or 'sla_time_left'"):
        RoutingSettings.model_validate({"routing_default_shop": {"queue_order": "fifo"}})


def test_of_slas_events_only_the_deadlines_are_copied() -> None:
    def headers(payload: type[Message]) -> list[tuple[str, bytes]]:
        return [("ce_type", payload.DESCRIPTOR.full_name.encode())]

    assert wanted(headers(events_pb2.SlaClockStarted), None)
    assert wanted(headers(events_pb2.SlaClockRetargeted), None)
    assert wanted(headers(events_pb2.MessageReceived), None)
    assert not wanted(headers(events_pb2.SlaWarning), None)
    assert not wanted(headers(events_pb2.SlaMet), None)
