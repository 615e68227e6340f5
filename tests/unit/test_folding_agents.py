"""The two Faust agents of every folding service (``merge`` and ``fold``), driven without a broker.

They are driven through Faust's ``test_context()``: no broker, the agents' own code between a record in and
the records out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry

from pronto import journal
from pronto.folding import FoldBase, FoldingApp, FoldSpec, Headers, Out


class Echo(FoldBase):
    """Answers every record with one output carrying its value, and counts them per partition."""

    processor = "echo"
    source = "/echo"

    def __init__(self) -> None:
        self.partitions: dict[int, Any] = {}
        self.invalid = 0

    def apply(self, partition: int, headers: Headers, value: bytes | None) -> list[Out]:
        self.partitions[partition] = self.partitions.get(partition, 0) + 1
        return [Out(b"answer", [("seen", b"yes")], b"echo:" + (value or b""))]

    def ticks(self, partitions: Iterable[int]) -> list[Out]:
        return []


class Producer:
    """Records what the app's producer is asked to send; each send is acknowledged at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, int | None, Headers]] = []

    async def send(
        self, topic: str, key: bytes | None, value: bytes | None, partition: int | None, *rest: Any
    ) -> asyncio.Future[None]:
        self.sent.append((topic, key, value, partition, list(rest[-1] or [])))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def rekey(key: bytes | None, headers: Headers) -> bytes | None:
    """The shop named in a ``shop`` header, or None (the record cannot be keyed)."""
    return dict(headers).get("shop")


def folding(*, direct: bool = False) -> tuple[FoldingApp, Producer]:
    spec = FoldSpec(
        "pronto-agents-test",
        "kafka://127.0.0.1:1",
        ("source",),
        "input",
        "output",
        rekey,
        tick_s=3600,
        http_host="127.0.0.1",
        http_port=0,
        wanted=lambda headers, _value: dict(headers).get("kind") != b"ignored",
        direct=direct,
    )
    app = FoldingApp(spec, Echo(), CollectorRegistry())
    producer = Producer()
    app.app.producer = producer  # type: ignore[assignment]
    return app, producer


async def _as_rebuilt(app: FoldingApp) -> None:
    """Partition 0 counts as rebuilt: the fold agent then folds without reading a snapshot."""
    task = app.loading[0] = asyncio.ensure_future(asyncio.sleep(0))
    await task
    app.positions[0], app.records[0], app.checkpointed[0] = {}, 0, (float("inf"), 0)


async def test_merge_copies_a_wanted_record_onto_the_input_topic_under_its_new_key() -> None:
    app, producer = folding()

    async with app.app.agents["merge"].test_context() as merge:
        await merge.put(b"hello", key=b"conversation-1", headers={"shop": b"bottega"})
        await merge.put(b"skip me", key=b"conversation-2", headers={"shop": b"bottega", "kind": b"ignored"})
        await merge.put(b"no shop", key=b"conversation-3", headers={"kind": b"message"})

    assert [(topic, key, value) for topic, key, value, _p, _h in producer.sent] == [
        ("input", b"bottega", b"hello")
    ]
    assert producer.sent[0][4] == [("shop", b"bottega")]


async def test_fold_applies_a_record_and_sends_what_the_worker_answers() -> None:
    app, producer = folding()
    await _as_rebuilt(app)

    async with app.app.agents["fold"].test_context() as fold:
        await fold.put(b"hello", key=b"bottega")
        await fold.put(b"skip me", key=b"bottega", headers={"kind": b"ignored"})

    assert producer.sent == [("output", b"answer", b"echo:hello", None, [("seen", b"yes")])]
    assert app.worker.partitions == {0: 1}
    assert app.records[0] == 1


async def test_a_direct_fold_writes_its_journal_entry_before_the_outputs() -> None:
    app, producer = folding(direct=True)
    await _as_rebuilt(app)

    async with app.app.agents["fold"].test_context() as fold:
        await fold.put(b"hello", key=b"conversation-1")

    (entry, output) = producer.sent
    assert entry[:2] == ("input", b"journal")
    assert journal.is_entry(entry[4])
    assert output[:3] == ("output", b"answer", b"echo:hello")
