"""The SLA fold over records: deterministic, replayable, ticking only when something is due."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto import envelope, topics
from pronto.calendar import BusinessCalendar, Period
from pronto.envelope import Envelope
from pronto.folding import Headers
from pronto.v1 import common_pb2, events_pb2
from services.sla.domain.clock_outputs import Stopped
from services.sla.domain.policy import Policy
from services.sla.domain.windows import KEEP, ResponseWindows, figures
from services.sla.settings import PolicyConfig
from services.sla.worker import Worker

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tuesday 09:00 in Rome
OFFICE = {day: (Period.parse("09:00-13:00"), Period.parse("14:00-18:00")) for day in range(5)}
ITALY = Policy(calendar=BusinessCalendar("Europe/Rome", OFFICE, country="IT"))
_ids = itertools.count()


def record(payload: Message, at: datetime, tenant: str = "shop", event_id: str = "") -> tuple[Headers, bytes]:
    return envelope.encode(Envelope(event_id or f"e{next(_ids)}", "/test", tenant, payload, at))


def message(
    conversation: str, channel: common_pb2.Channel = common_pb2.CHANNEL_EMAIL
) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation, channel=channel, sender=common_pb2.Sender(id="x")
    )


def worker() -> Worker:
    return Worker({"shop": ITALY}, Policy(), "/test")


def decoded(outs: list) -> list[Message]:  # type: ignore[type-arg]
    return [envelope.decode(o.headers, o.value).payload for o in outs]


def test_a_message_starts_clocks_in_the_shops_business_time() -> None:
    w = worker()
    first, resolution = decoded(w.apply(0, *record(message("c1"), T0)))
    assert isinstance(first, events_pb2.SlaClockStarted)
    assert first.deadline.ToDatetime(UTC) == T0 + timedelta(minutes=30)
    assert isinstance(resolution, events_pb2.SlaClockStarted)


def test_another_tenant_gets_the_default_policy() -> None:
    w = worker()
    [first, _] = decoded(w.apply(0, *record(message("c1", common_pb2.CHANNEL_WEB_CHAT), T0, tenant="other")))
    assert isinstance(first, events_pb2.SlaClockStarted)
    assert first.deadline.ToDatetime(UTC) == T0 + timedelta(minutes=1)


def test_ticks_are_asked_for_only_when_something_is_due() -> None:
    w = worker()
    w.apply(3, *record(message("c1"), T0))
    assert w.ticks([3], now=T0 + timedelta(minutes=24)) == []  # the warning's moment: not passed yet
    [tick] = w.ticks([3], now=T0 + timedelta(minutes=24, seconds=1))
    assert tick.partition == 3
    assert w.ticks([0], now=T0 + timedelta(minutes=25)) == []  # not a partition with anything due


def test_next_due_skips_what_a_tick_would_skip() -> None:
    """A stopped clock's warning entry is stale: next_due drops it and gives the next real moment."""
    w = worker()
    w.apply(0, *record(message("c1"), T0))
    state = w.partitions[0]
    [tracked] = state.conversations.values()
    first_warning = min(when for when, _, _ in state.due)
    assert w.next_due(0) == first_warning  # the first response's warning, 24 business minutes in
    reply = events_pb2.OperatorReplied(conversation_id="c1", operator_id="op")
    w.apply(0, *record(reply, T0 + timedelta(minutes=5)))
    later = w.next_due(0)
    assert later == tracked.clocks.next_due()  # the resolution clock's, much later
    assert later is not None
    assert later > first_warning
    assert w.next_due(5) is None


def test_made_events_are_the_same_whether_all_are_asked_for_or_some() -> None:
    everything, some = worker(), Worker({"shop": ITALY}, Policy(), "/test", described=(Stopped,))
    at = T0
    for payload in (message("c1"), events_pb2.OperatorReplied(conversation_id="c1", operator_id="op")):
        at += timedelta(minutes=3)
        event = envelope.decode(*record(payload, at))
        all_outcomes, some_outcomes = everything.fold(0, event), some.fold(0, event)
        assert [o.output for o in all_outcomes] == [o.output for o in some_outcomes]
        assert all(o.payload is not None for o in all_outcomes)
        assert [o.payload is not None for o in some_outcomes] == [
            isinstance(o.output, Stopped) for o in some_outcomes
        ]


