"""A conversation's SLA at a glance (issue #21, item 4): clock states, time left or overrun, pauses.

Each clock's state, its time left or overrun computed when asked, and its pauses with the state and reason
that caused them."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message

from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.query.domain.conversation import with_entry
from services.query.domain.entries import Doc, conversation_event
from services.query.domain.sla_view import at_glance, with_glance

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
RESOLUTION = events_pb2.SLA_METRIC_RESOLUTION
_ids = itertools.count()


def _at(payload: Message, minutes: float) -> Envelope:
    return Envelope(f"e{next(_ids):04d}", "/test", "shop", payload, T0 + timedelta(minutes=minutes))


def _fold(events: list[Envelope]) -> Doc:
    doc: Doc | None = None
    for envelope in events:
        event = conversation_event(envelope)
        assert event is not None
        doc = with_entry(doc, event.tenant, event.conversation_id, event.entry) or doc
    assert doc is not None
    return doc


def _started() -> events_pb2.SlaClockStarted:
    started = events_pb2.SlaClockStarted(
        conversation_id="c1", metric=RESOLUTION, channel=common_pb2.CHANNEL_EMAIL
    )
    started.target.FromTimedelta(timedelta(hours=1))
    started.warn_at.FromDatetime(T0 + timedelta(minutes=48))
    started.deadline.FromDatetime(T0 + timedelta(hours=1))
    return started


def _paused(minutes: float, state: str, reason: str) -> events_pb2.SlaClockPaused:
    paused = events_pb2.SlaClockPaused(conversation_id="c1", metric=RESOLUTION, state=state, reason=reason)
    paused.elapsed.FromTimedelta(timedelta(minutes=minutes))
    return paused


def _resumed(elapsed: float, deadline: datetime) -> events_pb2.SlaClockResumed:
    resumed = events_pb2.SlaClockResumed(conversation_id="c1", metric=RESOLUTION, state="customer_wrote")
    resumed.elapsed.FromTimedelta(timedelta(minutes=elapsed))
    resumed.warn_at.FromDatetime(deadline - timedelta(minutes=12))
    resumed.deadline.FromDatetime(deadline)
    return resumed


def _history() -> list[Envelope]:
    message = events_pb2.MessageReceived(
        conversation_id="c1", channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="x"), text="hi"
    )
    pending = events_pb2.ConversationStateChanged(
        conversation_id="c1",
        operator_id="op",
        state=events_pb2.CONVERSATION_STATE_PENDING,
        reason="order no.",
    )
    return [
        _at(message, 0),
        _at(_started(), 0),
        _at(pending, 20),
        _at(_paused(20, "pending", "order no."), 20),
        _at(message, 140),
        _at(_resumed(20, T0 + timedelta(minutes=180)), 140),
    ]


def test_a_pause_and_its_resume_are_in_the_clock_and_the_conversation_state_follows() -> None:
    events = _history()
    paused = _fold(events[:4])
    resumed = _fold(events)

    assert paused["state"] == "pending"
    clock = paused["sla"]["resolution"]
    assert (clock["state"], clock["elapsed_s"], clock["deadline"]) == ("paused", 1200.0, None)
    assert clock["pauses"] == [
        {"from": T0 + timedelta(minutes=20), "to": None, "state": "pending", "reason": "order no."}
    ]
    assert resumed["state"] == "open"  # the customer wrote
    clock = resumed["sla"]["resolution"]
    assert (clock["state"], clock["deadline"]) == ("running", T0 + timedelta(minutes=180))
    [pause] = clock["pauses"]
    assert (pause["to"], pause["resumed_by"]) == (T0 + timedelta(minutes=140), "customer_wrote")
    assert [e["type"] for e in resumed["timeline"]][2:4] == ["state", "sla_paused"]


def test_a_reopen_runs_the_settled_clock_again_with_the_resolved_time_as_a_pause() -> None:
    message = events_pb2.MessageReceived(
        conversation_id="c1", channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="x"), text="hi"
    )
    met = events_pb2.SlaMet(conversation_id="c1", metric=RESOLUTION, channel=common_pb2.CHANNEL_EMAIL)
    met.elapsed.FromTimedelta(timedelta(minutes=20))
    met.target.FromTimedelta(timedelta(hours=1))
    reopened = _resumed(20, T0 + timedelta(minutes=220))
    reopened.state = "reopened"
    events = [
        _at(message, 0),
        _at(_started(), 0),
        _at(events_pb2.ConversationResolved(conversation_id="c1", operator_id="op"), 20),
        _at(met, 20),
        _at(message, 180),
        _at(reopened, 180),
    ]

    settled = _fold(events[:4])["sla"]["resolution"]
    assert (settled["state"], settled["pauses"]) == ("met", [])
    doc = _fold(events)
    clock = doc["sla"]["resolution"]
    assert (clock["state"], clock["elapsed_s"], clock["deadline"]) == (
        "running",
        1200.0,
        T0 + timedelta(minutes=220),
    )
    assert clock["pauses"] == [
        {
            "from": T0 + timedelta(minutes=20),
            "to": T0 + timedelta(minutes=180),
            "state": "resolved",
            "reason": "",
            "resumed_by": "reopened",
        }
    ]
    assert doc["status"] == "waiting"


def test_a_response_clock_the_resolution_ends_is_ended_not_breached_later() -> None:
    """The #21 trial: the customer writes "thanks", the operator resolves without replying. SLA
    ends the next-response clock without an event; the read model must not keep it running, where
    its deadline, once passed, read as a breach SLA never fired."""
    message = events_pb2.MessageReceived(
        conversation_id="c1", channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="x"), text="hi"
    )
    response = events_pb2.SlaClockStarted(
        conversation_id="c1", metric=events_pb2.SLA_METRIC_NEXT_RESPONSE, channel=common_pb2.CHANNEL_EMAIL
    )
    response.target.FromTimedelta(timedelta(minutes=30))
    response.warn_at.FromDatetime(T0 + timedelta(minutes=24))
    response.deadline.FromDatetime(T0 + timedelta(minutes=30))
    doc = _fold(
        [
            _at(message, 0),
            _at(response, 0),
            _at(events_pb2.ConversationResolved(conversation_id="c1", operator_id="op"), 5),
        ]
    )

    clock = doc["sla"]["next_response"]
    assert (clock["state"], clock["deadline"]) == ("ended", None)
    glance = at_glance(clock, T0 + timedelta(hours=2))
    assert glance["state"] == "ended"
    assert glance.get("overrun_s") is None


def test_a_later_message_naming_a_tier_changes_the_customers_tier_and_one_naming_none_keeps_it() -> None:
    def message(sender: common_pb2.Sender) -> events_pb2.MessageReceived:
        return events_pb2.MessageReceived(
            conversation_id="c1", channel=common_pb2.CHANNEL_EMAIL, sender=sender
        )

    standard = common_pb2.Sender(id="x", tier=common_pb2.CUSTOMER_TIER_STANDARD)
    vip = common_pb2.Sender(id="x", tier=common_pb2.CUSTOMER_TIER_VIP)
    unnamed = common_pb2.Sender(id="x")
    assert _fold([_at(message(standard), 0)])["customer"]["tier"] == "standard"
    assert _fold([_at(message(standard), 0), _at(message(vip), 1)])["customer"]["tier"] == "vip"
    later = [_at(message(standard), 0), _at(message(vip), 1), _at(message(unnamed), 2)]
    assert _fold(later)["customer"]["tier"] == "vip"


def test_any_order_of_the_pause_events_gives_the_same_document() -> None:
    events = _history()
    expected = _fold(events)
    for seed in range(20):
        shuffled = list(events)
        random.Random(seed).shuffle(shuffled)
        assert _fold(shuffled) == expected


def test_time_left_overrun_and_the_paused_budget_are_computed_when_asked() -> None:
    doc = _fold(_history())
    clock = doc["sla"]["resolution"]

    in_time = at_glance(clock, T0 + timedelta(minutes=150))
    late = at_glance(clock, T0 + timedelta(minutes=190))
    paused = with_glance(_fold(_history()[:4]), T0 + timedelta(days=3))["sla"]["resolution"]

    assert (in_time["state"], in_time["time_left_s"], in_time["overrun_s"]) == ("running", 1800.0, None)
    assert (late["state"], late["time_left_s"], late["overrun_s"]) == ("breached", None, 600.0)
    # Paused: the 40 minutes left of the target, however long it stands still.
    assert (paused["state"], paused["time_left_s"], paused["overrun_s"]) == ("paused", 2400.0, None)


def test_a_breach_fired_with_the_pause_leaves_the_clock_paused_and_breached_when_it_resumes() -> None:
    breached = events_pb2.SlaBreached(conversation_id="c1", metric=RESOLUTION)
    breached.deadline.FromDatetime(T0 + timedelta(hours=1))
    events = _history()
    events[3] = _at(_paused(70, "pending", "order no."), 80)
    events[2] = _at(events[2].payload, 80)
    events.insert(3, _at(breached, 80))

    doc = _fold(events[:5])
    assert (doc["sla"]["resolution"]["state"], doc["sla"]["resolution"]["breached"]) == ("paused", True)
    assert at_glance(doc["sla"]["resolution"], T0 + timedelta(hours=2))["overrun_s"] == 600.0
    assert _fold(events)["sla"]["resolution"]["state"] == "breached"
