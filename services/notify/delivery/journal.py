"""What this worker has delivered, on local disk, written the moment each delivery is answered.

The outcome events on ``support.notifications.v1`` are the durable record every
worker reads; but between a receiver's answer and that event's
acknowledgement by the broker lie milliseconds in which a killed process
would forget a delivery and send it again after its restart. One unbuffered
``write`` right after the answer closes that gap for a process crash (the
kernel keeps what was written when the process dies); the gap left is the
microseconds between reading the answer and the write. A restarted worker
that finds an id here sends nothing and writes the missing outcome event.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

KEEP = 100_000


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._outcomes: OrderedDict[str, str] = OrderedDict()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                notification_id, _, outcome = line.partition(" ")
                if outcome:
                    self._outcomes[notification_id] = outcome
        if len(self._outcomes) > 2 * KEEP:
            self._compact()
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def outcome(self, notification_id: str) -> str | None:
        return self._outcomes.get(notification_id)

    def write(self, notification_id: str, outcome: str) -> None:
        os.write(self._fd, f"{notification_id} {outcome}\n".encode())
        self._outcomes[notification_id] = outcome
        if len(self._outcomes) > 2 * KEEP:
            self._compact()

    def close(self) -> None:
        os.close(self._fd)

    def _compact(self) -> None:
        """Keeps the newest ``KEEP`` ids: older ones have long had their outcome events."""
        while len(self._outcomes) > KEEP:
            self._outcomes.popitem(last=False)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text("".join(f"{i} {o}\n" for i, o in self._outcomes.items()))
        os.replace(temporary, self.path)
        if hasattr(self, "_fd"):
            os.close(self._fd)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
