"""``pronto.logs.Repeats``: a message repeated over and over passes a few times a window, then is counted."""

from __future__ import annotations

import logging

from pronto.logs import KEYS_KEPT, Repeats, limit_repeats


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(msg: str, *args: object, name: str = "aiokafka", level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_the_same_message_passes_burst_times_a_window_then_the_next_window_says_how_many_were_held() -> None:
    clock = Clock()
    repeats = Repeats(burst=3, window_s=60, clock=clock)
    passed = [repeats.filter(record("Unable connect to node %s: %s", n, "refused")) for n in range(100)]
    assert passed == [True] * 3 + [False] * 97

    clock.now = 60.0
    next_window = record("Unable connect to node %s: %s", 101, "refused")
    assert repeats.filter(next_window)
    assert next_window.getMessage() == (
        "Unable connect to node 101: refused (and 97 more like it before this, not logged)"
    )
    clock.now = 61.0
    quiet_again = record("Unable connect to node %s: %s", 102, "refused")
    assert repeats.filter(quiet_again)
    assert quiet_again.getMessage() == "Unable connect to node 102: refused"


def test_other_messages_levels_and_loggers_are_counted_apart() -> None:
    repeats = Repeats(burst=1, window_s=60, clock=Clock())
    assert repeats.filter(record("a %s", 1))
    assert not repeats.filter(record("a %s", 2))
    assert repeats.filter(record("b %s", 1))
    assert repeats.filter(record("a %s", 1, level=logging.WARNING))
    assert repeats.filter(record("a %s", 1, name="faust"))


def test_it_remembers_a_bounded_number_of_messages() -> None:
    repeats = Repeats(burst=1, window_s=60, clock=Clock())
    for n in range(KEYS_KEPT + 10):
        assert repeats.filter(record(f"message {n}"))
    assert len(repeats._seen) == KEYS_KEPT
    assert repeats.filter(record("message 0"))  # forgotten, so new again


def test_each_handler_counts_for_itself_and_the_note_is_added_once() -> None:
    """Two handlers (a console and a file): both write the first three, hold the rest, and the next
    window's first record carries one note, not one per handler."""
    clock = Clock()
    first, second = Repeats(burst=3, window_s=60, clock=clock), Repeats(burst=3, window_s=60, clock=clock)
    passed = []
    for n in range(10):
        r = record("heartbeat failed for group %s", n)
        passed.append((first.filter(r), second.filter(r)))
    assert passed == [(True, True)] * 3 + [(False, False)] * 7
    clock.now = 61.0
    r = record("heartbeat failed for group %s", 10)
    assert first.filter(r)
    assert second.filter(r)
    assert r.getMessage() == "heartbeat failed for group 10 (and 7 more like it before this, not logged)"


def test_limit_repeats_puts_one_filter_on_each_handler_once() -> None:
    logger = logging.getLogger("tests.logs.limit")
    handlers = [logging.NullHandler(), logging.NullHandler()]
    for handler in handlers:
        logger.addHandler(handler)
    try:
        limit_repeats(logger)
        limit_repeats(logger)
        filters = [[f for f in h.filters if isinstance(f, Repeats)] for h in handlers]
        assert [len(f) for f in filters] == [1, 1]
        assert filters[0][0] is not filters[1][0]
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
