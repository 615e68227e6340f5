"""The worker side of the stream core (``pronto.folding.worker``) and its app's record plumbing, no broker.

Replay throws outputs away, derived events are the same live and on a replay, and headers reach the worker
as Kafka has them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from pronto import envelope, event_ids
from pronto.envelope import Envelope
from pronto.folding import FoldBase, Headers, Out, Seen
from pronto.folding.app import headers_of
from pronto.v1 import events_pb2

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Counting(FoldBase):
    """Counts the distinct events per partition and answers each with one derived SlaTick."""

    processor = "test"
    source = "/test"

    def __init__(self) -> None:
        self.partitions: dict[int, Any] = {}
        self.invalid = 0
        self.seen = Seen()

    def apply(self, partition: int, headers: Headers, value: bytes | None) -> list[Out]:
        event = self.first_time(self.seen, headers, value)
        if event is None:
            return []
        self.partitions[partition] = self.partitions.get(partition, 0) + 1
        return [self.derived(event, 0, event.id, event.tenant, events_pb2.SlaTick(), emitted=event.id)]


def records(ids: Iterable[str]) -> list[tuple[Headers, bytes]]:
    return [envelope.encode(Envelope(i, "/test", "shop", events_pb2.SlaTick(), T0)) for i in ids]


def test_a_replay_applies_every_record_and_emits_nothing() -> None:
    fold = Counting()

    assert fold.replay(0, records(["a", "b", "a"])) == 3

    assert fold.partitions == {0: 2}
    assert fold.replaying is False
    # After the replay it decides again, emitting.
    assert [out.emitted for out in fold.apply(0, *records(["c"])[0])] == ["c"]


def test_a_replay_that_fails_leaves_the_worker_emitting() -> None:
    fold = Counting()

    with pytest.raises(ValueError, match="unpack"):
        fold.replay(0, [(records(["a"])[0][0], None), "not a record"])  # type: ignore[list-item]

    assert fold.replaying is False


def test_a_derived_event_is_the_same_bytes_live_and_after_a_replay() -> None:
    live = Counting().apply(0, *records(["a"])[0])
    replayed = Counting()
    replayed.replay(0, records(["x"]))

    again = replayed.apply(0, *records(["a"])[0])

    assert [(o.key, o.headers, o.value) for o in again] == [(o.key, o.headers, o.value) for o in live]
    assert envelope.decode(live[0].headers, live[0].value).id == event_ids.derived("test", "a", 0)


def test_while_replaying_a_derived_event_is_not_encoded() -> None:
    fold = Counting()
    fold.replaying = True

    out = fold.apply(0, *records(["a"])[0])

    assert out == [Out(b"a", [], b"", "a")]


def test_drop_and_restore_change_only_the_partitions_named() -> None:
    fold = Counting()
    fold.replay(0, records(["a"]))
    fold.replay(1, records(["b"]))

    fold.drop([0, 7])
    fold.restore(2, 40)

    assert fold.partitions == {1: 1, 2: 40}


@pytest.mark.parametrize(
    "headers",
    [
        [("ce_id", b"a"), ("ce_type", b"t")],
        {"ce_id": b"a", "ce_type": b"t"},
        [("ce_id", bytearray(b"a")), ("ce_type", memoryview(b"t"))],
    ],
    ids=["list", "dict", "buffers"],
)
def test_headers_reach_the_worker_as_name_and_bytes_pairs(headers: Any) -> None:
    event: Any = SimpleNamespace(message=SimpleNamespace(headers=headers))

    assert headers_of(event) == [("ce_id", b"a"), ("ce_type", b"t")]


def test_a_record_without_headers_has_none() -> None:
    event: Any = SimpleNamespace(message=SimpleNamespace(headers=None))

    assert headers_of(event) == []
