"""Snapshots of the folding services' partition states: round trips, old schemas, corrupt bytes."""

from __future__ import annotations

import os
import pickle
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pronto import envelope, snapshots
from pronto.errors import SnapshotError
from pronto.folding import FoldBase, Headers
from pronto.v1 import snapshot_pb2
from services.notify.worker import PartitionState as NotifyState
from services.routing.shop import Policy, Shop
from services.sla.domain.windows import ResponseWindows
from services.sla.worker import PartitionState as SlaState
from tests.unit.routing import shop_events
from tests.unit.sla import test_worker as sla_tests

ATTRIBUTES = {"processor": "pronto-test", "partition": 0, "next_offset": 7, "records": 7, "state_version": 1}


def _through_a_snapshot(worker: FoldBase, fresh: FoldBase) -> FoldBase:
    """``fresh`` given ``worker``'s partition 0 by way of the bytes a snapshot writes."""
    data = snapshots.encode(worker.partitions[0], **ATTRIBUTES, schema=worker.schema)
    state = snapshots.decode(snapshots.read_header(data), state_version=1, schema=fresh.schema)
    fresh.restore(0, state)
    return fresh


def _resumes_like_the_live_run(make: Any, history: list[tuple[Headers, bytes]], cut: int) -> None:
    """Folding ``history`` live, and folding its first ``cut`` records, snapshotting, restoring in a new
    worker and folding the rest, emit the same records after the cut."""
    live = make()
    emitted = [[(o.key, o.value) for o in live.apply(0, h, v)] for h, v in history]
    before = make()
    for headers, value in history[:cut]:
        before.apply(0, headers, value)
    if 0 not in before.partitions:
        return
    restored = _through_a_snapshot(before, make())
    resumed = [[(o.key, o.value) for o in restored.apply(0, h, v)] for h, v in history[cut:]]
    assert resumed == emitted[cut:]


@settings(max_examples=100, deadline=None)
@given(sla_tests.steps, st.integers(0, 40))
def test_sla_resumes_from_a_snapshot_exactly_as_it_ran(drawn: list[tuple[str, str, int]], cut: int) -> None:
    _resumes_like_the_live_run(sla_tests.worker, sla_tests._history(drawn), cut)


@pytest.mark.parametrize("cut", [1, 5, 17, 30, 45])
def test_routing_resumes_from_a_snapshot_exactly_as_it_ran(cut: int) -> None:
    history = [envelope.encode(e) for e in shop_events.sample_history()]
    _resumes_like_the_live_run(shop_events.new_worker, history, cut)


def test_routing_restored_decides_by_the_policy_configured_now() -> None:
    worker = shop_events.new_worker()
    for e in shop_events.sample_history()[:10]:
        worker.apply(0, *envelope.encode(e))
    fresh = shop_events.new_worker()
    fresh.policy = Policy()
    restored = _through_a_snapshot(worker, fresh)
    assert all(shop.policy is fresh.policy for shop in restored.partitions[0].values())


def test_notify_resumes_from_a_snapshot_exactly_as_it_ran() -> None:
    from tests.unit.notify import test_worker as notify_tests

    history = [
        notify_tests.record(notify_tests.assigned("c0")),  # before the first message: kept waiting
        notify_tests.record(notify_tests.message("c0")),
        notify_tests.record(notify_tests.message("c1", language="pl")),
        notify_tests.record(notify_tests.assigned("c1")),
        notify_tests.record(notify_tests.message("c1", language="it")),
        notify_tests.record(notify_tests.assigned("c2")),
        notify_tests.record(notify_tests.message("c2")),
    ]
    for cut in range(1, len(history)):
        _resumes_like_the_live_run(notify_tests.worker, history, cut)


def test_the_states_schema_is_their_classes_fields() -> None:
    assert snapshots.fingerprint(SlaState) == snapshots.fingerprint(SlaState)
    assert snapshots.fingerprint(SlaState) != snapshots.fingerprint(NotifyState)
    assert snapshots.fingerprint(dict[str, Shop]) != snapshots.fingerprint(SlaState)


