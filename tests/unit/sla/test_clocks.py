"""One conversation's SLA clocks: start, stop, pause, warn and breach once, predicted breaches."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pronto.calendar import BusinessCalendar, Period
from services.sla.domain.clock_outputs import Breached, Resumed, Started, Stopped, Warned
from services.sla.domain.clocks import ConversationClocks
from services.sla.domain.policy import DEFAULT_RESOLUTION, DEFAULT_RESPONSE, Metric, Policy, Target

ROME = ZoneInfo("Europe/Rome")
OFFICE = {day: (Period.parse("09:00-13:00"), Period.parse("14:00-18:00")) for day in range(5)}
POLICY = Policy(calendar=BusinessCalendar("Europe/Rome", OFFICE, country="IT"))
EMAIL_TARGET = DEFAULT_RESPONSE["email"]


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


def email() -> ConversationClocks:
    return ConversationClocks("c1", "email")


def test_an_email_on_friday_evening_is_due_on_monday_morning_in_business_time() -> None:
    clocks = email()

    started = clocks.customer_wrote(rome(2026, 11, 20, 17, 50), POLICY)

    first, resolution = started
    assert first == Started(
        Metric.FIRST_RESPONSE,
        Target(timedelta(minutes=30), business=True),
        warn_at=rome(2026, 11, 23, 9, 14),  # 80% of 30 minutes: 10 on Friday, 14 on Monday
        deadline=rome(2026, 11, 23, 9, 20),
        opens_at=rome(2026, 11, 20, 17, 50),  # open: the clock counts from the message
    )
    assert isinstance(resolution, Started)
    assert resolution.metric is Metric.RESOLUTION


def test_chat_counts_calendar_time_even_at_night() -> None:
    clocks = ConversationClocks("c1", "web_chat")
    [first, _] = clocks.customer_wrote(rome(2026, 11, 22, 3, 0), POLICY)
    assert isinstance(first, Started)
    assert first.deadline == rome(2026, 11, 22, 3, 1)


def test_a_reply_in_time_meets_the_target() -> None:
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)

    [stopped] = clocks.operator_replied(rome(2026, 11, 23, 10, 12), awaiting_customer=False, policy=POLICY)

    assert stopped == Stopped(Metric.FIRST_RESPONSE, timedelta(minutes=12), EMAIL_TARGET, met=True)


def test_warning_and_breach_fire_once_each_from_time_alone() -> None:
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)

    assert clocks.tick(rome(2026, 11, 23, 10, 24)) == []  # exactly 80%: not yet exceeded
    assert clocks.tick(rome(2026, 11, 23, 10, 24, 1)) == [
        Warned(Metric.FIRST_RESPONSE, rome(2026, 11, 23, 10, 30))
    ]
    assert clocks.tick(rome(2026, 11, 23, 10, 25)) == []
    assert clocks.tick(rome(2026, 11, 23, 10, 30)) == []  # exactly the target: still in time
    assert clocks.tick(rome(2026, 11, 23, 10, 30, 1)) == [
        Breached(Metric.FIRST_RESPONSE, rome(2026, 11, 23, 10, 30))
    ]
    assert clocks.tick(rome(2026, 11, 23, 11, 0)) == []
    [late] = clocks.operator_replied(rome(2026, 11, 23, 10, 45), awaiting_customer=False, policy=POLICY)
    assert late == Stopped(Metric.FIRST_RESPONSE, timedelta(minutes=45), EMAIL_TARGET, met=False)


def test_an_answer_at_exactly_the_target_is_in_time() -> None:
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)
    [stopped] = clocks.operator_replied(rome(2026, 11, 23, 10, 30), awaiting_customer=False, policy=POLICY)
    assert stopped == Stopped(Metric.FIRST_RESPONSE, timedelta(minutes=30), EMAIL_TARGET, met=True)


def test_a_late_answer_no_tick_saw_coming_is_a_breach_then_its_result() -> None:
    """The SLO rules count breaches: a late answer folded before any tick must count as one too."""
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)
    late = clocks.operator_replied(rome(2026, 11, 23, 10, 45), awaiting_customer=False, policy=POLICY)
    assert late == [
        Breached(Metric.FIRST_RESPONSE, rome(2026, 11, 23, 10, 30)),
        Stopped(Metric.FIRST_RESPONSE, timedelta(minutes=45), EMAIL_TARGET, met=False),
    ]


def test_a_late_tick_fires_warning_and_breach_together() -> None:
    """After a restart, a deadline that passed meanwhile is reported at once."""
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)

    assert clocks.tick(rome(2026, 11, 23, 16, 0)) == [
        Warned(Metric.FIRST_RESPONSE, rome(2026, 11, 23, 10, 30)),
        Breached(Metric.FIRST_RESPONSE, rome(2026, 11, 23, 10, 30)),
    ]


def test_the_next_response_clock_is_its_own() -> None:
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)
    clocks.operator_replied(rome(2026, 11, 23, 10, 5), awaiting_customer=False, policy=POLICY)

    [next_started] = clocks.customer_wrote(rome(2026, 11, 23, 11, 0), POLICY)
    assert isinstance(next_started, Started)
    assert next_started.metric is Metric.NEXT_RESPONSE
    assert next_started.deadline == rome(2026, 11, 23, 11, 30)
    # A second message before the reply does not restart it.
    assert clocks.customer_wrote(rome(2026, 11, 23, 11, 10), POLICY) == []
    [stopped] = clocks.operator_replied(rome(2026, 11, 23, 11, 20), awaiting_customer=False, policy=POLICY)
    assert isinstance(stopped, Stopped)
    assert (stopped.metric, stopped.elapsed) == (Metric.NEXT_RESPONSE, timedelta(minutes=20))


def test_waiting_on_the_customer_pauses_the_resolution_clock() -> None:
    policy = Policy(calendar=POLICY.calendar, resolution={"email": Target(timedelta(hours=2), business=True)})
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), policy)
    clocks.operator_replied(rome(2026, 11, 23, 10, 30), awaiting_customer=True, policy=policy)

    assert clocks.clocks[Metric.RESOLUTION].deadline is None
    assert clocks.tick(rome(2026, 11, 25, 10, 0)) == []  # two days later: paused, nothing fires

    clocks.customer_wrote(rome(2026, 11, 25, 10, 0), policy)  # the customer answers: it runs again
    # 30 minutes counted before the pause, 90 left.
    assert clocks.clocks[Metric.RESOLUTION].deadline == rome(2026, 11, 25, 11, 30)
    [stopped] = clocks.resolved(rome(2026, 11, 25, 11, 0), policy)
    assert isinstance(stopped, Stopped)
    assert (stopped.metric, stopped.elapsed, stopped.met) == (Metric.RESOLUTION, timedelta(minutes=90), True)


def test_a_queue_estimate_past_the_deadline_warns_before_the_clock_does() -> None:
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)

    assert clocks.estimated_answer(rome(2026, 11, 23, 10, 1), timedelta(minutes=20)) == []
    predicted = clocks.estimated_answer(rome(2026, 11, 23, 10, 2), timedelta(minutes=40))

    assert predicted == [Warned(Metric.FIRST_RESPONSE, rome(2026, 11, 23, 10, 30), predicted=True)]
    assert clocks.tick(rome(2026, 11, 23, 10, 24)) == []  # already warned
    assert clocks.estimated_answer(rome(2026, 11, 23, 10, 3), timedelta(minutes=60)) == []


def test_resolved_counts_as_paused_and_the_customer_writing_reopens_the_same_resolution_clock() -> None:
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)  # Monday
    clocks.operator_replied(rome(2026, 11, 23, 10, 5), awaiting_customer=False, policy=POLICY)
    resolution = DEFAULT_RESOLUTION["email"]  # 16 business hours

    assert clocks.resolved(rome(2026, 11, 23, 10, 10), POLICY) == [
        Stopped(Metric.RESOLUTION, timedelta(minutes=10), resolution, met=True)
    ]
    assert clocks.resolved(rome(2026, 11, 23, 10, 11), POLICY) == []  # resolved already
    assert (
        clocks.state_changed(rome(2026, 11, 23, 11, 0), "open", "", POLICY) == []
    )  # only the customer reopens
    assert clocks.tick(rome(2026, 11, 30, 9, 0)) == []  # resolved: nothing counts, nothing fires

    # Tuesday 09:00: the 10 minutes carry over, 15 h 50 of business time are left (Tuesday's 8 h,
    # Wednesday 09:00-13:00 and 14:00-17:50); the reopened conversation is owed a first response.
    reopened = clocks.customer_wrote(rome(2026, 11, 24, 9, 0), POLICY)
    assert reopened == [
        Resumed(
            Metric.RESOLUTION,
            timedelta(minutes=10),
            rome(2026, 11, 25, 14, 38),  # 80% of 16 h counted
            rome(2026, 11, 25, 17, 50),
            "reopened",
        ),
        Started(
            Metric.FIRST_RESPONSE,
            EMAIL_TARGET,
            rome(2026, 11, 24, 9, 24),
            rome(2026, 11, 24, 9, 30),
            rome(2026, 11, 24, 9, 0),
        ),
    ]
    # Resolved again: judged on all the time counted, 10 minutes then 30.
    assert clocks.resolved(rome(2026, 11, 24, 9, 30), POLICY) == [
        Stopped(Metric.RESOLUTION, timedelta(minutes=40), resolution, met=True)
    ]


def test_after_the_time_for_a_reopen_a_message_starts_afresh() -> None:
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)
    clocks.resolved(rome(2026, 11, 23, 10, 10), POLICY)
    later = rome(2026, 11, 23, 10, 10) + POLICY.reopen_within + timedelta(seconds=1)

    assert not clocks.reopenable(later, POLICY)
    again = clocks.customer_wrote(later, POLICY)
    assert [(type(o), o.metric) for o in again] == [
        (Started, Metric.FIRST_RESPONSE),
        (Started, Metric.RESOLUTION),
    ]


def test_a_policy_without_reopening_keeps_nothing_after_the_resolution() -> None:
    policy = Policy(calendar=POLICY.calendar, reopen_within=timedelta(0))
    clocks = email()
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), policy)
    clocks.resolved(rome(2026, 11, 23, 10, 10), policy)

    assert (clocks.clocks, clocks.resolved_at) == ({}, None)
    reopened = clocks.customer_wrote(rome(2026, 11, 24, 9, 0), policy)
    assert [o.metric for o in reopened] == [Metric.FIRST_RESPONSE, Metric.RESOLUTION]


def test_next_due_is_the_earliest_unfired_moment() -> None:
    clocks = email()
    assert clocks.next_due() is None
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), POLICY)
    assert clocks.next_due() == rome(2026, 11, 23, 10, 24)
    clocks.tick(rome(2026, 11, 23, 10, 24, 1))
    assert clocks.next_due() == rome(2026, 11, 23, 10, 30)


def test_priority_can_tighten_a_target_and_a_channel_without_one_has_no_clock() -> None:
    vip = Target(timedelta(minutes=10), business=False)
    policy = Policy(
        calendar=POLICY.calendar,
        response={"email": EMAIL_TARGET},
        resolution={},
        by_priority={("email", 3, Metric.FIRST_RESPONSE): vip},
    )
    [started] = ConversationClocks("c1", "email", priority=3).customer_wrote(
        rome(2026, 11, 23, 10, 0), policy
    )
    assert isinstance(started, Started)
    assert started.deadline == rome(2026, 11, 23, 10, 10)
    assert ConversationClocks("c2", "viber").customer_wrote(rome(2026, 11, 23, 10, 0), policy) == []


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5])
def test_the_warning_fraction_is_between_zero_and_one(fraction: float) -> None:
    with pytest.raises(ValueError, match="warn_fraction"):
        Policy(warn_fraction=fraction)


def test_a_budget_ending_at_closing_breaches_at_the_next_opening_and_a_reply_while_closed_is_in_time() -> (
    None
):
    answered, silent = email(), ConversationClocks("c2", "email")
    for clocks in (answered, silent):
        clocks.customer_wrote(rome(2026, 11, 20, 17, 30), POLICY)  # Friday: 30 minutes to closing

    assert silent.tick(rome(2026, 11, 20, 18, 0)) == [
        Warned(Metric.FIRST_RESPONSE, rome(2026, 11, 20, 18, 0))
    ]
    assert silent.tick(rome(2026, 11, 22, 12, 0)) == []  # the weekend: nothing more
    assert silent.next_due() == rome(2026, 11, 23, 9, 0)
    assert silent.tick(rome(2026, 11, 23, 9, 0)) == []  # opening: nothing counted yet
    assert silent.tick(rome(2026, 11, 23, 9, 0, 1)) == [
        Breached(Metric.FIRST_RESPONSE, rome(2026, 11, 20, 18, 0))
    ]

    [stopped] = answered.operator_replied(rome(2026, 11, 20, 19, 0), awaiting_customer=False, policy=POLICY)
    assert stopped == Stopped(Metric.FIRST_RESPONSE, timedelta(minutes=30), EMAIL_TARGET, met=True)


def test_a_clock_started_while_closed_says_when_the_shop_opens() -> None:
    first, _ = email().customer_wrote(rome(2026, 11, 21, 23, 0), POLICY)  # Saturday night
    assert isinstance(first, Started)
    assert first.opens_at == rome(2026, 11, 23, 9, 0)
