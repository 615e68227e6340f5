"""Issue #21: a deadline that passed while no tick came still counts as breached, once, with its deadline.

The worker can be behind: a reply (or a resolution) may be folded after a deadline that no tick saw
pass. Whatever the order of ticks and events, each clock's breach must be the one a worker that
ticked on time would have fired: the same deadline, exactly once, before the clock's result.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto import envelope
from pronto.calendar import BusinessCalendar, Period
from pronto.envelope import Envelope
from pronto.folding import Headers, Out
from pronto.v1 import common_pb2, events_pb2
from services.sla.domain.clock_outputs import Breached, Output, Paused, Resumed, Started, Stopped, Warned
from services.sla.domain.clocks import REOPENED, ConversationClocks
from services.sla.domain.policy import Metric, Policy, Target
from services.sla.worker import Worker

ROME = ZoneInfo("Europe/Rome")
OFFICE = {day: (Period.parse("09:00-13:00"), Period.parse("14:00-18:00")) for day in range(5)}
OFFICE_CALENDAR = BusinessCalendar("Europe/Rome", OFFICE, country="IT")
RESOLUTION_TARGET = Target(timedelta(hours=2), business=True)
# Short targets, so that random histories pass deadlines often, in business and in calendar time.
BUSINESS = Policy(
    calendar=OFFICE_CALENDAR,
    response={"email": Target(timedelta(minutes=30), business=True)},
    resolution={"email": RESOLUTION_TARGET},
)
CALENDAR_TIME = Policy(
    response={"email": Target(timedelta(minutes=20), business=False)},
    resolution={"email": Target(timedelta(minutes=90), business=False)},
)
# How soon after a due moment a worker that keeps up ticks.
PROMPTLY = timedelta(microseconds=1)


def rome(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[arg-type,misc]


# ---------------------------------------------------------------- examples: the clocks


def test_a_pause_after_the_deadline_fires_the_breach_with_its_deadline() -> None:
    """The issue's case: "awaiting the customer" folded after the resolution deadline, no tick between."""
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), BUSINESS)  # Monday: two business hours, due at 12:00
    clocks.operator_replied(rome(2026, 11, 23, 10, 5), awaiting_customer=False, policy=BUSINESS)

    paused = clocks.operator_replied(rome(2026, 11, 23, 15, 0), awaiting_customer=True, policy=BUSINESS)

    assert paused == [
        Breached(Metric.RESOLUTION, rome(2026, 11, 23, 12, 0)),
        Paused(Metric.RESOLUTION, timedelta(hours=4), "awaiting_customer"),
    ]
    assert clocks.tick(rome(2026, 11, 25, 10, 0)) == []
    # The customer writes again: the clock runs, and neither a tick nor the result fires it again.
    clocks.customer_wrote(rome(2026, 11, 25, 10, 0), BUSINESS)
    assert Metric.RESOLUTION not in {o.metric for o in clocks.tick(rome(2026, 11, 25, 12, 0))}
    assert clocks.resolved(rome(2026, 11, 25, 12, 0), BUSINESS) == [
        Stopped(Metric.RESOLUTION, timedelta(hours=6), RESOLUTION_TARGET, met=False)
    ]


def test_a_pause_before_the_deadline_fires_nothing_and_the_breach_comes_later_with_the_new_deadline() -> None:
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), BUSINESS)
    clocks.operator_replied(rome(2026, 11, 23, 10, 30), awaiting_customer=True, policy=BUSINESS)
    clocks.customer_wrote(rome(2026, 11, 25, 10, 0), BUSINESS)  # 90 minutes left: due at 11:30
    clocks.operator_replied(rome(2026, 11, 25, 10, 40), awaiting_customer=False, policy=BUSINESS)

    # Paused again at 11:45, after the deadline of this run, with no tick since it passed.
    paused = clocks.operator_replied(rome(2026, 11, 25, 11, 45), awaiting_customer=True, policy=BUSINESS)

    assert paused == [
        Breached(Metric.RESOLUTION, rome(2026, 11, 25, 11, 30)),
        Paused(Metric.RESOLUTION, timedelta(minutes=135), "awaiting_customer"),
    ]
    [missed] = clocks.resolved(rome(2026, 11, 26, 9, 0), BUSINESS)
    assert missed == Stopped(Metric.RESOLUTION, timedelta(minutes=135), RESOLUTION_TARGET, met=False)


