"""The journal of a direct fold replays exactly the records the live workers' state was made of.

A model of the live side: workers apply the records of three co-partitioned topics in batches, each
in an interleaving of their own (each topic's offsets in order), and write one entry per batch
before sending its outputs; they commit at batch boundaries (Faust acknowledges a batch once it is
handled) and crash now and then, sometimes in the middle of a batch whose entry was never written.
A restarted worker applies what the journal lists, then reads again from the commits, dropping
what it has seen. Whatever the interleavings, crashes and snapshot, a replay rebuilds that state.
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
        self.state: list[Record] = []  # what the workers applied, in order, each record once
        self.next = dict.fromkeys(TOPICS, 0)  # next offset to read, per topic
        self.committed = dict.fromkeys(TOPICS, 0)
        self.snapshot: tuple[list[Record], dict[str, int], int] | None = None

    def batch(self, picks: list[int], journaled: bool) -> None:
        runs, applied = journal.Runs(), []
        for pick in picks:
            topic = TOPICS[pick]
            record = (topic, self.next[topic])
            self.next[topic] += 1
            runs.add(*record)
            if record not in self.state and record not in applied:
                applied.append(record)
        if journaled:
            self.entries.append(journal.decode(runs.encode()))
            self.state += applied
        else:  # killed before the entry was written: nothing of the batch was sent or kept
            self.crash()

    def commit(self) -> None:
        self.committed = dict(self.next)

    def take_snapshot(self) -> None:
        self.snapshot = (list(self.state), dict(self.next), len(self.entries))

    def crash(self) -> None:
        """The next worker applies what the journal lists and reads again from the commits."""
        self.entries.append(journal.decode(journal.resumed(self.committed)))
        self.next = dict(self.committed)


def replayed(state: list[Record], order: list[Record]) -> list[Record]:
    state = list(state)
    for record in order:
        if record not in state:  # the worker's memory of event ids
            state.append(record)
    return state


steps = st.lists(
    st.one_of(
        st.tuples(st.just("batch"), st.lists(st.integers(0, 2), min_size=1, max_size=8), st.booleans()),
        st.tuples(st.just("commit")),
        st.tuples(st.just("crash")),
        st.tuples(st.just("snapshot")),
    ),
    max_size=30,
)


def _play(plan: list[tuple]) -> Live:  # type: ignore[type-arg]
    live = Live()
    for step in plan:
        if step[0] == "batch":
            live.batch(step[1], journaled=step[2] or len(step[1]) % 3 != 0)
        elif step[0] == "commit":
            live.commit()
        elif step[0] == "snapshot":
            live.take_snapshot()
        else:
            live.crash()
    return live


@given(steps)
@settings(max_examples=400, deadline=None)
def test_a_replay_from_the_start_rebuilds_the_state(plan: list[tuple]) -> None:  # type: ignore[type-arg]
    live = _play(plan)
    assert replayed([], journal.replay_order(live.entries, {})) == live.state


@given(steps, st.integers(0, 3))
@settings(max_examples=400, deadline=None)
def test_a_replay_after_a_snapshot_rebuilds_the_state(plan: list[tuple], earlier: int) -> None:  # type: ignore[type-arg]
    live = _play(plan)
    if live.snapshot is None:
        return
    state, start, entry = live.snapshot
    # The replay may read some entries from before the snapshot too: they change nothing.
    order = journal.replay_order(live.entries[max(0, entry - earlier) :], start)
    assert replayed(state, order) == live.state


def test_what_follows_the_first_record_past_the_commits_is_applied_again() -> None:
    order = [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2)]
    assert journal.committed_prefix(order, {"a": 2, "b": 1}) == 3
    assert journal.committed_prefix(order, {"a": 3, "b": 2}) == 5
    assert journal.committed_prefix(order, {}) == 0


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
