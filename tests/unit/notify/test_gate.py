"""Rate limits and quiet hours: a storm becomes digests, nobody is told anything at night."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.notify.domain.gate import Gate, Limit

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LIMIT = Limit(count=3, window=timedelta(minutes=10))


def test_within_the_limit_everything_goes_out_at_once() -> None:
    gate: Gate[str] = Gate(lambda _r: LIMIT)
    assert [gate.offer("boss", f"b{i}", T0 + timedelta(seconds=i)) for i in range(3)] == [True] * 3
    assert gate.digests(T0 + timedelta(seconds=5)) == []


def test_past_the_limit_the_rest_waits_for_one_digest_when_the_window_has_room() -> None:
    gate: Gate[str] = Gate(lambda _r: LIMIT)
    for i in range(10):
        gate.offer("boss", f"b{i}", T0 + timedelta(seconds=i))

    assert gate.held() == 7
    assert gate.digests(T0 + timedelta(minutes=9)) == []
    assert gate.digests(T0 + timedelta(minutes=10)) == [("boss", [f"b{i}" for i in range(3, 10)])]
    assert gate.held() == 0


def test_while_something_is_held_newer_items_join_the_digest_to_keep_their_order() -> None:
    gate: Gate[str] = Gate(lambda _r: LIMIT)
    for i in range(4):
        gate.offer("boss", f"b{i}", T0)
    later = T0 + timedelta(minutes=10)
    assert gate.offer("boss", "b4", later) is False
    assert gate.digests(later) == [("boss", ["b3", "b4"])]


def test_recipients_are_limited_separately() -> None:
    gate: Gate[str] = Gate(lambda _r: LIMIT)
    for i in range(3):
        gate.offer("boss", f"b{i}", T0)
    assert gate.offer("marek", "m0", T0) is True


def test_nothing_goes_out_while_the_recipient_is_off_then_one_digest_when_they_are_on() -> None:
    morning = T0.replace(hour=8)

    def awake(_recipient: str, at: datetime) -> bool:
        return at >= morning

    gate: Gate[str] = Gate(lambda _r: LIMIT, awake)
    night = T0.replace(hour=0)
    assert gate.offer("boss", "breach 1", night) is False
    assert gate.offer("boss", "breach 2", night + timedelta(hours=1)) is False
    assert gate.digests(night + timedelta(hours=7)) == []
    assert gate.digests(morning) == [("boss", ["breach 1", "breach 2"])]


def test_sends_learnt_back_after_a_restart_count_against_the_limit() -> None:
    gate: Gate[str] = Gate(lambda _r: LIMIT)
    for _ in range(3):
        gate.sent("boss", T0)
    assert gate.offer("boss", "b", T0 + timedelta(minutes=1)) is False


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 3600)), max_size=200))
def test_no_recipient_ever_gets_more_than_the_limit_in_a_window_and_nothing_is_lost(
    offers: list[tuple[str, int]],
) -> None:
    gate: Gate[int] = Gate(lambda _r: LIMIT)
    sent: dict[str, list[datetime]] = {}
    delivered: list[int] = []
    now = T0
    for index, (recipient, seconds) in enumerate(sorted(offers, key=lambda o: o[1])):
        now = T0 + timedelta(seconds=seconds)
        for who, items in gate.digests(now):
            sent.setdefault(who, []).append(now)
            delivered += items
        if gate.offer(recipient, index, now):
            sent.setdefault(recipient, []).append(now)
            delivered.append(index)
    end = now + LIMIT.window
    for who, items in gate.digests(end):
        sent.setdefault(who, []).append(end)
        delivered += items

    assert sorted(delivered) == list(range(len(offers)))
    for moments in sent.values():
        for i, moment in enumerate(moments):
            in_window = [m for m in moments[: i + 1] if m > moment - LIMIT.window]
            assert len(in_window) <= LIMIT.count
