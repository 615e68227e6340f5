"""The order a fold applied its records in, written as a journal instead of as copies.

SLA and notify read topics that are all keyed by conversation and have as many
partitions as their input topic (co-partitioned): partition p of each comes to
the same worker, which folds them into partition p's state. The order in which
one partition's records of several topics arrive differs from run to run, and
the fold's decisions depend on it. Copying every record onto the service's own
input topic fixed the order, at the price of one more write and read per
record and service (half of the records written per customer message). Here the
worker writes, after each batch, one small ``FoldJournal`` record per partition
to its input topic: the runs of offsets it applied, in order; and it sends the
batch's outputs only once the broker has acknowledged those entries. So every
output anyone may have seen has its cause in the journal, in order.

A restart loads a snapshot (with the offsets it covers on every topic) and
applies, in the journal's order, every record the journal lists after it:
silently up to the group's commits (their outputs were flushed before the
commit), and emitting again past them (the same events with the same ids,
which consumers deduplicate; some may never have been flushed). Records the
journal does not list had no output sent, and come again in whatever order
the consumer gives them. A record listed twice (applied, then delivered again
after a restart) is dropped the second time by the worker's memory of event
ids, live and in every replay alike. Before it replays, a worker writes a
``resumed`` entry with the commits it resumes from: it bounds what the replay
reads (the embedded broker's reported end lags) and tells a reader of the
topic where each run of a worker began.

This module is the pure part: encoding, and the order to replay
(``replay_order``); ``pronto.folding`` reads and writes the records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pronto.v1 import snapshot_pb2

HEADER = "pronto_journal"
HEADERS = [(HEADER, b"1")]
# A record: (topic, offset).
Position = tuple[str, int]


def is_entry(headers: list[tuple[str, bytes]]) -> bool:
    """Whether a record of the input topic is a journal entry (they carry only this header)."""
    return bool(headers) and headers[0][0] == HEADER


class Runs:
    """A partition's records in the order one batch applied them, as runs of consecutive offsets."""

    def __init__(self) -> None:
        self.entry = snapshot_pb2.FoldJournal()

    def add(self, topic: str, offset: int) -> None:
        runs = self.entry.runs
        if runs and runs[-1].topic == topic and runs[-1].first + runs[-1].count == offset:
            runs[-1].count += 1
        else:
            runs.add(topic=topic, first=offset, count=1)

    def __bool__(self) -> bool:
        return bool(self.entry.runs)

    def encode(self) -> bytes:
        return self.entry.SerializeToString()


def resumed(offsets: Mapping[str, int]) -> bytes:
    """The entry a worker writes before it resumes a partition from ``offsets``."""
    return snapshot_pb2.FoldJournal(resumed=dict(offsets)).SerializeToString()


def decode(value: bytes | None) -> snapshot_pb2.FoldJournal:
    entry = snapshot_pb2.FoldJournal()
    entry.ParseFromString(value or b"")
    return entry


def replay_order(entries: Iterable[snapshot_pb2.FoldJournal], start: Mapping[str, int]) -> list[Position]:
    """The records to replay, in the order the live workers applied them: those the entries list at
    or after ``start`` (what the snapshot covers; 0 for a topic it does not name)."""
    order: list[Position] = []
    for entry in entries:
        for run in entry.runs:
            first = max(run.first, start.get(run.topic, 0))
            order.extend((run.topic, o) for o in range(first, run.first + run.count))
    return order


def committed_prefix(order: list[Position], committed: Mapping[str, int]) -> int:
    """How many of ``order``'s first records are all below the commits: those are replayed without
    emitting; from the first one past them on, a restart emits again."""
    for index, (topic, offset) in enumerate(order):
        if offset >= committed.get(topic, 0):
            return index
    return len(order)
