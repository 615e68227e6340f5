"""Waiting, with a deadline, for conditions on real processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not true within {timeout:.0f} s")


async def eventually(
    condition: Callable[[], object], timeout: float, what: str, interval: float = 0.1
) -> None:
    """``wait_until`` for async tests: the event loop keeps running while it waits."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not true within {timeout:.0f} s")
        await asyncio.sleep(interval)
