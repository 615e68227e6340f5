"""Issue #21, item 3: targets switched off per channel and tier, and clocks that follow a changed tier.

"No target" is written as null (``"phone": null``, a tier entry's ``"minutes": null``); a target of
0 minutes, a number, false or an empty object are mistakes and refused by name. When a later message
names another customer tier, each running or paused clock takes the new tier's target: the time
counted so far carries over, the new target counts the rest from the change.
"""

from __future__ import annotations

import itertools
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
from services.sla.domain.clock_outputs import Breached, Output, Retargeted, Started, Stopped, Warned
from services.sla.domain.clocks import ConversationClocks
from services.sla.domain.policy import DEFAULT_RESPONSE, Metric, Policy, Target
from services.sla.settings import PolicyConfig
from services.sla.worker import Worker

ROME = ZoneInfo("Europe/Rome")
OFFICE = {day: (Period.parse("09:00-13:00"), Period.parse("14:00-18:00")) for day in range(5)}
CALENDAR = BusinessCalendar("Europe/Rome", OFFICE, country="IT")
STANDARD, VIP = 0, 3
THIRTY_BUSINESS = Target(timedelta(minutes=30), business=True)
TEN_CALENDAR = Target(timedelta(minutes=10), business=False)
POLICY = Policy(
    calendar=CALENDAR,
    response={"email": THIRTY_BUSINESS, "phone": None},
    resolution={"email": Target(timedelta(hours=8), business=True), "phone": None},
    by_priority={
        ("email", VIP, Metric.FIRST_RESPONSE): TEN_CALENDAR,
        ("email", VIP, Metric.RESOLUTION): None,  # VIP e-mails: no resolution target
    },
)


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


MONDAY_10 = rome(2026, 11, 23, 10, 0)


# ---------------------------------------------------------------- switched off


def test_a_channel_switched_off_opens_no_clock_and_others_keep_theirs() -> None:
    phone = ConversationClocks("p", "phone")
    assert phone.customer_wrote(MONDAY_10, POLICY) == []
    assert phone.clocks == {}
    assert phone.operator_replied(MONDAY_10 + timedelta(hours=1), False, POLICY) == []
    assert phone.customer_wrote(MONDAY_10 + timedelta(hours=2), POLICY) == []  # nor a next response
    assert phone.next_due() is None
    email = ConversationClocks("e", "email")
    assert {o.metric for o in email.customer_wrote(MONDAY_10, POLICY)} == {
        Metric.FIRST_RESPONSE,
        Metric.RESOLUTION,
    }


def test_null_in_the_settings_switches_a_channel_off_and_a_channel_left_out_keeps_its_default() -> None:
    config = PolicyConfig.model_validate(
        {"response": {"phone": None}, "resolution": {"phone": None, "email": {"minutes": 60}}}
    )
    policy = config.policy()
    assert policy.target("phone", STANDARD, Metric.FIRST_RESPONSE) is None
    assert policy.target("phone", STANDARD, Metric.RESOLUTION) is None
    assert policy.target("email", STANDARD, Metric.FIRST_RESPONSE) == DEFAULT_RESPONSE["email"]
    assert policy.target("whatsapp", STANDARD, Metric.FIRST_RESPONSE) == DEFAULT_RESPONSE["whatsapp"]
    # The admin API keeps the policy as JSON: null must survive the round trip, not turn into a default.
    again = PolicyConfig.model_validate_json(config.model_dump_json()).policy()
    assert again.target("phone", STANDARD, Metric.FIRST_RESPONSE) is None
    assert again.response == policy.response


def test_a_tier_can_switch_a_metric_off_and_only_for_that_tier() -> None:
    entry = {"channel": "phone", "tier": "vip", "metric": "first_response", "minutes": None}
    policy = PolicyConfig.model_validate({"by_tier": [entry]}).policy()
    assert policy.target("phone", VIP, Metric.FIRST_RESPONSE) is None
    assert policy.target("phone", STANDARD, Metric.FIRST_RESPONSE) == DEFAULT_RESPONSE["phone"]
    assert policy.target("phone", VIP, Metric.RESOLUTION) is not None


