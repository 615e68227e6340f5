"""The journal of a direct fold replays exactly the records the live workers' state was made of.

A model of the live side: workers apply the records of three co-partitioned topics in batches, each
in an interleaving of their own (each topic's offsets in order), write one entry per batch, commit
at batch boundaries (Faust acknowledges a batch once it is handled), and crash now and then; a
restarted worker resumes from the commits with the state of the committed batches (a list prefix,
not the offsets the code under test cuts by) and writes a ``resumed`` entry. Whatever the
interleavings, crashes and snapshot, the replay rebuilds that list.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pronto import journal
from pronto.v1 import snapshot_pb2

TOPICS = ("inbound", "outbound", "clocks")
Record = tuple[str, int]


class Live:
    def __init__(self) -> None:
        self.entries: list[snapshot_pb2.FoldJournal] = []
        self.state: list[Record] = []  # what the worker applied, in order
        self.next = dict.fromkeys(TOPICS, 0)  # next offset to read, per topic
        self.committed = dict.fromkeys(TOPICS, 0)
        self.committed_len = 0
        self.snapshot: tuple[list[Record], dict[str, int], int] | None = None

    def batch(self, picks: list[int], snapshot_after: int | None) -> None:
        runs = journal.Runs()
        for index, pick in enumerate(picks):
            topic = TOPICS[pick]
            record = (topic, self.next[topic])
            self.next[topic] += 1
            self.state.append(record)
            runs.add(*record)
            if index == snapshot_after:
                # The entry of this batch is written after the snapshot: a replay reads from before it.
                self.snapshot = (list(self.state), dict(self.next), len(self.entries))
        self.entries.append(journal.decode(runs.encode()))

    def commit(self) -> None:
        self.committed, self.committed_len = dict(self.next), len(self.state)

    def crash(self) -> None:
        """A new worker resumes from the commits, its state what the committed batches made."""
        self.entries.append(journal.decode(journal.resumed(self.committed)))
        self.state = self.state[: self.committed_len]
        self.next = dict(self.committed)
        self.snapshot = None  # kept simple: snapshots of the last run only

    def expected(self) -> list[Record]:
        return self.state[: self.committed_len]


steps = st.lists(
    st.one_of(
        st.tuples(st.just("batch"), st.lists(st.integers(0, 2), min_size=1, max_size=8), st.integers(-1, 8)),
        st.tuples(st.just("commit")),
        st.tuples(st.just("crash")),
    ),
    max_size=30,
)


def _play(plan: list[tuple]) -> Live:  # type: ignore[type-arg]
    live = Live()
    for step in plan:
        if step[0] == "batch":
            _, picks, snap = step
            live.batch(picks, snap if 0 <= snap < len(picks) and live.snapshot is None else None)
        elif step[0] == "commit":
            live.commit()
        else:
            live.crash()
    return live


@given(steps)
@settings(max_examples=400, deadline=None)
def test_a_replay_from_the_start_rebuilds_the_committed_state(plan: list[tuple]) -> None:  # type: ignore[type-arg]
    live = _play(plan)
    assert journal.replay_order(live.entries, {}, live.committed) == live.expected()


@given(steps, st.integers(0, 3))
@settings(max_examples=400, deadline=None)
def test_a_replay_after_a_snapshot_rebuilds_the_committed_state(plan: list[tuple], earlier: int) -> None:  # type: ignore[type-arg]
    live = _play(plan)
    if live.snapshot is None or len(live.snapshot[0]) > live.committed_len:
        return  # no snapshot in the last run, or one past the commit (redelivered and deduplicated)
    state, start, entry = live.snapshot
    # The replay may read some entries from before the snapshot too: they change nothing.
    replayed = journal.replay_order(live.entries[max(0, entry - earlier) :], start, live.committed)
    assert state + replayed == live.expected()


def test_runs_join_consecutive_offsets_of_a_topic() -> None:
    runs = journal.Runs()
    for record in [("a", 3), ("a", 4), ("b", 0), ("a", 5), ("a", 7)]:
        runs.add(*record)
    entry = journal.decode(runs.encode())
    assert [(r.topic, r.first, r.count) for r in entry.runs] == [
        ("a", 3, 2),
        ("b", 0, 1),
        ("a", 5, 1),
        ("a", 7, 1),
    ]


def test_entries_are_told_apart_from_events_by_their_first_header() -> None:
    assert journal.is_entry(journal.HEADERS)
    assert not journal.is_entry([("ce_id", b"x"), (journal.HEADER, b"1")])
    assert not journal.is_entry([])
