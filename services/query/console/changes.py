"""Tells the console's open pages that a shop's read models changed, so they fetch them again."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict


class Changes:
    def __init__(self) -> None:
        self._versions: defaultdict[str, int] = defaultdict(int)
        self._changed = asyncio.Condition()
        self._pending: set[str] = set()

    def touch(self, tenant: str) -> None:
        """Called by the projector for every event applied; cheap, and wakes listeners in batches."""
        self._versions[tenant] += 1
        self._pending.add(tenant)

    def version(self, tenant: str) -> int:
        return self._versions[tenant]

    async def publish(self, every_s: float = 0.5) -> None:
        """Wakes listeners at most every ``every_s``: a burst of events is one refresh."""
        while True:
            await asyncio.sleep(every_s)
            if self._pending:
                self._pending.clear()
                async with self._changed:
                    self._changed.notify_all()

    async def wait(self, tenant: str, seen: int, timeout_s: float) -> int:
        """The tenant's version once it differs from ``seen``, or ``seen`` after ``timeout_s``."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: self._versions[tenant] != seen), timeout_s
                )
        return self._versions[tenant]