@pytest.mark.parametrize(
    ("targets", "fragment"),
    [
        ({"response": {"phone": {"minutes": 0}}}, "write null instead of the target"),
        ({"response": {"phone": 0}}, "or null for no target, not int"),
        ({"response": {"phone": "off"}}, "or null for no target, not str"),
        ({"resolution": {"phone": {}}}, "not an empty object"),
        ({"response": {"phone": {"off": True}}}, "off"),  # not a field: extra fields are refused
        (
            {"by_tier": [{"channel": "phone", "tier": "vip", "metric": "first_response", "minutes": 0}]},
            "write null instead of the target",
        ),
        ({"by_tier": [{"channel": "phone", "tier": "vip", "metric": "first_response"}]}, "Field required"),
    ],
)
def test_no_target_is_told_apart_from_a_mistake(targets: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as raised:
        PolicyConfig.model_validate(targets)
    assert fragment in str(raised.value)


# ---------------------------------------------------------------- a tier changed mid-conversation


def test_a_raised_tier_shortens_the_running_clock_and_the_elapsed_time_carries_over() -> None:
    clocks = ConversationClocks("c", "email", STANDARD)
    clocks.customer_wrote(MONDAY_10, POLICY)  # 30 business minutes: due at 10:30
    changed = clocks.reprioritized(MONDAY_10 + timedelta(minutes=4), VIP, POLICY)

    # First response: 4 minutes counted, 6 of VIP's 10 calendar minutes left, due at 10:10.
    assert changed == [
        Retargeted(
            Metric.FIRST_RESPONSE,
            TEN_CALENDAR,
            timedelta(minutes=4),
            VIP,
            warn_at=MONDAY_10 + timedelta(minutes=8),
            deadline=MONDAY_10 + timedelta(minutes=10),
        ),
        # Resolution: VIP e-mails have none, so the clock ends without a result.
        Retargeted(Metric.RESOLUTION, None, timedelta(minutes=4), VIP),
    ]
    assert Metric.RESOLUTION not in clocks.clocks
    # The new target counts in calendar time: the lunch break no longer stops it.
    assert clocks.tick(MONDAY_10 + timedelta(minutes=10, microseconds=1)) == [
        Warned(Metric.FIRST_RESPONSE, MONDAY_10 + timedelta(minutes=10)),
        Breached(Metric.FIRST_RESPONSE, MONDAY_10 + timedelta(minutes=10)),
    ]
    assert clocks.resolved(MONDAY_10 + timedelta(minutes=20), POLICY) == []


def test_a_new_target_already_spent_is_due_at_the_change() -> None:
    clocks = ConversationClocks("c", "email", STANDARD)
    clocks.customer_wrote(MONDAY_10, POLICY)
    change = MONDAY_10 + timedelta(minutes=25)
    [first, _] = clocks.reprioritized(change, VIP, POLICY)
    assert isinstance(first, Retargeted)
    assert first.deadline == change
    assert clocks.tick(change) == []
    assert clocks.tick(change + timedelta(microseconds=1)) == [
        Warned(Metric.FIRST_RESPONSE, change),
        Breached(Metric.FIRST_RESPONSE, change),
    ]


def test_a_breach_of_the_old_target_no_tick_saw_fires_before_the_change() -> None:
    clocks = ConversationClocks("c", "email", VIP)
    clocks.customer_wrote(MONDAY_10, POLICY)  # VIP: 10 calendar minutes, due 10:10
    late = clocks.reprioritized(MONDAY_10 + timedelta(minutes=15), STANDARD, POLICY)
    assert late[0] == Breached(Metric.FIRST_RESPONSE, MONDAY_10 + timedelta(minutes=10))
    # Breached stays breached: within the looser standard target now, the answer is still missed.
    [stopped] = clocks.operator_replied(MONDAY_10 + timedelta(minutes=16), False, POLICY)
    assert stopped == Stopped(Metric.FIRST_RESPONSE, timedelta(minutes=16), THIRTY_BUSINESS, met=False)


def test_a_paused_clock_takes_the_new_target_and_counts_it_when_it_runs_again() -> None:
    policy = Policy(
        calendar=CALENDAR,
        resolution={"email": Target(timedelta(hours=8), True)},
        by_priority={("email", VIP, Metric.RESOLUTION): Target(timedelta(hours=2), True)},
    )
    clocks = ConversationClocks("c", "email", STANDARD)
    clocks.customer_wrote(MONDAY_10, policy)
    clocks.operator_replied(MONDAY_10 + timedelta(minutes=30), awaiting_customer=True, policy=policy)
    [resolution] = [
        o
        for o in clocks.reprioritized(rome(2026, 11, 24, 9, 0), VIP, policy)
        if o.metric is Metric.RESOLUTION
    ]
    assert resolution == Retargeted(
        Metric.RESOLUTION, Target(timedelta(hours=2), True), timedelta(minutes=30), VIP
    )
    clocks.customer_wrote(rome(2026, 11, 24, 9, 0), policy)  # runs again: 90 business minutes left
    assert clocks.clocks[Metric.RESOLUTION].deadline == rome(2026, 11, 24, 10, 30)


def test_a_clock_the_old_tier_had_no_target_for_starts_with_the_message_naming_the_new_tier() -> None:
    vip_only = Policy(
        calendar=CALENDAR,
        response={"email": None},
        resolution={"email": None},
        by_priority={("email", VIP, Metric.FIRST_RESPONSE): TEN_CALENDAR},
    )
    clocks = ConversationClocks("c", "email", STANDARD)
    assert clocks.customer_wrote(MONDAY_10, vip_only) == []
    later = MONDAY_10 + timedelta(minutes=20)
    assert clocks.reprioritized(later, VIP, vip_only) == []  # nothing running to retarget
    [started] = clocks.customer_wrote(later, vip_only)
    assert started == Started(
        Metric.FIRST_RESPONSE,
        TEN_CALENDAR,
        later + timedelta(minutes=8),
        later + timedelta(minutes=10),
        later,
    )


def test_the_same_tier_again_changes_nothing() -> None:
    clocks = ConversationClocks("c", "email", STANDARD)
    clocks.customer_wrote(MONDAY_10, POLICY)
    assert clocks.reprioritized(MONDAY_10 + timedelta(minutes=5), STANDARD, POLICY) == []


# ---------------------------------------------------------------- properties

TIER_TARGETS = {
    STANDARD: Target(timedelta(minutes=40), True),
    1: Target(timedelta(minutes=25), True),
    2: Target(timedelta(minutes=15), False),
    VIP: Target(timedelta(minutes=5), False),
}
TIERED = Policy(
    calendar=CALENDAR,
    response={"email": TIER_TARGETS[STANDARD]},
    resolution={"email": Target(timedelta(hours=3), True)},
    by_priority={("email", tier, Metric.FIRST_RESPONSE): t for tier, t in TIER_TARGETS.items()},
)
steps = st.lists(
    st.tuples(st.integers(1, 90), st.sampled_from(("tier", "tick", "pause", "write")), st.integers(0, 3)),
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(start=st.datetimes(datetime(2026, 3, 20), datetime(2026, 11, 5)), drawn=steps)
def test_tier_changes_never_change_the_time_counted_and_each_clock_fires_at_most_once(
    start: datetime, drawn: list[tuple[int, str, int]]
) -> None:
    """Across random tier changes, pauses and ticks (DST switches included): the first response's
    elapsed time at the answer is the time its targets counted, each piece in its target's calendar;
    a running clock's deadline is always where the remainder of its current target runs out; each
    warning and breach fires at most once, the breach exactly once when the answer is late by the
    target then in force; a breached clock is never met."""
    at = start.replace(tzinfo=ROME)
    clocks = ConversationClocks("c", "email", STANDARD)
    outputs: list[Output] = list(clocks.customer_wrote(at, TIERED))
    expected = timedelta(0)
    counting_since, counting = at, TIER_TARGETS[STANDARD]
    for minutes, step, tier in drawn:
        at += timedelta(minutes=minutes)
        if step == "tier":
            clock, before = clocks.clocks.get(Metric.FIRST_RESPONSE), clocks.priority
            outputs += clocks.reprioritized(at, tier, TIERED)
            if clock is not None and tier != before:
                expected += _counted(counting, counting_since, at)
                counting_since = at
                counting = TIER_TARGETS[tier]
                remainder = max(timedelta(0), counting.duration - clock.consumed)
                assert clock.deadline == (CALENDAR if counting.business else ALWAYS).add(at, remainder)
        elif step == "tick":
            outputs += clocks.tick(at)
        elif step == "pause":
            outputs += clocks.operator_replied(at, awaiting_customer=True, policy=TIERED)
            break  # the first response is answered: its result is in
        else:
            outputs += clocks.customer_wrote(at, TIERED)
    else:
        at += timedelta(minutes=1)
        outputs += clocks.operator_replied(at, awaiting_customer=False, policy=TIERED)
    expected += _counted(counting, counting_since, at)
    firsts = [o for o in outputs if o.metric is Metric.FIRST_RESPONSE]
    [stopped] = [o for o in firsts if isinstance(o, Stopped)]
    assert stopped.elapsed == expected
    fired = [type(o).__name__ for o in firsts if isinstance(o, Warned | Breached | Started)]
    assert all(n <= 1 for n in (fired.count("Warned"), fired.count("Breached"), fired.count("Started")))
    if any(isinstance(o, Breached) for o in firsts):
        assert not stopped.met
    if stopped.elapsed > stopped.target.duration:  # late by the target in force: breached, whatever ticked
        assert fired.count("Breached") == 1
    assert stopped.met == (stopped.elapsed <= stopped.target.duration and "Breached" not in fired)


ALWAYS = BusinessCalendar.always_open()


def _counted(target: Target, since: datetime, until: datetime) -> timedelta:
    return (CALENDAR if target.business else ALWAYS).between(since, until)


# ---------------------------------------------------------------- the worker

_ids = itertools.count()
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Rome


def _record(payload: events_pb2.MessageReceived, at: datetime) -> tuple[list[tuple[str, bytes]], bytes]:
    return envelope.encode(Envelope(f"t{next(_ids)}", "/test", "shop", payload, at))


def _message(channel: int, tier: int) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id="c1",
        channel=channel,  # type: ignore[arg-type]
        sender=common_pb2.Sender(id="x", tier=tier),  # type: ignore[arg-type]
    )


def _decoded(outs: list) -> list:  # type: ignore[type-arg]
    return [envelope.decode(o.headers, o.value).payload for o in outs]


def test_the_worker_opens_no_clock_on_a_switched_off_channel() -> None:
    worker = Worker({"shop": POLICY}, Policy(), "/test")
    assert (
        worker.apply(0, *_record(_message(common_pb2.CHANNEL_PHONE, common_pb2.CUSTOMER_TIER_STANDARD), T0))
        == []
    )
    assert worker.open_clocks() == (0, 0)
    assert worker.ticks([0], now=T0 + timedelta(days=7)) == []


def test_the_worker_follows_a_tier_named_by_a_later_message_and_says_so() -> None:
    worker = Worker({"shop": POLICY}, Policy(), "/test")
    email = common_pb2.CHANNEL_EMAIL
    worker.apply(0, *_record(_message(email, common_pb2.CUSTOMER_TIER_STANDARD), T0))
    # A message naming no tier keeps the conversation's.
    assert (
        worker.apply(
            0, *_record(_message(email, common_pb2.CUSTOMER_TIER_UNSPECIFIED), T0 + timedelta(minutes=1))
        )
        == []
    )
    first, resolution = _decoded(
        worker.apply(0, *_record(_message(email, common_pb2.CUSTOMER_TIER_VIP), T0 + timedelta(minutes=4)))
    )
    assert isinstance(first, events_pb2.SlaClockRetargeted)
    assert first.metric == events_pb2.SLA_METRIC_FIRST_RESPONSE
    assert first.tier == common_pb2.CUSTOMER_TIER_VIP
    assert first.target.ToTimedelta() == timedelta(minutes=10)
    assert first.elapsed.ToTimedelta() == timedelta(minutes=4)
    assert first.deadline.ToDatetime(UTC) == T0 + timedelta(minutes=10)
    assert not first.business_time
    assert not first.switched_off
    assert isinstance(resolution, events_pb2.SlaClockRetargeted)
    assert resolution.switched_off
    assert not resolution.HasField("target")
    [breached] = _decoded(worker.apply(0, *envelope_tick(T0 + timedelta(minutes=10, seconds=1))))[1:]
    assert isinstance(breached, events_pb2.SlaBreached)
    assert breached.deadline.ToDatetime(UTC) == T0 + timedelta(minutes=10)


def envelope_tick(at: datetime) -> tuple[list[tuple[str, bytes]], bytes]:
    return envelope.encode(Envelope(f"t{next(_ids)}", "/test", "*", events_pb2.SlaTick(), at))
