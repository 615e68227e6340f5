"""Checks a shop's routing over time and replays: widening ticks, positions, event ids, the shop's clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry

from pronto import envelope
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.routing.metrics import RoutingMetrics
from services.routing.shop import Shop
from services.routing.worker import Worker
from tests.unit.routing.builders import at
from tests.unit.routing.shop_events import (
    POLICY,
    event,
    kinds,
    message,
    new_worker,
    online,
    payloads,
    profile,
    sample_history,
    status,
)


def test_waiting_widens_the_match_step_by_step_each_an_event() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", languages=("de",)))
    # ola could serve it, but is offline: the steps are waited out.
    shop.apply(event(profile("ola", languages=("pl",))))
    shop.apply(event(message("c1", language="pl"), 0.0))

    widened = [
        p
        for minute in (1.0, 2.5, 6.0, 11.0)
        for p in payloads(shop.apply(event(events_pb2.RoutingTick(), minute)))
        if isinstance(p, events_pb2.ConversationWidened)
    ]

    assert [(w.level, w.reason) for w in widened] == [
        ("ANY_TOPIC", "waited past 0:02:00"),
        ("FALLBACK_LANGUAGE", "waited past 0:05:00"),
        ("ANY_TEAM", "waited past 0:10:00"),
    ]


def test_queued_customers_are_told_when_their_position_moves() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=1))
    for index, conversation in enumerate(("c1", "c2", "c3")):
        shop.apply(event(message(conversation), index * 0.1))
    shop.apply(event(events_pb2.RoutingTick(), 0.5))  # positions as published on arrival: no change

    shop.apply(event(events_pb2.ConversationResolved(conversation_id="c1"), 1.0))  # c2 gets ana
    out = shop.apply(event(events_pb2.RoutingTick(), 1.5))

    [moved] = payloads(out)
    assert isinstance(moved, events_pb2.QueuePositionChanged)
    assert (moved.conversation_id, moved.position) == ("c3", 1)
    # ana handled c1 in one minute: that measurement now drives the estimate.
    assert moved.estimated_wait.ToTimedelta() == timedelta(minutes=1)


def test_ticks_are_due_only_when_something_changes_with_time() -> None:
    shop = Shop(POLICY)
    online(shop, profile("ana"))
    assert shop.due() is None
    shop.apply(event(message("c1"), 0.0))
    limit = POLICY.reply_within["web_chat"]
    assert shop.due() == at(0.0) + limit  # ana's reply deadline, not before
    shop.apply(event(events_pb2.OperatorReplied(conversation_id="c1"), 0.5))
    assert shop.due() is None


def test_a_waiting_conversation_is_due_at_its_next_widening_and_position_refresh() -> None:
    shop = Shop(POLICY)
    shop.apply(event(message("c1"), 0.0))  # nobody online: it waits
    assert shop.due() == at(0.0)  # positions not published yet
    shop.apply(event(events_pb2.RoutingTick(), 0.0))
    assert shop.due() == min(at(0.0) + POLICY.position_every, at(0.0) + POLICY.ladder.after[0])


def test_an_idle_worker_writes_no_ticks() -> None:
    worker = Worker(POLICY, RoutingMetrics(CollectorRegistry()), "/test")
    worker.partitions[0] = {"shop": Shop(POLICY)}
    online(worker.partitions[0]["shop"], profile("ana"))
    assert worker.ticks([0], at(60.0)) == []
    worker.partitions[0]["shop"].apply(event(message("c1"), 0.0))
    assert len(worker.ticks([0], at(60.0))) == 1


def test_replaying_the_stream_rebuilds_the_state_and_re_emits_the_same_events() -> None:
    records = [envelope.encode(e) for e in sample_history()]
    live = new_worker()
    emitted = [out for headers, value in records for out in live.apply(0, headers, value)]

    restarted = new_worker()
    cut = len(records) // 2
    restarted.replay(0, records[:cut])
    resumed = [out for headers, value in records[cut:] for out in restarted.apply(0, headers, value)]

    assert len(emitted) > 20
    assert resumed == emitted[len(emitted) - len(resumed) :]
    live_shop, rebuilt = live.partitions[0]["shop"], restarted.partitions[0]["shop"]
    assert rebuilt.routing == live_shop.routing
    assert (rebuilt.handling, rebuilt.published) == (live_shop.handling, live_shop.published)


def test_the_worker_skips_records_it_cannot_read_and_keeps_going() -> None:
    worker = new_worker()
    headers, value = envelope.encode(event(profile("ana")))

    assert worker.apply(0, [("ce_id", b"x")], b"garbage") == []
    assert worker.apply(0, headers, value) == []
    assert "ana" in worker.partitions[0]["shop"].routing.operators


def test_emitted_event_ids_derive_from_their_cause() -> None:
    worker = new_worker()
    for e in (event(profile("ana")), event(status("ana"))):
        worker.apply(0, *envelope.encode(e))
    cause = Envelope(str(uuid.uuid4()), "/test", "shop", message("c1"), datetime.now().astimezone())

    [out] = worker.apply(0, *envelope.encode(cause))
    again = new_worker()
    for e in (event(profile("ana"), event_id="x1"), event(status("ana"), event_id="x2")):
        again.apply(0, *envelope.encode(e))
    [same] = again.apply(0, *envelope.encode(cause))

    decoded = envelope.decode(out.headers, out.value)
    assert decoded.id == envelope.decode(same.headers, same.value).id != cause.id
    assert (decoded.time, decoded.tenant, out.key) == (cause.time, "shop", b"c1")


def test_a_conversation_widened_and_assigned_in_the_same_tick_gives_both_events() -> None:
    """Regression: the events of a step were built from the state after it, where the widened
    conversation was no longer waiting (KeyError, and the step's assignment was lost)."""
    shop = Shop(POLICY)
    online(shop, profile("ana", topics=(common_pb2.SUPPORT_TOPIC_RETURNS,)))
    shop.apply(event(profile("bea", topics=(common_pb2.SUPPORT_TOPIC_ORDERS,))))  # offline
    question = message("c1")
    question.topic_hints.append(common_pb2.SUPPORT_TOPIC_ORDERS)
    shop.apply(event(question, 0.0))

    out = shop.apply(event(events_pb2.RoutingTick(), 2.5))

    assert kinds(out) == ["ConversationWidened", "ConversationAssigned"]
    widened, assigned = payloads(out)
    assert isinstance(widened, events_pb2.ConversationWidened)
    assert widened.level == "ANY_TOPIC"
    assert isinstance(assigned, events_pb2.ConversationAssigned)
    assert (assigned.operator_id, assigned.level) == ("ana", "ANY_TOPIC")


def test_a_decision_caused_by_an_older_event_is_stamped_with_the_shops_clock() -> None:
    """An operator's status (minute 0.5) read after a newer message (minute 1.0), as happens across
    topics: the assignment it causes must not look older than the queueing before it, or the read
    model, which orders a conversation's events by time, shows the conversation still queued."""
    worker = new_worker()
    outs = [
        out
        for e in (event(profile("ana"), 0.0), event(message("c1"), 1.0), event(status("ana"), 0.5))
        for out in worker.apply(0, *envelope.encode(e))
    ]
    decoded = [envelope.decode(o.headers, o.value) for o in outs]
    queued, assigned = (
        next(d for d in decoded if isinstance(d.payload, kind))
        for kind in (events_pb2.ConversationQueued, events_pb2.ConversationAssigned)
    )
    assert queued.time == at(1.0)
    assert assigned.time == at(1.0)  # the cause's own time would be 0.5
