"""Rebuild the read models: replay the source topics into fresh collections, then swap them in.

The running service keeps projecting into the old collections meanwhile. Once
the replay has reached the end offsets the topics had when it started, the
fresh collections replace them, and the replay goes on once more, to the end
offsets of that moment (applying anything twice is harmless): whatever the
running service took into the old collections before the swap was there by
then, and whatever it takes after the swap goes into the new ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.query.feed import replay
from services.query.projector import Projector
from services.query.store.port import COLLECTIONS, Store


@dataclass(frozen=True)
class Rebuilt:
    events: int
    documents: dict[str, int]


async def rebuild(
    bootstrap_servers: str,
    store: Store,
    timezone_of: Callable[[str], str],
    progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> Rebuilt:
    fresh = await store.fresh()
    target = Projector(fresh, timezone_of)
    swapped = False

    async def caught_up() -> bool:
        nonlocal target, swapped
        if swapped:
            return True
        await store.swap_in(fresh)
        target, swapped = Projector(store, timezone_of), True
        return False

    replayed = await replay(bootstrap_servers, lambda: target, progress, caught_up)
    return Rebuilt(replayed.events, {c: await store.count(c) for c in COLLECTIONS})
