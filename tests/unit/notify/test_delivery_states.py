"""The deliverer's state machine over the records of a partition, without a broker: every transition."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.message import Message
from hypothesis import given
from hypothesis import strategies as st

from pronto.envelope import Envelope
from pronto.v1 import events_pb2
from services.notify.delivery import partition_state
from services.notify.delivery.partition_state import (
    CountSent,
    PartitionState,
    Reading,
    Report,
    Request,
    Start,
)
from services.notify.domain import statuses

T0 = datetime(2024, 5, 6, 12, 0, tzinfo=UTC)
KEY = b"acme/supervisor/team"


def record(payload: Message, event_id: str = "e", at: datetime = T0) -> Envelope:
    return Envelope(event_id, "/test", "acme", payload, at)


def requested(notification_id: str) -> Envelope:
    return record(events_pb2.NotificationRequested(notification_id=notification_id, kind="breach"))


def delivered(notification_id: str, digest_id: str = "", platform_id: str = "") -> Envelope:
    payload = events_pb2.NotificationDelivered(
        notification_id=notification_id,
        conversation_id="c1",
        adapter="whatsapp",
        digest_id=digest_id,
        platform_message_id=platform_id,
    )
    return record(payload, at=T0 - timedelta(minutes=1))


def reported(platform_id: str) -> Envelope:
    return record(
        events_pb2.DeliveryStatusReported(platform_message_id=platform_id, status=statuses.DELIVERED)
    )


def fence(event_id: str = "fence") -> Envelope:
    return record(events_pb2.DeliveryResumed(partition=0, worker="/test"), event_id=event_id)


def started(actions: list[partition_state.Action]) -> list[str]:
    return [a.request.id for a in actions if isinstance(a, Start)]


# ---------------------------------------------------------------- requests and the fence


def test_a_request_read_before_the_fence_waits_and_is_open() -> None:
    state = PartitionState(fence="fence")
    assert state.fold(0, 7, KEY, requested("n1")) == []
    assert [r.id for r in state.waiting] == ["n1"]
    assert state.open == {7: "n1"}
    assert state.waiting[0].key == KEY.decode()


def test_reading_its_own_fence_starts_what_waited_requests_first_then_reports() -> None:
    state = PartitionState(fence="fence")
    state.fold(0, 1, KEY, requested("n1"))
    state.fold(0, 2, KEY, reported("p1"))
    state.fold(0, 3, KEY, requested("n2"))
    actions = state.fold(0, 4, None, fence())
    assert state.caught_up
    assert started(actions) == ["n1", "n2"]
    assert isinstance(actions[2], Report)
    assert actions[2].report.platform_message_id == "p1"
    assert len(actions) == 3
    assert state.waiting == []
    assert state.reports == []


def test_another_workers_fence_changes_nothing() -> None:
    state = PartitionState(fence="fence")
    state.fold(0, 1, KEY, requested("n1"))
    assert state.fold(0, 2, None, fence("someone else's")) == []
    assert not state.caught_up
    assert len(state.waiting) == 1


def test_reading_the_fence_again_after_a_seek_starts_nothing_again() -> None:
    state = PartitionState(fence="fence")
    state.fold(0, 1, KEY, requested("n1"))
    assert started(state.fold(0, 2, None, fence())) == ["n1"]
    assert state.fold(0, 2, None, fence()) == []


def test_a_request_read_after_the_fence_starts_at_once() -> None:
    state = PartitionState(fence="fence", caught_up=True)
    actions = state.fold(3, 9, KEY, requested("n1"))
    assert started(actions) == ["n1"]
    assert isinstance(actions[0], Start)
    assert (actions[0].request.partition, actions[0].request.offset) == (3, 9)
    assert state.open == {9: "n1"}
    assert state.waiting == []


def test_a_request_without_a_key_has_an_empty_key() -> None:
    state = PartitionState(fence="fence", caught_up=True)
    actions = state.fold(0, 1, None, requested("n1"))
    assert isinstance(actions[0], Start)
    assert actions[0].request.key == ""


# ---------------------------------------------------------------- outcomes already recorded


def test_a_delivery_read_finishes_its_request_and_is_tracked_for_reports() -> None:
    state = PartitionState(fence="fence", caught_up=True)
    assert state.fold(0, 1, KEY, delivered("n1", platform_id="wamid.1")) == []
    assert "n1" in state.done
    tracked = state.deliveries.by_notification["n1"]
    assert tracked.recipient == "team"
    assert tracked.platform_message_id == "wamid.1"
    assert tracked.status == statuses.SENT


def test_a_delivery_read_before_the_fence_counts_against_the_recipients_limit() -> None:
    state = PartitionState(fence="fence")
    actions = state.fold(0, 1, KEY, delivered("n1"))
    assert actions == [CountSent(KEY.decode(), T0 - timedelta(minutes=1))]


def test_a_delivery_read_after_the_fence_was_counted_when_it_was_sent() -> None:
    state = PartitionState(fence="fence", caught_up=True)
    assert state.fold(0, 1, KEY, delivered("n1")) == []


def test_a_delivery_without_a_key_counts_against_nobody() -> None:
    state = PartitionState(fence="fence")
    assert state.fold(0, 1, None, delivered("n1")) == []
    assert "n1" in state.done


def test_a_digest_counts_once_however_many_requests_it_covered() -> None:
    state = PartitionState(fence="fence")
    first = state.fold(0, 1, KEY, delivered("n1", digest_id="d1"))
    second = state.fold(0, 2, KEY, delivered("n2", digest_id="d1"))
    other = state.fold(0, 3, KEY, delivered("n3", digest_id="d2"))
    assert len(first) == 1
    assert second == []
    assert len(other) == 1
    assert {"n1", "n2", "n3"} <= set(state.done)


def test_a_final_failure_finishes_its_request_and_a_passing_one_does_not() -> None:
    state = PartitionState(fence="fence", caught_up=True)
    failed = events_pb2.NotificationFailed(notification_id="n1", final=True)
    passing = events_pb2.NotificationFailed(notification_id="n2", final=False)
    assert state.fold(0, 1, KEY, record(failed)) == []
    assert state.fold(0, 2, KEY, record(passing)) == []
    assert "n1" in state.done
    assert "n2" not in state.done
    assert "n1" not in state.deliveries.by_notification  # a failure is nothing to report on


# ---------------------------------------------------------------- statuses


def test_a_status_change_read_moves_a_tracked_delivery_forward_only() -> None:
    state = PartitionState(fence="fence", caught_up=True)
    state.fold(0, 1, KEY, delivered("n1"))
    read = events_pb2.NotificationStatusChanged(notification_id="n1", status=statuses.READ)
    back = events_pb2.NotificationStatusChanged(notification_id="n1", status=statuses.DELIVERED)
    unknown = events_pb2.NotificationStatusChanged(notification_id="n9", status=statuses.READ)
    assert state.fold(0, 2, KEY, record(read)) == []
    assert state.deliveries.by_notification["n1"].status == statuses.READ
    assert state.fold(0, 3, KEY, record(back)) == []
    assert state.deliveries.by_notification["n1"].status == statuses.READ
    assert state.fold(0, 4, KEY, record(unknown)) == []
    assert "n9" not in state.deliveries.by_notification


def test_a_platform_report_waits_for_the_fence_then_is_read_at_once() -> None:
    state = PartitionState(fence="fence")
    assert state.fold(0, 1, KEY, reported("p1")) == []
    assert len(state.reports) == 1
    state.fold(0, 2, None, fence())
    actions = state.fold(0, 3, KEY, reported("p2"))
    assert len(actions) == 1
    assert isinstance(actions[0], Report)
    assert actions[0].report.platform_message_id == "p2"
    assert state.reports == []


def test_an_event_the_deliverer_does_not_act_on_changes_nothing() -> None:
    state = PartitionState(fence="fence", caught_up=True)
    other = record(events_pb2.DeliveryResumed(partition=0, worker="/else"), event_id="x")
    other_kind = record(events_pb2.NotificationStatusChanged())
    assert state.fold(0, 1, KEY, other) == []
    assert state.fold(0, 2, KEY, other_kind) == []
    assert state.open == {}
    assert not state.done


# ---------------------------------------------------------------- claiming, bounded memory


def test_a_request_is_claimed_once_and_a_copy_is_a_duplicate_no_longer_open() -> None:
    state = PartitionState(fence="fence", caught_up=True)
    [first] = state.fold(0, 1, KEY, requested("n1"))
    [copy] = state.fold(0, 2, KEY, requested("n1"))
    assert isinstance(first, Start)
    assert isinstance(copy, Start)
    assert state.claim(first.request)
    assert not state.claim(copy.request)
    assert state.open == {1: "n1"}  # the original stays open until its outcome is written


def test_a_request_with_a_recorded_outcome_is_a_duplicate() -> None:
    state = PartitionState(fence="fence")
    state.fold(0, 1, KEY, delivered("n1"))
    state.fold(0, 2, KEY, requested("n1"))
    [start] = state.fold(0, 3, None, fence())
    assert isinstance(start, Start)
    assert not state.claim(start.request)
    assert state.open == {}


def test_what_is_remembered_is_bounded_oldest_forgotten_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partition_state, "DONE_CAPACITY", 2)
    monkeypatch.setattr(partition_state, "TEXTS_KEPT", 2)
    state = PartitionState(fence="fence")
    for n in ("a", "b", "c"):
        state.finished(n)
        payload = events_pb2.NotificationRequested(notification_id=n)
        state.remember_text(Request(0, 0, "k", requested(n), payload))
    assert list(state.done) == ["b", "c"]
    assert list(state.texts_sent) == ["b", "c"]


# ---------------------------------------------------------------- offsets


def test_offsets_read_in_order_from_wherever_reading_starts() -> None:
    state = PartitionState(fence="fence")
    assert [state.read(o) for o in (40, 41, 42)] == [Reading.IN_ORDER] * 3
    assert state.next_offset == 43


def test_a_gap_is_read_again_once_then_taken_as_missing() -> None:
    state = PartitionState(fence="fence")
    assert state.read(10) is Reading.IN_ORDER
    assert state.read(13) is Reading.GAP
    assert state.next_offset == 11  # where to read again from
    assert state.read(13) is Reading.MISSING
    assert state.next_offset == 14
    assert state.read(14) is Reading.IN_ORDER


def test_offsets_read_again_after_a_seek_back_are_in_order_and_do_not_move_back() -> None:
    state = PartitionState(fence="fence")
    state.read(10)
    state.read(11)
    assert state.read(5) is Reading.IN_ORDER
    assert state.next_offset == 12


@given(st.integers(0, 1000), st.sets(st.integers(1, 60), max_size=40))
def test_a_reader_seeking_back_on_every_gap_takes_each_record_and_reports_each_gap_once(
    start: int, holes: set[int]
) -> None:
    """A partition whose offsets from ``start`` have holes (records the broker did not return):
    the deliverer's loop seeks back to ``next_offset`` on a gap. Every record present is taken
    in, each hole is reported once as a gap, and reading ends."""
    present = [start + i for i in range(61) if i not in holes]
    state = PartitionState(fence="fence")
    taken: list[int] = []
    gaps = 0
    position = start
    for _ in range(4 * len(present)):
        following = [o for o in present if o >= position]
        if not following:
            break
        offset = following[0]
        reading = state.read(offset)
        if reading is Reading.GAP:
            gaps += 1
            assert state.next_offset is not None
            position = state.next_offset
            continue
        taken.append(offset)
        position = offset + 1
    assert taken == present
    hole_runs = sum(1 for a, b in itertools.pairwise(present) if b > a + 1)
    assert gaps == hole_runs
    assert state.next_offset == present[-1] + 1


@given(st.lists(st.tuples(st.sampled_from("abcde"), st.booleans()), max_size=30), st.integers(0, 30))
def test_every_request_starts_once_in_offset_order_and_each_id_is_claimed_once(
    records: list[tuple[str, bool]], fence_at: int
) -> None:
    """Requests (some ids repeated, some already delivered) around the fence: each request read is
    started exactly once, in offset order; claiming them sends each notification at most once,
    and never one whose outcome was recorded."""
    state = PartitionState(fence="fence")
    actions: list[partition_state.Action] = []
    offsets: list[int] = []
    outcomes: set[str] = set()
    for offset, (notification_id, is_outcome) in enumerate(records):
        if offset == fence_at:
            actions += state.fold(0, 1000, None, fence())
        if is_outcome:
            outcomes.add(notification_id)
            state.fold(0, offset, KEY, delivered(notification_id))
        else:
            offsets.append(offset)
            actions += state.fold(0, offset, KEY, requested(notification_id))
    actions += state.fold(0, 1001, None, fence())
    starts = [a.request for a in actions if isinstance(a, Start)]
    assert [r.offset for r in starts] == offsets
    claimed = [r.id for r in starts if state.claim(r)]
    requested_ids = [notification_id for notification_id, is_outcome in records if not is_outcome]
    assert claimed == [i for i in dict.fromkeys(requested_ids) if i not in outcomes]
    # Open: the first copy of each request claimed, until its outcome is written.
    assert sorted(state.open.values()) == sorted(claimed)
