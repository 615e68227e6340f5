"""An operator's document follows its partition's order: an older event redelivered changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from pronto.envelope import Envelope
from pronto.v1 import events_pb2
from services.query.domain.entries import Doc
from services.query.domain.operator import Position, with_event
from tests.support import history

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def test_profile_then_status() -> None:
    profile, online = history.operators("shop", START, count=1)[:2]
    doc = with_event(None, profile, Position(1, 10))
    assert doc is not None
    doc = with_event(doc, online, Position(1, 11))
    assert doc is not None
    assert (doc["_id"], doc["display_name"], doc["team"], doc["status"]) == (
        "shop/op-0",
        "Operator 0",
        "front",
        "online",
    )
    assert doc["capacities"] == {"web_chat": 3, "email": 3, "telegram": 3}
    assert doc["languages"] == [{"language": "it", "proficiency": 5}]
    assert doc["topics"] == ["orders"]
    assert doc["version"] == 2
    assert doc["position"] == {"partition": 1, "offset": 11}


def test_a_redelivered_older_event_does_not_turn_the_status_back() -> None:
    events = history.operators("shop", START, count=1)
    doc: Doc | None = None
    for offset, envelope in enumerate(events):
        doc = with_event(doc, envelope, Position(0, offset)) or doc
    assert doc is not None
    assert doc["status"] == "away"
    assert with_event(doc, events[1], Position(0, 1)) is None
    assert with_event(doc, events[2], Position(0, 2)) is None


def test_the_same_event_written_again_later_counts_once() -> None:
    profile, online, *_ = history.operators("shop", START, count=1)
    away = history.operators("shop", START, count=1)[-1]
    doc: Doc | None = None
    for offset, envelope in enumerate([profile, online, away]):
        doc = with_event(doc, envelope, Position(0, offset)) or doc
    assert doc is not None
    assert with_event(doc, online, Position(0, 3)) is None  # a producer's retry of "online", after "away"
    assert (doc["status"], doc["version"]) == ("away", 3)


def test_a_status_this_build_does_not_know_is_unknown_not_a_crash() -> None:
    (profile, *_rest) = history.operators("shop", START, count=1)
    newer = events_pb2.OperatorStatusChanged(operator_id="op-0")
    newer.status = 99  # type: ignore[assignment]
    changed = Envelope("shop-op-0-new", "/test", "shop", newer, START)
    doc = with_event(with_event(None, profile, Position(0, 0)), changed, Position(0, 1))
    assert doc is not None
    assert doc["status"] == "unknown"
