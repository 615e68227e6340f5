"""Pending and on hold, set by the operator, pause the clocks the shop's policy names (issue #21, item 1).

The policy names resolution by default; the customer writing or the operator opening the conversation
resumes them; each pause and resume is an output carrying the state and the reason."""

from __future__ import annotations

import itertools
import pickle
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pronto import envelope
from pronto.calendar import BusinessCalendar, Period
from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.sla.domain.clock_outputs import Paused, Resumed, Started, Stopped
from services.sla.domain.clocks import ConversationClocks
from services.sla.domain.policy import DEFAULT_PAUSES, Metric, Policy, Target
from services.sla.settings import PolicyConfig
from services.sla.worker import Worker
from tests.unit.sla.special_day_calendars import calendars, instants

ROME = ZoneInfo("Europe/Rome")
OFFICE = BusinessCalendar(
    "Europe/Rome", {day: (Period.parse("09:00-13:00"), Period.parse("14:00-18:00")) for day in range(5)}
)
RESOLUTION = Target(timedelta(hours=4), business=True)
RESPONSE = Target(timedelta(minutes=30), business=True)
POLICY = Policy(calendar=OFFICE, response={"email": RESPONSE}, resolution={"email": RESOLUTION})


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


def test_pending_pauses_the_resolution_clock_only_and_the_customer_writing_resumes_it() -> None:
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)  # Monday

    paused = clocks.state_changed(rome(2026, 11, 23, 11, 0), "pending", "asked for the order number", POLICY)

    assert paused == [Paused(Metric.RESOLUTION, timedelta(hours=1), "pending", "asked for the order number")]
    assert clocks.clocks[Metric.FIRST_RESPONSE].running_since is not None  # still owed an answer
    # Two days pass while pending: nothing counts, nothing fires.
    assert [o for o in clocks.tick(rome(2026, 11, 25, 9, 0)) if o.metric is Metric.RESOLUTION] == []
    resumed = clocks.customer_wrote(rome(2026, 11, 25, 9, 0), POLICY)
    # Three business hours were left: due at 12:00 the same Wednesday, warned at 3h12 counted.
    assert resumed == [
        Resumed(
            Metric.RESOLUTION,
            timedelta(hours=1),
            rome(2026, 11, 25, 11, 12),
            rome(2026, 11, 25, 12, 0),
            "customer_wrote",
        )
    ]
    assert clocks.state == "open"
    [stopped] = clocks.resolved(rome(2026, 11, 25, 11, 0), POLICY)
    assert stopped == Stopped(Metric.RESOLUTION, timedelta(hours=3), RESOLUTION, met=True)


def test_on_hold_pauses_what_the_shop_names_and_the_operator_opening_resumes_it() -> None:
    policy = Policy(
        calendar=OFFICE,
        response={"email": RESPONSE},
        resolution={"email": RESOLUTION},
        pause_states=(("on_hold", frozenset({Metric.RESOLUTION, Metric.FIRST_RESPONSE})),),
    )
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), policy)

    paused = clocks.state_changed(rome(2026, 11, 23, 10, 10), "on_hold", "courier", policy)
    resumed = clocks.state_changed(rome(2026, 11, 23, 16, 0), "open", "courier answered", policy)

    assert {(o.metric, o.elapsed, o.state, o.reason) for o in paused if isinstance(o, Paused)} == {
        (Metric.FIRST_RESPONSE, timedelta(minutes=10), "on_hold", "courier"),
        (Metric.RESOLUTION, timedelta(minutes=10), "on_hold", "courier"),
    }
    assert {(o.metric, o.deadline, o.state) for o in resumed if isinstance(o, Resumed)} == {
        (Metric.FIRST_RESPONSE, rome(2026, 11, 23, 16, 20), "open"),
        (Metric.RESOLUTION, rome(2026, 11, 24, 10, 50), "open"),  # 3h50 left: 2h Monday, 1h50 Tuesday
    }


def test_pending_pauses_no_response_clock_by_default_and_on_hold_to_pending_keeps_what_both_pause() -> None:
    policy = Policy(
        calendar=OFFICE,
        response={"email": RESPONSE},
        resolution={"email": RESOLUTION},
        pause_states=(
            ("pending", frozenset({Metric.RESOLUTION})),
            ("on_hold", frozenset({Metric.RESOLUTION, Metric.FIRST_RESPONSE})),
        ),
    )
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), policy)
    clocks.state_changed(rome(2026, 11, 23, 10, 10), "on_hold", "", policy)

    moved = clocks.state_changed(rome(2026, 11, 23, 10, 40), "pending", "", policy)

    assert [(type(o).__name__, o.metric) for o in moved] == [("Resumed", Metric.FIRST_RESPONSE)]
    assert clocks.clocks[Metric.RESOLUTION].paused_by == "on_hold"