def test_an_automatic_message_starts_no_clock() -> None:
    """An out-of-office reply or a delivery report is owed no answer (issue #19, defect 7)."""
    w = worker()
    automatic = message("c1")
    automatic.kind = events_pb2.MESSAGE_KIND_AUTOMATIC
    assert w.apply(0, *record(automatic, T0)) == []
    assert w.ticks([0], now=T0 + timedelta(days=3)) == []


def test_a_redelivered_event_changes_nothing() -> None:
    w = worker()
    arrival = record(message("c1"), T0, event_id="m1")
    assert len(w.apply(0, *arrival)) == 2
    assert w.apply(0, *arrival) == []


def test_a_record_that_is_not_an_event_is_skipped_and_its_dead_letter_is_an_output() -> None:
    """The dead letter goes out with the batch's other outputs (after the journal entry), not from a
    timer that a crash could beat; a silent replay gives up on it without writing it again."""
    w = worker()
    [letter] = w.apply(0, [("ce_id", b"x")], b"junk")
    assert w.invalid == 1
    assert letter.topic == topics.DEADLETTER.name
    [dead] = decoded([letter])
    assert isinstance(dead, events_pb2.RecordDeadLettered)
    assert (dead.partition, dead.value) == (0, b"junk")
    assert dead.reason.startswith("cannot read the record: not a Pronto event: missing header(s) ce_type")
    assert w.replay(1, [([("ce_id", b"x")], b"junk")]) == 1
    assert w.invalid == 2


def test_open_and_at_risk_clocks_are_counted() -> None:
    w = worker()
    w.apply(0, *record(message("c1"), T0))
    w.apply(0, *record(message("c2"), T0 + timedelta(minutes=20)))
    w.apply(0, *record(events_pb2.SlaTick(), T0 + timedelta(minutes=25), tenant="*"))
    assert w.open_clocks() == (4, 1)  # two conversations, two clocks each; c1 warned


steps = st.lists(
    st.tuples(
        st.sampled_from(("message", "reply", "resolve", "queued", "tick")),
        st.sampled_from(("c1", "c2", "c3")),
        st.integers(0, 40),
    ),
    max_size=40,
)


def _history(drawn: list[tuple[str, str, int]]) -> list[tuple[Headers, bytes]]:
    at = T0
    history = []
    for kind, conversation, minutes in drawn:
        at += timedelta(minutes=minutes)
        payload: Message
        if kind == "message":
            payload = message(conversation)
        elif kind == "reply":
            payload = events_pb2.OperatorReplied(
                conversation_id=conversation, awaiting_customer=minutes % 2 == 0
            )
        elif kind == "resolve":
            payload = events_pb2.ConversationResolved(conversation_id=conversation)
        elif kind == "queued":
            queued = events_pb2.ConversationQueued(conversation_id=conversation)
            queued.estimated_wait.FromTimedelta(timedelta(minutes=minutes))
            payload = queued
        else:
            payload = events_pb2.SlaTick()
        history.append(record(payload, at))
    return history


@settings(max_examples=150, deadline=None)
@given(steps, st.integers(0, 40))
def test_a_replay_of_any_prefix_then_the_rest_equals_the_live_run(
    drawn: list[tuple[str, str, int]], cut: int
) -> None:
    history = _history(drawn)
    live = worker()
    emitted = [out for headers, value in history for out in live.apply(0, headers, value)]
    restarted = worker()
    restarted.replay(0, history[:cut])
    resumed = [out for headers, value in history[cut:] for out in restarted.apply(0, headers, value)]

    assert [(o.key, o.value) for o in resumed] == [
        (o.key, o.value) for o in emitted[len(emitted) - len(resumed) :]
    ]
    assert (
        restarted.partitions[0].conversations.keys() == live.partitions[0].conversations.keys()
        if history
        else True
    )


@settings(max_examples=150, deadline=None)
@given(steps)
def test_each_clock_warns_and_breaches_at_most_once(drawn: list[tuple[str, str, int]]) -> None:
    w = worker()
    fired: list[tuple[str, int, str]] = []
    for headers, value in _history(drawn):
        for payload in decoded(w.apply(0, headers, value)):
            if isinstance(payload, events_pb2.SlaClockStarted):
                fired = [f for f in fired if f[:2] != (payload.conversation_id, payload.metric)]
            elif isinstance(payload, events_pb2.SlaWarning | events_pb2.SlaBreached):
                key = (payload.conversation_id, payload.metric, type(payload).__name__)
                assert key not in fired
                fired.append(key)


