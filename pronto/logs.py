"""Logs that stay readable when something keeps failing: the same message at most a few times a minute.

When the broker goes away, aiokafka and Faust log every reconnection attempt, heartbeat and
fetch that fails: measured in the demo (issue #26), about 80 KB a second across the services,
the one line that matters ("Kafka ... does not answer") buried under them. ``Repeats`` lets a
message (its logger, level and format string: the arguments may differ) through ``burst`` times
per ``window_s``; what it holds back it counts and names on the next one it lets through (a
flood that simply stops is not summed up afterwards).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

# Distinct messages remembered at once; the oldest are forgotten first.
KEYS_KEPT = 1_000
# The record's format string before any handler's filter added its note to it.
_ORIGINAL = "pronto_original_msg"


class Repeats(logging.Filter):
    """One per handler: each handler counts what it writes. Thread-safe (Faust's consumer thread logs)."""

    def __init__(
        self, burst: int = 10, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.burst, self.window_s, self.clock = burst, window_s, clock
        # (logger, level, format) -> [window start, let through in it, held back in it]
        self._seen: OrderedDict[tuple[str, int, str], list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        original = record.__dict__.setdefault(_ORIGINAL, record.msg)
        key = (record.name, record.levelno, str(original))
        with self._lock:
            now = self.clock()
            seen = self._seen.get(key)
            if seen is not None and now - seen[0] < self.window_s:
                if seen[1] < self.burst:
                    seen[1] += 1
                    return True
                seen[2] += 1
                return False
            held = int(seen[2]) if seen is not None else 0
            self._seen[key] = [now, 1, 0]
            self._seen.move_to_end(key)
            while len(self._seen) > KEYS_KEPT:
                self._seen.popitem(last=False)
        if held and record.msg is original:
            record.msg = f"{original} (and {held} more like it before this, not logged)"
        return True


def limit_repeats(logger: logging.Logger | None = None, burst: int = 10, window_s: float = 60.0) -> None:
    """Put a ``Repeats`` of its own on each handler of ``logger`` (the root by default): every record
    propagated to them passes it, whichever library logged it."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, Repeats) for f in handler.filters):
            handler.addFilter(Repeats(burst, window_s))