def test_a_pause_while_closed_after_a_budget_ending_at_closing_is_in_time() -> None:
    """As a reply would be: the breach fires at the first instant past the target, the next opening."""
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 11, 0), BUSINESS)  # two business hours end at 13:00, lunch
    clocks.operator_replied(rome(2026, 11, 23, 11, 5), awaiting_customer=False, policy=BUSINESS)

    assert clocks.operator_replied(rome(2026, 11, 23, 13, 30), awaiting_customer=True, policy=BUSINESS) == [
        Paused(Metric.RESOLUTION, timedelta(hours=2), "awaiting_customer")
    ]
    [met] = clocks.resolved(rome(2026, 11, 24, 9, 0), BUSINESS)
    assert met == Stopped(Metric.RESOLUTION, timedelta(hours=2), RESOLUTION_TARGET, met=True)


def test_a_breach_a_tick_fired_is_not_fired_again_by_the_pause() -> None:
    clocks = ConversationClocks("c1", "email")
    clocks.customer_wrote(rome(2026, 11, 23, 10, 0), BUSINESS)
    clocks.operator_replied(rome(2026, 11, 23, 10, 5), awaiting_customer=False, policy=BUSINESS)
    assert Breached(Metric.RESOLUTION, rome(2026, 11, 23, 12, 0)) in clocks.tick(rome(2026, 11, 23, 12, 1))

    assert clocks.operator_replied(rome(2026, 11, 23, 15, 0), awaiting_customer=True, policy=BUSINESS) == [
        Paused(Metric.RESOLUTION, timedelta(hours=4), "awaiting_customer")
    ]


# ---------------------------------------------------------------- property: the clocks

KINDS = ("message", "reply", "awaiting", "resolve", "tick")
histories = st.tuples(
    st.sampled_from((BUSINESS, CALENDAR_TIME)),
    st.integers(0, 7 * 24 * 60),  # the first message's minute in the week from Monday 00:00
    st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 4 * 3600)), max_size=30),
    st.integers(0, 4 * 3600),  # seconds from the last event to the final resolution
)
MONDAY = rome(2026, 11, 23, 0, 0)


def _timeline(start_minute: int, steps: list[tuple[str, int]], final_gap: int) -> list[tuple[str, datetime]]:
    """The first message, the drawn steps after gaps of seconds, and a resolution that ends every clock."""
    at = MONDAY + timedelta(minutes=start_minute)
    timeline = [("message", at)]
    for kind, gap in steps:
        at += timedelta(seconds=gap)
        timeline.append((kind, at))
    return [*timeline, ("resolve", at + timedelta(seconds=final_gap))]


def _fold(policy: Policy, timeline: list[tuple[str, datetime]], timely: bool) -> list[Output]:
    """The clocks' outputs; ``timely`` ticks as soon as anything is due, instead of at the drawn ticks."""
    clocks = ConversationClocks("c1", "email")
    outputs: list[Output] = []
    for kind, at in timeline:
        if timely:
            while (due := clocks.next_due()) is not None and due + PROMPTLY <= at:
                outputs += clocks.tick(due + PROMPTLY)
        if kind == "tick":
            outputs += [] if timely else clocks.tick(at)
        elif kind == "message":
            outputs += clocks.customer_wrote(at, policy)
        elif kind in ("reply", "awaiting"):
            outputs += clocks.operator_replied(at, awaiting_customer=kind == "awaiting", policy=policy)
        else:
            outputs += clocks.resolved(at, policy)
    return outputs


Lifecycle = tuple[list[datetime], Stopped | None]


