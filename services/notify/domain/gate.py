"""Whether a notification goes out now or waits for a digest. No I/O.

Staff are told things one by one until a recipient has had ``limit`` in the
last ``window``; after that, and while they are off (outside their hours:
nights, days off), notifications wait and go out together as one digest as
soon as the recipient is on again and their window has room. A breach storm
then reaches a supervisor as a few digests, never as hundreds of messages, and
nobody is woken at midnight.

Times are passed in, so the rules are tested without clocks.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Limit:
    count: int = 5
    window: timedelta = timedelta(minutes=10)


@dataclass
class _Recipient(Generic[T]):
    sent: deque[datetime] = field(default_factory=deque)
    held: list[T] = field(default_factory=list)


@dataclass
class Gate(Generic[T]):
    # Recipient -> their limit (shops set their own).
    limit_of: Callable[[str], Limit]
    # Recipient -> whether they may be told something at that moment (their hours).
    awake: Callable[[str, datetime], bool] = lambda _recipient, _at: True
    _recipients: dict[str, _Recipient[T]] = field(default_factory=dict)

    def offer(self, recipient: str, item: T, now: datetime) -> bool:
        """True: send ``item`` now (counted). False: it is held for the recipient's next digest."""
        state = self._recipients.setdefault(recipient, _Recipient())
        if state.held or not self._may_send(recipient, state, now):
            state.held.append(item)
            return False
        state.sent.append(now)
        return True

    def sent(self, recipient: str, at: datetime) -> None:
        """Counts a message sent at ``at`` (a restart learns its recent sends back)."""
        self._recipients.setdefault(recipient, _Recipient()).sent.append(at)

    def digests(self, now: datetime) -> list[tuple[str, list[T]]]:
        """Held items of every recipient who may be told something now, each batch one message."""
        ready = []
        for recipient, state in self._recipients.items():
            if state.held and self._may_send(recipient, state, now):
                ready.append((recipient, state.held))
                state.held = []
                state.sent.append(now)
        return ready

    def held(self) -> int:
        return sum(len(state.held) for state in self._recipients.values())

    def forget(self, keep: Callable[[T], bool]) -> None:
        """Drops held items ``keep`` refuses (their partition moved to another worker)."""
        for state in self._recipients.values():
            state.held = [item for item in state.held if keep(item)]

    def _may_send(self, recipient: str, state: _Recipient[T], now: datetime) -> bool:
        limit = self.limit_of(recipient)
        while state.sent and state.sent[0] <= now - limit.window:
            state.sent.popleft()
        return len(state.sent) < limit.count and self.awake(recipient, now)
