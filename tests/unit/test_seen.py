"""The ids a fold remembers to drop redeliveries: an hour of event time, never more than a count."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import pytest

from pronto import envelope
from pronto.envelope import Envelope
from pronto.folding import FoldBase, Seen
from pronto.folding import worker as fold_worker
from pronto.v1 import events_pb2

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Fold(FoldBase):
    processor = "test"

    def __init__(self) -> None:
        self.invalid = 0


def record(event_id: str, at: datetime) -> tuple[list[tuple[str, bytes]], bytes]:
    return envelope.encode(Envelope(event_id, "/test", "shop", events_pb2.SlaTick(), at))


def test_a_redelivery_within_the_hour_is_dropped() -> None:
    fold, seen = Fold(), Seen()
    assert fold.first_time(seen, *record("a", T0)) is not None
    assert fold.first_time(seen, *record("b", T0 + timedelta(minutes=59))) is not None

    assert fold.first_time(seen, *record("a", T0)) is None
    assert list(seen) == ["a", "b"]


def test_ids_older_than_an_hour_of_event_time_are_forgotten() -> None:
    fold, seen = Fold(), Seen()
    for n in range(100):
        fold.first_time(seen, *record(f"old-{n}", T0 + timedelta(seconds=n)))

    fold.first_time(seen, *record("new", T0 + timedelta(hours=1, seconds=50)))

    assert list(seen) == [f"old-{n}" for n in range(50, 100)] + ["new"]


def test_never_more_than_the_capacity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fold_worker, "SEEN_CAPACITY", 5)
    fold, seen = Fold(), Seen()
    for n in range(20):
        fold.first_time(seen, *record(f"e-{n}", T0))

    assert list(seen) == [f"e-{n}" for n in range(15, 20)]


def test_ids_from_a_snapshot_without_times_are_forgotten_by_count_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fold_worker, "SEEN_CAPACITY", 4)
    fold = Fold()
    seen: Seen = OrderedDict((f"old-{n}", None) for n in range(3))

    fold.first_time(seen, *record("x", T0 + timedelta(days=1)))
    assert list(seen) == ["old-0", "old-1", "old-2", "x"]
    assert fold.first_time(seen, *record("old-1", T0)) is None

    fold.first_time(seen, *record("y", T0 + timedelta(days=1)))
    assert list(seen) == ["old-1", "old-2", "x", "y"]