# ---------------------------------------------------------------- windows


def test_tumbling_and_hopping_windows() -> None:
    windows = ResponseWindows()
    start = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    for minute, seconds, met in ((1, 60.0, True), (3, 600.0, True), (7, 3600.0, False)):
        windows.started("shop", "email", start)
        windows.responded("shop", "email", start, start + timedelta(minutes=minute), seconds, met)

    now = start + timedelta(minutes=7, seconds=30)
    tumbling = figures([windows], "shop", "email", "5m", now, hopping=False)  # 10:05-10:10
    assert (tumbling.start, tumbling.responses, tumbling.compliance) == (start + timedelta(minutes=5), 1, 0.0)
    hopping = figures([windows], "shop", "email", "5m", now, hopping=True)  # 10:03-10:08
    assert (hopping.start, hopping.responses, hopping.compliance) == (start + timedelta(minutes=3), 2, 0.5)
    hour = figures([windows], "shop", "email", "1h", now, hopping=False)
    assert (hour.responses, hour.average_s, hour.p50_s, hour.p99_s) == (3, 1420.0, 600.0, 3600.0)
    assert (hour.started, hour.response_rate) == (3, 1.0)
    assert figures([windows], "shop", "chat", "1h", now, hopping=False).responses == 0


def test_windows_of_several_partitions_add_up_and_old_buckets_go() -> None:
    a, b = ResponseWindows(), ResponseWindows()
    at = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    a.responded("shop", "email", at, at, 10.0, True)
    b.responded("shop", "email", at, at, 30.0, False)
    both = figures([a, b], "shop", "email", "1m", at, hopping=False)
    assert (both.responses, both.compliance, both.p50_s) == (2, 0.5, 10.0)
    a.prune(at + timedelta(days=3))
    assert figures([a], "shop", "email", "1d", at, hopping=False).responses == 0


def test_pruning_drops_the_oldest_buckets_in_the_order_they_were_made() -> None:
    windows = ResponseWindows()
    start = datetime(2026, 11, 24, tzinfo=UTC)
    for minute in range(0, 3 * 24 * 60, 30):  # three days, a response every half hour
        at = start + timedelta(minutes=minute)
        windows.responded("shop", "chat", at, at, 5.0, True)
    now = start + timedelta(days=3)
    windows.prune(now)
    kept = windows.buckets[("shop", "chat")]
    oldest = int((now - KEEP).timestamp()) // 60
    assert min(kept) >= oldest
    assert len(kept) == 2 * 24 * 2  # two days of half hours
    # A bucket made late for an older minute goes once those made before it have gone.
    late = now - timedelta(days=2, minutes=5)
    windows.started("shop", "chat", late)
    windows.prune(now + timedelta(minutes=1))
    assert int(late.timestamp()) // 60 in kept
    windows.prune(now + KEEP + timedelta(minutes=1))
    assert not kept


def test_a_tier_target_reaches_exactly_that_tier() -> None:
    """Regression: the message's protobuf tier (standard = 1) was taken for the policy's (standard = 0)."""
    vip_first = PolicyConfig.model_validate(
        {"by_tier": [{"channel": "email", "tier": "vip", "metric": "first_response", "minutes": 5}]}
    )
    w = Worker({"shop": vip_first.policy()}, Policy(), "/test")
    targets = {}
    for tier in (
        common_pb2.CUSTOMER_TIER_UNSPECIFIED,
        common_pb2.CUSTOMER_TIER_STANDARD,
        common_pb2.CUSTOMER_TIER_GOLD,
        common_pb2.CUSTOMER_TIER_VIP,
    ):
        received = message(f"c{tier}")
        received.sender.tier = tier
        first, _ = decoded(w.apply(0, *record(received, T0)))
        assert isinstance(first, events_pb2.SlaClockStarted)
        targets[tier] = first.target.ToTimedelta()
    assert targets == {
        common_pb2.CUSTOMER_TIER_UNSPECIFIED: timedelta(minutes=30),
        common_pb2.CUSTOMER_TIER_STANDARD: timedelta(minutes=30),
        common_pb2.CUSTOMER_TIER_GOLD: timedelta(minutes=30),
        common_pb2.CUSTOMER_TIER_VIP: timedelta(minutes=5),
    }


