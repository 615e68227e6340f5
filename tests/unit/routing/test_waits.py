"""Estimated waits: the queue's measured pace, and how far what customers were told was from what they waited.

Issue #26, defect 9: with a queue of thousands, customers were told "72nd in the
queue, about 98 seconds" while the oldest had waited eight minutes, because the
estimate assumed every slot of every operator online frees up at the measured
handling time.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from pronto.v1 import events_pb2
from services.routing.domain.waits import GAPS_KEPT, LONGEST_GAP, MIN_GAPS, QueuePace, estimate
from services.routing.metrics import RoutingMetrics
from services.routing.shop import Shop
from services.routing.shop_events_out import Emitted
from tests.unit.routing.builders import T0, at
from tests.unit.routing.shop_events import POLICY, event, message, online, profile

HANDLING = timedelta(minutes=4)


def test_until_the_pace_is_measured_each_turn_of_the_capacity_online_costs_a_handling_time() -> None:
    assert estimate(1, None, HANDLING, 2) == HANDLING
    assert estimate(3, None, HANDLING, 2) == 2 * HANDLING
    assert estimate(3, None, HANDLING, 0) == 3 * HANDLING  # nobody online


def test_the_pace_is_the_mean_gap_between_departures_from_a_busy_queue() -> None:
    pace = QueuePace()
    for second in (0, 10, 30, 60):
        pace.left("web_chat", T0 + timedelta(seconds=second), still_waiting=True)
    assert pace.per_place("web_chat") == timedelta(seconds=20)
    assert estimate(72, pace.per_place("web_chat"), HANDLING, 2) == timedelta(seconds=1440)
    assert pace.per_place("email") is None


def test_a_queue_that_emptied_says_nothing_about_its_pace() -> None:
    pace = QueuePace()
    pace.left("web_chat", at(0), still_waiting=False)  # nobody behind it
    for minute in (60, 60.1, 60.2, 60.3):
        pace.left("web_chat", at(minute), still_waiting=True)
    assert pace.per_place("web_chat") == timedelta(seconds=6)


def test_fewer_than_the_minimum_gaps_are_no_pace_yet() -> None:
    pace = QueuePace()
    for second in range(MIN_GAPS):
        pace.left("web_chat", T0 + timedelta(seconds=second), still_waiting=True)
    assert pace.per_place("web_chat") is None
    pace.left("web_chat", T0 + timedelta(seconds=MIN_GAPS), still_waiting=True)
    assert pace.per_place("web_chat") == timedelta(seconds=1)


@given(st.lists(st.floats(min_value=0, max_value=7200, allow_nan=False), min_size=MIN_GAPS + 1, max_size=80))
def test_the_pace_is_the_mean_of_the_last_gaps_each_at_most_the_longest(gaps: list[float]) -> None:
    pace, moment = QueuePace(), T0
    pace.left("web_chat", moment, still_waiting=True)
    for gap in gaps:
        moment += timedelta(seconds=gap)
        pace.left("web_chat", moment, still_waiting=True)
    kept = [min(g, LONGEST_GAP.total_seconds()) for g in gaps][-GAPS_KEPT:]
    per_place = pace.per_place("web_chat")
    assert per_place is not None
    assert abs(per_place.total_seconds() - sum(kept) / len(kept)) < 1e-3


def _assigned(emitted: list[Emitted]) -> list[Emitted]:
    return [e for e in emitted if isinstance(e.payload, events_pb2.ConversationAssigned)]


def test_a_queue_served_slower_than_handling_time_implies_is_told_its_measured_pace() -> None:
    """Ana takes two chats; one is resolved in 30 s, but from then on the queue moves one place a
    minute. The customer who arrives 77th must hear 77 minutes (the queue's pace), not the ~45
    that handling time over capacity gives; and each assignment out of the queue reports what its
    customer waited against what they were told."""
    shop = Shop(POLICY)
    online(shop, profile("ana", chats=2))
    shop.apply(event(message("c1"), 0.0))
    shop.apply(event(message("c2"), 0.0))
    queued = [shop.apply(event(message(f"q{i:02d}"), 0.1))[0].payload for i in range(80)]
    assert all(isinstance(q, events_pb2.ConversationQueued) for q in queued)

    waited = {}
    for minute, done in ((0.5, "c1"), (1.5, "c2"), (2.5, "q00"), (3.5, "q01")):
        out = shop.apply(event(events_pb2.ConversationResolved(conversation_id=done), minute))
        [assigned] = _assigned(out)
        assert isinstance(assigned.payload, events_pb2.ConversationAssigned)
        waited[assigned.payload.conversation_id] = assigned.waited

    [probe] = shop.apply(event(message("probe"), 3.6))
    assert isinstance(probe.payload, events_pb2.ConversationQueued)
    assert probe.payload.position == 77
    assert probe.payload.estimated_wait.ToTimedelta() == timedelta(minutes=77)
    # Without the pace: handling time measured at ~70 s, two chats a turn: 39 turns, 45.5 minutes.
    assert estimate(77, None, timedelta(seconds=shop.handling["web_chat"]), 2) < timedelta(minutes=46)
    # q3 was told at 0.1 (4th, two chats, the configured 4 minutes: 8 minutes) and waited 3.4 minutes.
    assert waited["q03"] == (204.0, 480.0)


def test_the_metrics_report_the_wait_and_how_far_it_was_from_the_estimate() -> None:
    registry = CollectorRegistry()
    metrics = RoutingMetrics(registry)
    metrics.waited("web_chat", 480.0, 96.0)

    def value(name: str) -> float | None:
        return registry.get_sample_value(name, {"channel": "web_chat"})

    assert value("pronto_routing_queue_wait_seconds_sum") == 480.0
    assert value("pronto_routing_wait_estimate_error_seconds_sum") == 384.0
    assert value("pronto_routing_wait_estimate_ratio_sum") == 5.0
    assert (
        registry.get_sample_value(
            "pronto_routing_wait_estimate_ratio_bucket", {"channel": "web_chat", "le": "4.0"}
        )
        == 0.0
    )
