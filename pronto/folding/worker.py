"""The worker side of a fold, with no Kafka and no Faust: records in, records out, state per partition."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

from google.protobuf.message import Message

from pronto import envelope, event_ids, snapshots
from pronto.envelope import Envelope
from pronto.errors import EnvelopeError

Headers = list[tuple[str, bytes]]
# Event ids a worker remembers per partition to drop redeliveries: those of the last SEEN_FOR of
# event time, and never more than SEEN_CAPACITY. Redeliveries come within seconds to minutes (the
# uncommitted tail after a restart, a merge or an upstream fold sending again after its own
# restart), so an hour is ample; a window by count alone filled up with a month of history and
# made every restart unpickle 200,000 ids per partition.
SEEN_CAPACITY = 200_000
SEEN_FOR = timedelta(hours=1)
# Event id -> its time (None in snapshots from before times were kept: forgotten by count only).
Seen = OrderedDict[str, datetime | None]


@dataclass(frozen=True)
class Out:
    """A record to write: a decision to the output topic, or a tick to the input topic."""

    key: bytes
    headers: Headers
    value: bytes
    # What the worker emitted, for the live-only side effects (metrics); None for ticks.
    emitted: Any = None
    # Ticks aimed at one partition of the input topic; None: the key decides.
    partition: int | None = None
    # Where an output goes instead of the fold's output topic (a dead letter); None: that topic.
    topic: str | None = None


class Worker(Protocol):
    """Records in, records out; its state is kept per partition of the input topic."""

    @property
    def partitions(self) -> Mapping[int, Any]: ...

    def apply(self, partition: int, headers: Headers, value: bytes | None) -> list[Out]: ...

    def replay(self, partition: int, records: Iterable[tuple[Headers, bytes | None]]) -> int: ...

    def drop(self, partitions: Iterable[int]) -> None: ...

    def ticks(self, partitions: Iterable[int]) -> list[Out]: ...

    def restore(self, partition: int, state: Any) -> None: ...

    @property
    def state_version(self) -> int: ...

    @property
    def schema(self) -> str: ...


class FoldBase:
    """What every folding worker shares: state per partition, replay, and events derived from causes."""

    partitions: dict[int, Any]
    source: str
    invalid: int
    # Names the processor in the ids it derives (``pronto.event_ids.derived``).
    processor: ClassVar[str] = ""
    # The type of one partition's state (what a snapshot holds), and a number to bump when that state
    # changes meaning in a way its fields do not show (old snapshots are then unreadable).
    state_type: ClassVar[Any] = object
    state_version: ClassVar[int] = 1
    # True while replaying: outputs are thrown away, so they are not encoded.
    replaying: bool = False

    @property
    def schema(self) -> str:
        return snapshots.fingerprint(self.state_type)

    def apply(self, partition: int, headers: Headers, value: bytes | None) -> list[Out]:
        raise NotImplementedError

    def replay(self, partition: int, records: Iterable[tuple[Headers, bytes | None]]) -> int:
        """Rebuild a partition's state from records already handled: what they emit is dropped."""
        count = 0
        self.replaying = True
        try:
            for headers, value in records:
                self.apply(partition, headers, value)
                count += 1
        finally:
            self.replaying = False
        return count

    def drop(self, partitions: Iterable[int]) -> None:
        for partition in partitions:
            self.partitions.pop(partition, None)

    def restore(self, partition: int, state: Any) -> None:
        """Take a partition's state from a snapshot (a worker re-binds what configuration decides)."""
        self.partitions[partition] = state

    def first_time(self, seen: Seen, headers: Headers, value: bytes | None) -> Envelope | None:
        """The record's event, or None when it cannot be read (counted in ``invalid``) or its id
        was seen already (a redelivery)."""
        try:
            event = envelope.decode(headers, value)
        except EnvelopeError as exc:
            self.invalid += 1
            logging.getLogger(f"pronto.{self.processor}").warning("skipping a record it cannot read: %s", exc)
            return None
        if event.id in seen:
            return None
        seen[event.id] = event.time
        cutoff = event.time - SEEN_FOR
        while seen:
            oldest = next(iter(seen.values()))
            if len(seen) <= SEEN_CAPACITY and (oldest is None or oldest >= cutoff):
                break
            seen.popitem(last=False)
        return event

    def derived(
        self,
        cause: Envelope,
        index: int,
        key: str,
        tenant: str,
        payload: Message,
        emitted: Any,
        time: datetime | None = None,
    ) -> Out:
        """The ``index``-th event caused by ``cause``: its id and time derive from it, so a replay
        or a redelivery emits exactly the same event. ``time``: a time the fold itself keeps
        (instead of the cause's), equally the same on a replay."""
        if self.replaying:
            return Out(key.encode(), [], b"", emitted)
        event = Envelope(
            event_ids.derived(self.processor, cause.id, index),
            self.source,
            tenant,
            payload,
            time or cause.time,
            cause.traceparent,
        )
        headers, value = envelope.encode(event)
        return Out(key.encode(), headers, value, emitted)
