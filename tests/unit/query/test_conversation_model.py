"""A conversation's document is a function of its set of events: any order, any repetition."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from pronto.envelope import Envelope
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