def test_a_reply_awaiting_the_customer_stays_paused_through_on_hold_until_opened_or_answered() -> None:
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)
    [_, paused] = clocks.operator_replied(rome(2026, 11, 23, 10, 5), awaiting_customer=True, policy=POLICY)
    assert paused == Paused(Metric.RESOLUTION, timedelta(minutes=5), "awaiting_customer")

    assert clocks.state_changed(rome(2026, 11, 23, 11, 0), "on_hold", "", POLICY) == []
    assert clocks.state_changed(rome(2026, 11, 23, 11, 0), "pending", "", POLICY) == []
    [resumed] = clocks.state_changed(rome(2026, 11, 23, 12, 0), "open", "", POLICY)
    assert isinstance(resumed, Resumed)
    assert resumed.elapsed == timedelta(minutes=5)


def test_a_reopen_starts_open_and_the_resolution_clock_counts_on_from_before_the_pending() -> None:
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)
    clocks.state_changed(rome(2026, 11, 23, 10, 10), "pending", "", POLICY)
    clocks.resolved(rome(2026, 11, 23, 11, 0), POLICY)

    reopened = clocks.customer_wrote(rome(2026, 11, 24, 10, 0), POLICY)

    assert clocks.state == "open"
    assert {o.metric for o in reopened if isinstance(o, Started)} == {Metric.FIRST_RESPONSE}
    [resumed] = [o for o in reopened if isinstance(o, Resumed)]
    # Counted 10:00-10:10; pending and then resolved, it stood still.
    assert (resumed.metric, resumed.elapsed, resumed.state) == (
        Metric.RESOLUTION,
        timedelta(minutes=10),
        "reopened",
    )


def test_the_policy_pauses_resolution_in_both_states_by_default() -> None:
    policy = PolicyConfig().policy()
    assert policy.pause_states == DEFAULT_PAUSES
    assert policy.pauses("pending") == policy.pauses("on_hold") == frozenset({Metric.RESOLUTION})
    assert policy.pauses("open") == frozenset()


def test_a_shop_chooses_per_state_which_clocks_pause() -> None:
    policy = PolicyConfig.model_validate(
        {"pause_states": {"on_hold": ["resolution", "first_response", "next_response"], "pending": []}}
    ).policy()
    assert policy.pauses("on_hold") == frozenset(Metric)
    assert policy.pauses("pending") == frozenset()


@pytest.mark.parametrize(
    ("pause_states", "fragment"),
    [
        ({"waiting": ["resolution"]}, "pause_states.waiting"),
        ({"pending": ["resolutoin"]}, "pause_states.pending.0"),
        ({"pending": ["resolution", "resolution"]}, "lists a metric twice"),
        ({"pending": "resolution"}, "pause_states.pending"),
    ],
)
def test_a_pause_setting_that_cannot_work_is_refused_naming_it(pause_states: object, fragment: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PolicyConfig.model_validate({"pause_states": pause_states})
    assert fragment in str(raised.value)


# ---------------------------------------------------------------- the worker


_ids = itertools.count()
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Rome


def _apply(worker: Worker, payload: object, at: datetime) -> list[object]:
    headers, value = envelope.encode(Envelope(f"p{next(_ids)}", "/test", "shop", payload, at))  # type: ignore[arg-type]
    return [envelope.decode(o.headers, o.value).payload for o in worker.apply(0, headers, value)]


def test_the_worker_writes_each_pause_and_resume_with_its_state_and_reason() -> None:
    worker = Worker({"shop": POLICY}, Policy(), "/test")
    message = events_pb2.MessageReceived(
        conversation_id="c1", channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="x")
    )
    _apply(worker, message, T0)
    hold = events_pb2.ConversationStateChanged(
        conversation_id="c1", operator_id="op", state=events_pb2.CONVERSATION_STATE_ON_HOLD, reason="courier"
    )

    [paused] = _apply(worker, hold, T0 + timedelta(minutes=30))
    [resumed] = _apply(
        worker,
        events_pb2.ConversationStateChanged(conversation_id="c1", state=events_pb2.CONVERSATION_STATE_OPEN),
        T0 + timedelta(days=1),
    )

    assert isinstance(paused, events_pb2.SlaClockPaused)
    assert (paused.metric, paused.state, paused.reason) == (
        events_pb2.SLA_METRIC_RESOLUTION,
        "on_hold",
        "courier",
    )
    assert paused.elapsed.ToTimedelta() == timedelta(minutes=30)
    assert isinstance(resumed, events_pb2.SlaClockResumed)
    assert resumed.state == "open"
    # 3h30 left from Tuesday 10:00 in Rome: 13:00, then 30 minutes after lunch.
    assert resumed.deadline.ToDatetime(UTC) == T0 + timedelta(days=1, hours=4, minutes=30)