def test_a_policy_changed_at_run_time_applies_to_clocks_started_afterwards() -> None:
    w = worker()
    w.apply(0, *record(message("before"), T0))
    five = {"timezone": "UTC", "response": {"email": {"minutes": 5, "business": False}}}
    changed = events_pb2.SlaPolicyChanged(policy_json=PolicyConfig.model_validate(five).model_dump_json())
    w.apply(0, *record(changed, T0 + timedelta(minutes=1)))
    [after, _] = decoded(w.apply(0, *record(message("after"), T0 + timedelta(minutes=2))))

    assert isinstance(after, events_pb2.SlaClockStarted)
    assert after.target.ToTimedelta() == timedelta(minutes=5)
    # The clock started before keeps its own calendar and target: 20 office minutes, in time.
    reply = events_pb2.OperatorReplied(conversation_id="before")
    [met] = decoded(w.apply(0, *record(reply, T0 + timedelta(minutes=20))))
    assert isinstance(met, events_pb2.SlaMet)
    assert met.elapsed.ToTimedelta() == timedelta(minutes=20)
    assert met.target.ToTimedelta() == timedelta(minutes=30)
    given = w.in_force("shop", [0])
    assert given is not None
    assert given["response"] == {"email": {"minutes": 5.0, "business": False}}


def test_a_tick_at_exactly_a_due_moment_fires_nothing_and_ends() -> None:
    """Regression: a tick at exactly a warning's moment rescheduled it for the same moment, for ever."""
    w = worker()
    w.apply(0, *record(message("c1"), T0))
    warn_at = T0 + timedelta(minutes=24)
    assert w.ticks([0], now=warn_at) == []
    assert decoded(w.apply(0, *record(events_pb2.SlaTick(), warn_at, tenant="*"))) == []
    [warned] = decoded(w.apply(0, *record(events_pb2.SlaTick(), warn_at + timedelta(seconds=1), tenant="*")))
    assert isinstance(warned, events_pb2.SlaWarning)


def test_a_policy_change_is_in_force_once_every_partition_has_applied_it() -> None:
    """The admin API writes the change to each partition, and each applies it at its own place among
    its records: until the last one has, a message there is still timed by the old policy."""
    w = worker()
    faster = PolicyConfig.model_validate({"timezone": "UTC", "response": {"email": {"minutes": 5}}})
    changed = events_pb2.SlaPolicyChanged(policy_json=faster.model_dump_json())
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    assert w.in_force("shop", [0, 1]) is None  # nothing set through the API: the configured policy

    w.apply(0, *record(changed, at, event_id="p0"))
    assert w.in_force("shop", [0, 1]) is None  # partition 1 still applies the configured one
    assert w.in_force("shop", [0]) == faster.model_dump(mode="json")

    w.apply(1, *record(changed, at, event_id="p1"))
    assert w.in_force("shop", [0, 1]) == faster.model_dump(mode="json")


def test_while_partitions_disagree_the_oldest_change_is_in_force() -> None:
    """Partition 0 restored from a snapshot with B, partition 1 still on the older A: A is what a
    message there is timed by, whatever order the partitions were restored or applied in."""
    w = worker()
    a = PolicyConfig.model_validate({"timezone": "UTC", "response": {"email": {"minutes": 5}}})
    b = PolicyConfig.model_validate({"timezone": "UTC", "response": {"email": {"minutes": 7}}})
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    for partition, config, when in ((1, a, at), (0, a, at), (0, b, at + timedelta(minutes=1))):
        changed = events_pb2.SlaPolicyChanged(policy_json=config.model_dump_json())
        w.apply(partition, *record(changed, when))
    assert w.in_force("shop", [0, 1]) == a.model_dump(mode="json")
    assert w.in_force("shop", [1, 0]) == a.model_dump(mode="json")
    changed = events_pb2.SlaPolicyChanged(policy_json=b.model_dump_json())
    w.apply(1, *record(changed, at + timedelta(minutes=1)))
    assert w.in_force("shop", [1, 0]) == b.model_dump(mode="json")