def _lifecycles(outputs: list[Output]) -> dict[Metric, list[Lifecycle]]:
    """Per metric, each clock from its start: the deadlines it breached, and its result if it had one."""
    lives: dict[Metric, list[Lifecycle]] = {}
    for output in outputs:
        if isinstance(output, Started):
            lives.setdefault(output.metric, []).append(([], None))
        elif isinstance(output, Breached):
            breaches, result = lives[output.metric][-1]
            assert result is None, f"a breach after the result: {output}"
            breaches.append(output.deadline)
        elif isinstance(output, Stopped):
            breaches, _ = lives[output.metric][-1]
            lives[output.metric][-1] = (breaches, output)
        elif isinstance(output, Resumed) and output.state == REOPENED:
            # The customer wrote after the resolution: the same clock counts on, its result to come.
            breaches, _ = lives[output.metric][-1]
            lives[output.metric][-1] = (breaches, None)
        else:
            assert isinstance(output, Warned | Paused | Resumed)
    return lives


@settings(max_examples=300, deadline=None)
@given(histories)
def test_every_late_clock_breaches_once_with_its_real_deadline_whatever_the_ticks(
    history: tuple[Policy, int, list[tuple[str, int]], int],
) -> None:
    policy, start_minute, steps, final_gap = history
    timeline = _timeline(start_minute, steps, final_gap)

    behind = _lifecycles(_fold(policy, timeline, timely=False))
    on_time = _lifecycles(_fold(policy, timeline, timely=True))

    assert behind.keys() == on_time.keys()
    for metric, lives in behind.items():
        assert len(lives) == len(on_time[metric])
        for (breaches, result), (timely_breaches, timely_result) in zip(lives, on_time[metric], strict=True):
            assert result == timely_result
            assert len(breaches) <= 1
            if result is None:
                # A response clock the resolution ended unanswered has no result, and only a tick
                # before the resolution fires its breach: at most the one a timely worker fires.
                assert breaches in ([], timely_breaches)
                continue
            # The same breach, with the same deadline, as a worker that never fell behind; late
            # counts once as breached, in time never (compliance = met / (met + breached)).
            assert breaches == timely_breaches
            assert len(breaches) == (0 if result.met else 1)


# ---------------------------------------------------------------- the worker: what it emits

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Rome
_ids = itertools.count()


def _record(payload: Message, at: datetime, tenant: str = "shop") -> tuple[Headers, bytes]:
    return envelope.encode(Envelope(f"late{next(_ids)}", "/test", tenant, payload, at))


def _message(conversation: str) -> events_pb2.MessageReceived:
    return events_pb2.MessageReceived(
        conversation_id=conversation, channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="x")
    )


def _decoded(outs: list[Out]) -> list[Message]:
    return [envelope.decode(o.headers, o.value).payload for o in outs]


def test_the_worker_emits_the_pause_breach_with_the_real_deadline_and_then_only_the_miss() -> None:
    w = Worker({"shop": BUSINESS}, Policy(), "/test")
    w.apply(0, *_record(_message("c1"), T0))
    w.apply(0, *_record(events_pb2.OperatorReplied(conversation_id="c1"), T0 + timedelta(minutes=5)))
    awaiting = events_pb2.OperatorReplied(conversation_id="c1", awaiting_customer=True)

    [breached, paused] = _decoded(w.apply(0, *_record(awaiting, T0 + timedelta(hours=5))))  # Monday 15:00

    assert isinstance(breached, events_pb2.SlaBreached)
    assert breached.metric == events_pb2.SLA_METRIC_RESOLUTION
    assert breached.deadline.ToDatetime(UTC) == T0 + timedelta(hours=2)  # 12:00 in Rome
    assert isinstance(paused, events_pb2.SlaClockPaused)
    assert (paused.state, paused.elapsed.ToTimedelta()) == ("awaiting_customer", timedelta(hours=4))
    tick = _record(events_pb2.SlaTick(), T0 + timedelta(days=2), tenant="*")
    assert w.apply(0, *tick) == []  # paused: nothing fires
    w.apply(0, *_record(_message("c1"), T0 + timedelta(days=2)))
    resolved = events_pb2.ConversationResolved(conversation_id="c1")
    [missed] = _decoded(w.apply(0, *_record(resolved, T0 + timedelta(days=2, minutes=20))))
    assert isinstance(missed, events_pb2.SlaMissed)