def test_a_state_of_an_older_schema_gets_the_fields_added_since() -> None:
    state = SlaState()
    state.windows.started("shop", "email", sla_tests.T0)
    del state.windows.__dict__["kept_from"]  # as pickled before the field existed
    data = snapshots.encode(state, **ATTRIBUTES, schema="older")

    restored = snapshots.decode(snapshots.read_header(data), state_version=1, schema="current")

    assert restored.windows.kept_from == 0
    assert restored.windows.buckets == state.windows.buckets


def test_a_field_removed_since_is_dropped() -> None:
    state = ResponseWindows()
    state.__dict__["gone"] = 1
    data = snapshots.encode(state, **ATTRIBUTES, schema="older")

    assert not hasattr(snapshots.decode(snapshots.read_header(data), state_version=1), "gone")


def test_another_state_version_is_unreadable() -> None:
    data = snapshots.encode(SlaState(), **ATTRIBUTES, schema="s")
    with pytest.raises(SnapshotError, match="state version 1; this code keeps version 2"):
        snapshots.decode(snapshots.read_header(data), state_version=2, schema="s")


@given(st.data())
@settings(max_examples=50, deadline=None)
def test_corrupt_or_truncated_bytes_are_unreadable(data: st.DataObject) -> None:
    state = SlaState()
    state.seen.update((f"event-{n}", None) for n in range(100))
    good = snapshots.encode(state, **ATTRIBUTES, schema="s")
    frame = snapshot_pb2.PartitionSnapshot.FromString(good)
    # Positions drawn within fixed bounds: the frame's length varies by a byte or two with the time
    # it records, and hypothesis refuses a strategy whose bounds change between runs of one case.
    at = data.draw(st.integers(0, 10**6)) % len(frame.state)
    damaged = bytearray(frame.state)
    damaged[at] ^= data.draw(st.integers(1, 255))
    frame.state = bytes(damaged)

    with pytest.raises(SnapshotError):
        snapshots.read_header(frame.SerializeToString())
    with pytest.raises(SnapshotError):
        snapshots.read_header(good[: data.draw(st.integers(0, 10**6)) % len(good)])


class _Exploit:
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, ("echo pwned",)


@pytest.mark.parametrize(
    "pickled",
    [
        pickle.dumps(_Exploit()),
        pickle.dumps(getattr),
        pickle.dumps(eval),
        # A class that one of Pronto's modules imports (a Kafka client) is not one of its state's.
        b"cpronto.kafka.reader\nAIOKafkaConsumer\n)R.",
        b"cpronto.folding\nFoldingApp\n)R.",
    ],
    ids=["os.system", "getattr", "eval", "imported-class", "service-class"],
)
def test_a_snapshot_may_name_none_but_prontos_state_classes(pickled: bytes) -> None:
    body = zlib.compress(pickled)
    frame = snapshot_pb2.PartitionSnapshot(
        format=1, state_version=1, state=body, state_crc32=zlib.crc32(body)
    )

    with pytest.raises(SnapshotError, match="may not name"):
        snapshots.decode(snapshots.read_header(frame.SerializeToString()), state_version=1)


def test_a_class_that_moved_is_read_from_its_new_module() -> None:
    from pronto.calendar import BusinessCalendar

    body = zlib.compress(b"cservices.sla.domain.calendar\nBusinessCalendar\n.")
    frame = snapshot_pb2.PartitionSnapshot(
        format=1, state_version=1, state=body, state_crc32=zlib.crc32(body)
    )

    assert (
        snapshots.decode(snapshots.read_header(frame.SerializeToString()), state_version=1)
        is BusinessCalendar
    )


def test_large_snapshots_are_cut_into_chunks_that_join_again() -> None:
    data = os.urandom(snapshots.CHUNK_BYTES * 2 + 10)
    pieces = snapshots.chunks(data)
    assert [len(p) for p in pieces] == [snapshots.CHUNK_BYTES, snapshots.CHUNK_BYTES, 10]
    assert b"".join(pieces) == data
    assert snapshots.chunks(b"") == [b""]
