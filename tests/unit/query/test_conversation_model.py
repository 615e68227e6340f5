"""A conversation's document is a function of its set of events: any order, any repetition."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto.envelope import Envelope
from pronto.v1 import common_pb2, events_pb2
from services.query.domain.conversation import with_entry
from services.query.domain.entries import Doc, conversation_event, ms
from tests.support import history

START = datetime(2026, 11, 24, 9, 0, 0, 123456, tzinfo=UTC)


def fold(events: list[Envelope]) -> Doc | None:
    doc: Doc | None = None
    for envelope in events:
        event = conversation_event(envelope)
        assert event is not None
        doc = with_entry(doc, event.tenant, event.conversation_id, event.entry) or doc
    return doc


def test_answered_in_time() -> None:
    doc = fold(history.conversation("shop", 0, START))
    assert doc is not None
    assert (doc["_id"], doc["status"], doc["channel"]) == ("shop/conv-0000", "assigned", "web_chat")
    assert doc["operator"] == {"id": "op-0", "name": "Operator 0"}
    assert doc["customer"]["name"] == "Customer 0"
    assert doc["customer"]["tier"] == "gold"
    assert doc["topics"] == ["orders"]
    assert doc["language"] == "it"
    assert doc["first_response"]["seconds"] == 20.0
    assert doc["first_response"]["operator_id"] == "op-0"
    assert doc["sla"]["first_response"]["state"] == "met"
    assert doc["sla"]["first_response"]["elapsed_s"] == 20.0
    assert [e["seq"] for e in doc["timeline"]] == list(range(1, 6))
    assert doc["seq"] == 5
    assert [e["type"] for e in doc["timeline"]] == ["message", "sla_started", "assigned", "reply", "sla_met"]


def test_answered_late_queued_and_resolved() -> None:
    late, queued, resolved = (fold(history.conversation("shop", n, START)) for n in (1, 2, 3))
    assert late is not None
    assert queued is not None
    assert resolved is not None
    assert late["sla"]["first_response"]["state"] == "missed"
    assert queued["status"] == "queued"
    assert queued["queue"] == {
        "position": 3,
        "estimated_wait_s": 90.0,
        "nobody_online": False,
    }
    assert queued["sla"]["first_response"]["state"] == "breached"
    assert queued["first_response"] is None
    assert resolved["status"] == "resolved"
    assert queued["waiting_since"] == queued["created_at"]  # waiting since the first message
    assert (late["waiting_since"], resolved["waiting_since"]) == (None, None)
    assert resolved["resolved_by"] == "op-0"
    assert resolved["messages"] == 2


def test_times_are_kept_to_the_millisecond() -> None:
    doc = fold(history.conversation("shop", 0, START))
    assert doc is not None
    assert doc["created_at"] == ms(START)
    assert doc["created_at"].microsecond == 123000


def test_an_event_already_folded_changes_nothing() -> None:
    events = history.conversation("shop", 3, START)
    doc = fold(events)
    event = conversation_event(events[0])
    assert event is not None
    assert with_entry(doc, "shop", event.conversation_id, event.entry) is None


@settings(max_examples=200, deadline=None)
@given(n=st.integers(0, 7), data=st.data())
def test_any_order_and_repetition_gives_the_same_document(n: int, data: st.DataObject) -> None:
    events = history.conversation("shop", n, START)
    shuffled = data.draw(st.permutations(events))
    repeated = data.draw(st.lists(st.sampled_from(events), max_size=6))
    mixed = data.draw(st.permutations([*shuffled, *repeated]))
    assert fold(mixed) == fold(events)


def test_events_of_no_conversation_are_not_folded() -> None:
    assert all(conversation_event(e) is None for e in history.operators("shop", START))


def _reassigned_history() -> list[Envelope]:
    """Assigned to Anna; Anna goes away, and routing reassigns to Marco at the same instant (derived
    events carry their cause's time); answered, resolved, then written to again."""
    cid, at = "conv-r", START

    def event(n: str, payload: Message, offset_s: float) -> Envelope:
        return Envelope(f"shop-{cid}-{n}", "/test", "shop", payload, at + timedelta(seconds=offset_s))

    message = events_pb2.MessageReceived(conversation_id=cid, channel=common_pb2.CHANNEL_EMAIL, text="Ciao")
    return [
        event("m1", message, 0),
        event(
            "clock",
            events_pb2.SlaClockStarted(conversation_id=cid, metric=events_pb2.SLA_METRIC_FIRST_RESPONSE),
            0,
        ),
        event(
            "a1",
            events_pb2.ConversationAssigned(
                conversation_id=cid, operator_id="anna", operator_display_name="Anna"
            ),
            0,
        ),
        event(
            "r1",
            events_pb2.ConversationReassigned(
                conversation_id=cid, from_operator_id="anna", to_operator_id="marco"
            ),
            30,
        ),
        event(
            "a2",
            events_pb2.ConversationAssigned(
                conversation_id=cid, operator_id="marco", operator_display_name="Marco"
            ),
            30,
        ),
        event(
            "reply", events_pb2.OperatorReplied(conversation_id=cid, operator_id="marco", text="Eccomi"), 40
        ),
        event("done", events_pb2.ConversationResolved(conversation_id=cid, operator_id="marco"), 50),
    ]


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_events_of_the_same_instant_are_ordered_cause_first(data: st.DataObject) -> None:
    events = _reassigned_history()
    assigned = fold(data.draw(st.permutations(events[:5])))
    assert assigned is not None
    assert (assigned["status"], assigned["operator"]) == ("assigned", {"id": "marco", "name": "Marco"})
    assert [e["type"] for e in assigned["timeline"]][:3] == ["message", "assigned", "sla_started"]
    resolved = fold(data.draw(st.permutations(events)))
    assert resolved is not None
    assert (resolved["status"], resolved["resolved_by"]) == ("resolved", "marco")


def test_a_conversation_written_to_again_is_open_and_keeps_its_resolutions() -> None:
    events = _reassigned_history()
    again = events_pb2.MessageReceived(
        conversation_id="conv-r", channel=common_pb2.CHANNEL_EMAIL, text="Ancora io"
    )
    later = Envelope("shop-conv-r-m2", "/test", "shop", again, START + timedelta(minutes=5))
    resolved_by_anna = Envelope(
        "shop-conv-r-done2",
        "/test",
        "shop",
        events_pb2.ConversationResolved(conversation_id="conv-r", operator_id="anna"),
        START + timedelta(minutes=6),
    )
    reopened = fold([*events, later])
    assert reopened is not None
    assert (reopened["status"], reopened["operator"], reopened["resolved_by"]) == ("waiting", None, None)
    twice = fold([*events, later, resolved_by_anna])
    assert twice is not None
    assert [r["operator_id"] for r in twice["resolutions"]] == ["marco", "anna"]


def _clock_history(*changes: events_pb2.SlaClockRetargeted) -> list[Envelope]:
    cid = "conv-tier"
    started = events_pb2.SlaClockStarted(
        conversation_id=cid, metric=events_pb2.SLA_METRIC_FIRST_RESPONSE, business_time=True
    )
    started.target.FromTimedelta(timedelta(minutes=30))
    started.deadline.FromDatetime(START + timedelta(minutes=30))
    message = events_pb2.MessageReceived(
        conversation_id=cid, channel=common_pb2.CHANNEL_EMAIL, sender=common_pb2.Sender(id="c")
    )
    events: list[Message] = [message, started, *changes]
    return [
        Envelope(f"tier-{n}", "/test", "shop", e, START + timedelta(minutes=n)) for n, e in enumerate(events)
    ]


def test_a_retargeted_clock_shows_its_new_target_and_a_switched_off_one_says_so() -> None:
    """SLA's SlaClockRetargeted (a tier raised mid-conversation, issue #21): the running clock's target
    and deadline are the new ones; a tier without a target leaves it switched off."""
    vip = events_pb2.SlaClockRetargeted(
        conversation_id="conv-tier",
        metric=events_pb2.SLA_METRIC_FIRST_RESPONSE,
        tier=common_pb2.CUSTOMER_TIER_VIP,
        business_time=True,
    )
    vip.target.FromTimedelta(timedelta(minutes=10))
    vip.elapsed.FromTimedelta(timedelta(minutes=2))
    vip.deadline.FromDatetime(START + timedelta(minutes=10))
    doc = fold(_clock_history(vip))
    assert doc is not None
    clock = doc["sla"]["first_response"]
    assert (clock["state"], clock["target_s"], clock["deadline"]) == (
        "running",
        600.0,
        ms(START + timedelta(minutes=10)),
    )
    assert clock["started_at"] == ms(START + timedelta(minutes=1))
    [entry] = [e for e in doc["timeline"] if e["type"] == "sla_retargeted"]
    assert (entry["tier"], entry["elapsed_s"], entry["switched_off"]) == ("vip", 120.0, False)

    off = events_pb2.SlaClockRetargeted(
        conversation_id="conv-tier", metric=events_pb2.SLA_METRIC_FIRST_RESPONSE, switched_off=True
    )
    doc = fold(_clock_history(vip, off))
    assert doc is not None
    assert doc["sla"]["first_response"]["state"] == "switched_off"
    assert doc["sla"]["first_response"]["deadline"] is None