# ---------------------------------------------------------------- property: the worker

worker_steps = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.sampled_from(("c1", "c2")),
        st.integers(0, 4 * 3600),
    ),
    max_size=30,
)


def _worker_history(drawn: list[tuple[str, str, int]]) -> list[tuple[str, Message, datetime]]:
    at = T0
    history: list[tuple[str, Message, datetime]] = []
    for kind, conversation, gap in drawn:
        at += timedelta(seconds=gap)
        payload: Message
        if kind == "message":
            payload = _message(conversation)
        elif kind in ("reply", "awaiting"):
            payload = events_pb2.OperatorReplied(
                conversation_id=conversation, awaiting_customer=kind == "awaiting"
            )
        elif kind == "resolve":
            payload = events_pb2.ConversationResolved(conversation_id=conversation)
        else:
            payload = events_pb2.SlaTick()
        history.append((kind, payload, at))
    end = at + timedelta(hours=1)
    return [
        *history,
        *(("resolve", events_pb2.ConversationResolved(conversation_id=c), end) for c in ("c1", "c2")),
    ]


def _emitted(history: list[tuple[str, Message, datetime]], timely: bool) -> list[Message]:
    w = Worker({"shop": BUSINESS}, Policy(), "/test")
    emitted: list[Message] = []
    for kind, payload, at in history:
        if timely:
            state = w.partitions.get(0)
            while state is not None and state.due and (tick := state.due[0][0] + PROMPTLY) <= at:
                emitted += _decoded(w.apply(0, *_record(events_pb2.SlaTick(), tick, tenant="*")))
        if kind == "tick":
            if not timely:
                emitted += _decoded(w.apply(0, *_record(payload, at, tenant="*")))
        else:
            emitted += _decoded(w.apply(0, *_record(payload, at)))
    return emitted


def _worker_lifecycles(emitted: list[Message]) -> dict[tuple[str, int], list[tuple[list[datetime], str]]]:
    lives: dict[tuple[str, int], list[tuple[list[datetime], str]]] = {}
    for event in emitted:
        reopened = isinstance(event, events_pb2.SlaClockResumed) and event.state == REOPENED
        passing = events_pb2.SlaWarning | events_pb2.SlaClockPaused | events_pb2.SlaClockResumed
        if isinstance(event, passing) and not reopened:
            continue
        key = (event.conversation_id, event.metric)  # type: ignore[attr-defined]
        if reopened:  # the same clock counts on after the resolution, its result to come
            breaches, _ = lives[key][-1]
            lives[key][-1] = (breaches, "")
        elif isinstance(event, events_pb2.SlaClockStarted):
            lives.setdefault(key, []).append(([], ""))
        elif isinstance(event, events_pb2.SlaBreached):
            breaches, result = lives[key][-1]
            assert result == "", "a breach after the result"
            breaches.append(event.deadline.ToDatetime(UTC))
        else:
            breaches, _ = lives[key][-1]
            lives[key][-1] = (breaches, type(event).__name__)
    return lives


@settings(max_examples=100, deadline=None)
@given(worker_steps)
def test_the_worker_emits_one_breach_per_late_clock_with_its_real_deadline_whatever_the_ticks(
    drawn: list[tuple[str, str, int]],
) -> None:
    history = _worker_history(drawn)

    behind = _worker_lifecycles(_emitted(history, timely=False))
    on_time = _worker_lifecycles(_emitted(history, timely=True))

    assert behind.keys() == on_time.keys()
    for key, lives in behind.items():
        for (breaches, result), (timely_breaches, timely_result) in zip(lives, on_time[key], strict=True):
            assert result == timely_result
            assert len(breaches) <= 1
            if result == "":  # a response clock the resolution ended unanswered
                assert breaches in ([], timely_breaches)
            else:
                assert breaches == timely_breaches
                assert len(breaches) == (1 if result == "SlaMissed" else 0)