def test_the_worker_keeps_a_resolved_conversation_for_a_reopen_and_then_forgets_it() -> None:
    worker = Worker({"shop": POLICY}, Policy(), "/test")
    message = events_pb2.MessageReceived(
        conversation_id="c1", channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="x")
    )
    resolve = events_pb2.ConversationResolved(conversation_id="c1")
    _apply(worker, message, T0)
    _apply(worker, resolve, T0 + timedelta(minutes=20))

    [resumed, _first_response] = _apply(worker, message, T0 + timedelta(days=1))
    assert isinstance(resumed, events_pb2.SlaClockResumed)
    assert (resumed.metric, resumed.state, resumed.elapsed.ToTimedelta()) == (
        events_pb2.SLA_METRIC_RESOLUTION,
        "reopened",
        timedelta(minutes=20),
    )

    resolved_again = T0 + timedelta(days=1, minutes=10)
    [met] = _apply(worker, resolve, resolved_again)
    assert isinstance(met, events_pb2.SlaMet)
    assert met.elapsed.ToTimedelta() == timedelta(minutes=30)
    assert ("shop", "c1") in worker.partitions[0].conversations
    # The tick after the time for a reopen forgets it: resolved conversations do not pile up.
    assert _apply(worker, events_pb2.SlaTick(), resolved_again + POLICY.reopen_within) == []
    assert ("shop", "c1") in worker.partitions[0].conversations
    _apply(worker, events_pb2.SlaTick(), resolved_again + POLICY.reopen_within + timedelta(seconds=1))
    assert worker.partitions[0].conversations == {}
    started = _apply(worker, message, resolved_again + timedelta(days=10))
    assert {type(e) for e in started} == {events_pb2.SlaClockStarted}


def test_a_resolved_conversation_given_longer_for_a_reopen_is_still_forgotten_at_its_new_end() -> None:
    """The shop lengthens reopen_within after a resolution: the tick at the old end keeps the
    conversation (it may still be reopened) and must look again at the new end, not never."""
    worker = Worker({"shop": POLICY}, Policy(), "/test")
    message = events_pb2.MessageReceived(
        conversation_id="c1", channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="x")
    )
    _apply(worker, message, T0)
    _apply(worker, events_pb2.ConversationResolved(conversation_id="c1"), T0)
    longer = timedelta(days=8)
    worker.partitions[0].policies["shop"] = Policy(calendar=OFFICE, reopen_within=longer)

    _apply(worker, events_pb2.SlaTick(), T0 + POLICY.reopen_within + timedelta(seconds=1))
    assert ("shop", "c1") in worker.partitions[0].conversations
    _apply(worker, events_pb2.SlaTick(), T0 + longer + timedelta(seconds=1))
    assert worker.partitions[0].conversations == {}


def test_how_long_a_resolved_conversation_can_be_reopened_is_the_shops_choice() -> None:
    assert PolicyConfig().policy().reopen_within == timedelta(days=4)
    assert PolicyConfig(reopen_within_hours=0).policy().reopen_within == timedelta(0)
    for wrong in (-1, float("nan"), float("inf"), 10**6):
        with pytest.raises(ValidationError, match="reopen_within_hours"):
            PolicyConfig(reopen_within_hours=wrong)


# ---------------------------------------------------------------- property: random calendars, DST

STATES = ("open", "pending", "on_hold", "awaiting", "message")
metric_sets = st.frozensets(st.sampled_from(tuple(Metric)))


