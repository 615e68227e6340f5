"""Logs that stay readable when something keeps failing: the same message at most a few times a minute.

When the broker goes away, aiokafka and Faust log every reconnection attempt, heartbeat and
fetch that fails: measured in the demo (issue #26), about 80 KB a second across the services,
the one line that matters ("Kafka ... does not answer") buried under them. ``Repeats`` lets a
message (its logger, level and format string: the arguments may differ) through ``burst`` times
per ``window_s``; what it holds back it counts and names on the next one it lets through.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable

# Distinct messages remembered at once; the oldest are forgotten first.
KEYS_KEPT = 1_000


class Repeats(logging.Filter):
    def __init__(
        self, burst: int = 3, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.burst, self.window_s, self.clock = burst, window_s, clock
        # (logger, level, format) -> [window start, let through in it, held back in it]
        self._seen: OrderedDict[tuple[str, int, str], list[float]] = OrderedDict()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        seen = self._seen.get(key)
        if seen is None or now - seen[0] >= self.window_s:
            held = int(seen[2]) if seen is not None else 0
            self._seen[key] = [now, 1, 0]
            self._seen.move_to_end(key)
            while len(self._seen) > KEYS_KEPT:
                self._seen.popitem(last=False)
            if held:
                record.msg = (
                    f"{record.msg} (and {held} more like it in the last {self.window_s:g} s, not logged)"
                )
            return True
        if seen[1] < self.burst:
            seen[1] += 1
            return True
        seen[2] += 1
        return False


def limit_repeats(logger: logging.Logger | None = None, burst: int = 3, window_s: float = 60.0) -> None:
    """Put one ``Repeats`` on each handler of ``logger`` (the root by default): every record
    propagated to them passes it, whichever library logged it."""
    target = logger or logging.getLogger()
    repeats = Repeats(burst, window_s)
    for handler in target.handlers:
        if not any(isinstance(f, Repeats) for f in handler.filters):
            handler.addFilter(repeats)
