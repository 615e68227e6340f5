"""The order a fold applied its records in, written as a journal instead of as copies.

SLA and notify read topics that are all keyed by conversation and have as many
partitions as their input topic (co-partitioned): partition p of each comes to
the same worker, which folds them into partition p's state. The order in which
one partition's records of several topics arrive differs from run to run, and
the fold's decisions depend on it. Copying every record onto the service's own
input topic fixed the order, at the price of one more write and read per
record and service (half of the records written per customer message). Here the
worker writes, after each batch, one small ``FoldJournal`` record per partition
to its input topic: the runs of offsets it applied, in order. A restart loads a
snapshot (with the offsets it covers on every topic) and replays the records
the journal lists after it, in the journal's order, up to the group's commits.

When a worker rebuilds a partition it first writes a ``resumed`` entry with the
offsets it resumes from (the group's commits). Entries before it may list
records past those offsets (applied, but not committed when that worker
stopped): they are not part of the state it resumed with, so a later replay
drops them there too, and every replay rebuilds exactly what the live worker
had. Records of the input topic itself (ticks, policy changes) are listed like
any other; journal entries are not.

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
        self.runs: list[list[str | int]] = []  # [topic, first, count]

    def add(self, topic: str, offset: int) -> None:
        if self.runs:
            last = self.runs[-1]
            if last[0] == topic and int(last[1]) + int(last[2]) == offset:
                last[2] = int(last[2]) + 1
                return
        self.runs.append([topic, offset, 1])

    def __bool__(self) -> bool:
        return bool(self.runs)

    def encode(self) -> bytes:
        return snapshot_pb2.FoldJournal(
            runs=[
                snapshot_pb2.FoldJournal.Run(topic=str(t), first=int(f), count=int(c))
                for t, f, c in self.runs
            ]
        ).SerializeToString()


def resumed(offsets: Mapping[str, int]) -> bytes:
    """The entry a worker writes before it resumes a partition from ``offsets``."""
    return snapshot_pb2.FoldJournal(resumed=dict(offsets)).SerializeToString()


def decode(value: bytes | None) -> snapshot_pb2.FoldJournal:
    entry = snapshot_pb2.FoldJournal()
    entry.ParseFromString(value or b"")
    return entry


def replay_order(
    entries: Iterable[snapshot_pb2.FoldJournal], start: Mapping[str, int], committed: Mapping[str, int]
) -> list[Position]:
    """The records to replay, in the order the live worker applied them: those the entries list at
    or after ``start`` (what the snapshot covers; 0 for a topic it does not name), cut back to the
    offsets of every ``resumed`` entry as it comes, and at last to ``committed``."""
    order: list[Position] = []
    for entry in entries:
        if entry.resumed:
            cut = entry.resumed
            order = [(t, o) for t, o in order if o < cut.get(t, 0)]
            continue
        for run in entry.runs:
            first = max(run.first, start.get(run.topic, 0))
            order.extend((run.topic, o) for o in range(first, run.first + run.count))
    return [(t, o) for t, o in order if o < committed.get(t, 0)]
