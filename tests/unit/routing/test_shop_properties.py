"""Whatever events a shop's stream holds, in whatever order, the fold never fails and keeps its invariants.

A replay of any prefix also rebuilds the same state."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from pronto import envelope
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.routing.metrics import RoutingMetrics
from services.routing.shop import Shop
from services.routing.worker import Worker
from tests.unit.routing.builders import T0
from tests.unit.routing.shop_events import POLICY

OPERATORS = ("ana", "bob", "cleo")
CONVERSATIONS = tuple(f"c{n}" for n in range(8))
CHANNELS = (common_pb2.CHANNEL_WEB_CHAT, common_pb2.CHANNEL_EMAIL, common_pb2.CHANNEL_PHONE)
LANGUAGES = ("it", "pl", "en")
STATUSES = (
    events_pb2.OPERATOR_STATUS_ONLINE,
    events_pb2.OPERATOR_STATUS_AWAY,
    events_pb2.OPERATOR_STATUS_OFFLINE,
)

TOPICS = (common_pb2.SUPPORT_TOPIC_ORDERS, common_pb2.SUPPORT_TOPIC_RETURNS)

profiles = st.builds(
    lambda operator, languages, topics, capacities: events_pb2.OperatorProfileUpdated(
        operator_id=operator,
        display_name=operator,
        languages=[events_pb2.LanguageSkill(language=lang, proficiency=3) for lang in languages],
        topics=topics,
        capacities=[events_pb2.ChannelCapacity(channel=c, max_concurrent=n) for c, n in capacities.items()],
    ),
    st.sampled_from(OPERATORS),
    st.sets(st.sampled_from(LANGUAGES), max_size=2),
    st.sets(st.sampled_from(TOPICS), max_size=1),
    st.dictionaries(st.sampled_from(CHANNELS), st.integers(1, 2), max_size=3),
)
statuses = st.builds(
    lambda operator, status: events_pb2.OperatorStatusChanged(operator_id=operator, status=status),
    st.sampled_from(OPERATORS),
    st.sampled_from(STATUSES),
)
messages = st.builds(
    lambda conversation, channel, language, topics, kind: events_pb2.MessageReceived(
        conversation_id=conversation,
        channel=channel,
        language=language,
        topic_hints=topics,
        sender=common_pb2.Sender(id=f"customer-{conversation}"),
        kind=kind,
    ),
    st.sampled_from(CONVERSATIONS),
    st.sampled_from(CHANNELS),
    st.sampled_from(LANGUAGES),
    st.sets(st.sampled_from(TOPICS), max_size=1),
    st.sampled_from((events_pb2.MESSAGE_KIND_TEXT, events_pb2.MESSAGE_KIND_EDITED)),
)
replies = st.builds(lambda c: events_pb2.OperatorReplied(conversation_id=c), st.sampled_from(CONVERSATIONS))
resolutions = st.builds(
    lambda c: events_pb2.ConversationResolved(conversation_id=c), st.sampled_from(CONVERSATIONS)
)
ticks = st.just(events_pb2.RoutingTick())
payloads = st.one_of(profiles, statuses, messages, messages, replies, resolutions, ticks, ticks)
steps = st.lists(st.tuples(payloads, st.floats(0, 240)), min_size=1, max_size=60)


def _events(drawn: list[tuple[object, float]]) -> list[Envelope]:
    elapsed = 0.0
    events = []
    for index, (payload, seconds) in enumerate(drawn):
        elapsed += seconds
        events.append(Envelope(f"e{index}", "/test", "shop", payload, T0 + timedelta(seconds=elapsed)))  # type: ignore[arg-type]
    return events


def _check(shop: Shop) -> None:
    routing = shop.routing
    assert not set(routing.assigned) & set(routing.waiting), "a conversation both assigned and waiting"
    for operator in routing.operators.values():
        held = [a for a in routing.assigned.values() if a.operator_id == operator.id]
        for channel in {a.channel for a in held}:
            count = sum(1 for a in held if a.channel == channel)
            assert count == operator.load.get(channel, 0), (operator.id, channel)
            assert count <= operator.capacities.get(channel, 0), f"{operator.id} over capacity on {channel}"


@settings(max_examples=500, deadline=None)
@given(steps)
def test_the_fold_never_fails_and_keeps_its_invariants(drawn: list[tuple[object, float]]) -> None:
    shop = Shop(POLICY)
    for event in _events(drawn):
        for emitted in shop.apply(event):
            if isinstance(emitted.payload, events_pb2.ConversationAssigned):
                assert shop.routing.operators[emitted.payload.operator_id].display_name
        _check(shop)


@settings(max_examples=100, deadline=None)
@given(steps, st.integers(0, 60))
def test_a_replay_of_any_prefix_then_the_rest_equals_the_live_run(
    drawn: list[tuple[object, float]], cut: int
) -> None:
    records = [envelope.encode(e) for e in _events(drawn)]
    live = Worker(POLICY, RoutingMetrics(CollectorRegistry()), "/test")
    emitted = [out for headers, value in records for out in live.apply(0, headers, value)]
    restarted = Worker(POLICY, RoutingMetrics(CollectorRegistry()), "/test")
    restarted.replay(0, records[:cut])
    resumed = [out for headers, value in records[cut:] for out in restarted.apply(0, headers, value)]

    assert resumed == emitted[len(emitted) - len(resumed) :]
    assert restarted.partitions[0]["shop"].routing == live.partitions[0]["shop"].routing