@settings(max_examples=150, deadline=None)
@given(
    calendar=calendars(),
    start=instants,
    target_minutes=st.integers(1, 900),
    pending=metric_sets,
    on_hold=metric_sets,
    steps=st.lists(st.tuples(st.sampled_from(STATES), st.integers(1, 24 * 60)), max_size=12),
)
def test_pause_states_count_only_the_running_spans_over_special_days_and_dst(
    calendar: BusinessCalendar,
    start: datetime,
    target_minutes: int,
    pending: frozenset[Metric],
    on_hold: frozenset[Metric],
    steps: list[tuple[str, int]],
) -> None:
    """Whatever the operator and the customer do, the resolution clock counts exactly the open time
    of the spans in which no pause held it (a model of the README's rules, independent of the
    clocks), each pause and resume says what it counted, a resume's deadline is where the rest runs
    out, and the result at resolution is that count against the target."""
    target = Target(timedelta(minutes=target_minutes), business=True)
    policy = Policy(
        calendar=calendar,
        response={"email": Target(timedelta(minutes=30), business=True)},
        resolution={"email": target},
        pause_states=(("pending", pending), ("on_hold", on_hold)),
    )
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(start, policy)
    at, since, counted = start, start, timedelta(0)
    paused_by: str | None = None
    for kind, minutes in steps:
        at += timedelta(minutes=minutes)
        before = paused_by
        if kind == "message":
            step = clocks.customer_wrote(at, policy)
            paused_by = None
        elif kind == "awaiting":
            step = clocks.operator_replied(at, awaiting_customer=True, policy=policy)
            paused_by = paused_by or "awaiting_customer"
        else:
            step = clocks.state_changed(at, kind, "why", policy)
            holds = Metric.RESOLUTION in policy.pauses(kind)
            if holds and paused_by is None:
                paused_by = kind
            elif not holds and paused_by is not None and (paused_by != "awaiting_customer" or kind == "open"):
                paused_by = None
        mine = [o for o in step if o.metric is Metric.RESOLUTION and isinstance(o, Paused | Resumed)]
        if before is None and paused_by is not None:
            counted += calendar.between(since, at)
            assert [(type(o), o.elapsed) for o in mine] == [(Paused, counted)]
        elif before is not None and paused_by is None:
            since = at
            [resumed] = mine
            assert isinstance(resumed, Resumed)
            assert resumed.elapsed == counted
            assert resumed.deadline == calendar.add(at, max(timedelta(0), target.duration - counted))
        else:
            assert mine == []
    end = at + timedelta(hours=1)
    if paused_by is None:
        counted += calendar.between(since, end)
    # No tick ran, so only the count decides (a breach fired at a pause needs the count past the target).
    stopped = [
        o for o in clocks.resolved(end, policy) if isinstance(o, Stopped) and o.metric is Metric.RESOLUTION
    ]
    assert stopped == [Stopped(Metric.RESOLUTION, counted, target, met=counted <= target.duration)]


def test_clocks_and_policies_from_a_snapshot_older_than_pause_states_still_work() -> None:
    """Snapshots pickle the partition state: objects written before ``paused_by``, ``state``,
    ``resolved_at``, ``pause_states`` and ``reopen_within`` existed lack them, and must read the
    defaults (a clock paused then was paused by a reply awaiting the customer, which the
    customer's message resumes)."""
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)
    clocks.operator_replied(rome(2026, 11, 23, 10, 30), awaiting_customer=True, policy=POLICY)
    old_policy = Policy(calendar=OFFICE, response={"email": RESPONSE}, resolution={"email": RESOLUTION})
    del clocks.__dict__["state"]
    del clocks.__dict__["resolved_at"]
    for clock in clocks.clocks.values():
        del clock.__dict__["paused_by"]
    object.__delattr__(old_policy, "pause_states")
    object.__delattr__(old_policy, "reopen_within")
    clocks, old_policy = pickle.loads(pickle.dumps((clocks, old_policy)))

    assert old_policy.pauses("pending") == frozenset({Metric.RESOLUTION})
    assert old_policy.reopen_within == timedelta(days=4)
    assert (clocks.state, clocks.resolved_at) == ("open", None)
    resumed = clocks.customer_wrote(rome(2026, 11, 23, 11, 0), old_policy)
    assert [(type(o), o.metric, o.elapsed) for o in resumed if isinstance(o, Resumed)] == [
        (Resumed, Metric.RESOLUTION, timedelta(minutes=30))
    ]
