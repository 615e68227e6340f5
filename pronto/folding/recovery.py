"""Rebuilding a partition's state when it is assigned: the newest readable snapshot, then a replay.

The replay is of what follows the snapshot: the input topic in its order, or a direct fold's journal in the
journal's order."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import faust
from aiokafka import TopicPartition

from pronto import journal
from pronto.folding.metrics import SnapshotMetrics
from pronto.folding.spec import FoldSpec
from pronto.folding.worker import Headers, Worker
from pronto.kafka import snapshots as kafka_snapshots
from pronto.kafka.reader import committed_offsets, read_until
from pronto.v1 import snapshot_pb2

# The key of journal entries (``pronto.journal``); they go to a chosen partition.
JOURNAL_KEY = b"journal"


class Recovery:
    """The restart half of ``FoldingApp`` (its base class): reads what the app keeps and writes
    the positions, record counts and checkpoints it rebuilds."""

    spec: FoldSpec
    worker: Worker
    app: faust.App
    log: logging.Logger
    metrics: SnapshotMetrics
    _schema: str
    _replayed: Any
    _published: Any
    positions: dict[int, dict[str, int]]
    records: dict[int, int]
    checkpointed: dict[int, tuple[float, int]]
    slots: dict[int, int]

    async def snapshot(self, partition: int) -> None:
        raise NotImplementedError

    async def _send(
        self, topic: str, key: bytes, value: bytes | None, headers: Headers, partition: int | None = None
    ) -> None:
        raise NotImplementedError

    async def _replay(self, partition: int) -> None:
        spec, servers = self.spec, self.spec.bootstrap_servers
        started = time.monotonic()
        found = await kafka_snapshots.newest(
            servers,
            spec.snapshot_topic,
            partition,
            spec.app_id,
            state_version=self.worker.state_version,
            schema=self._schema,
            unreadable=lambda reason: self._unreadable(partition, reason),
        )
        folded = (*spec.sources, spec.input_topic) if spec.direct else (spec.input_topic,)
        tps = {topic: TopicPartition(topic, partition) for topic in folded}
        committed = {
            tp.topic: o
            for tp, o in (await committed_offsets(servers, spec.app_id, list(tps.values()))).items()
        }
        self.worker.drop([partition])
        start: dict[str, int] = {}
        records = 0
        if found is not None:
            self.worker.restore(partition, found.state)
            start = {spec.input_topic: found.frame.next_offset, **found.frame.source_offsets}
            records = found.frame.records
            self.slots[partition] = 1 - found.slot
        reached: dict[str, int] = {}
        if spec.direct:
            count, legacy, reached = await self._replay_journal(partition, start, committed)
        else:
            count, legacy = (
                await self._replay_input(partition, start.get(spec.input_topic, 0), committed),
                False,
            )
        self.positions[partition] = {t: max(start.get(t, 0), committed[t], reached.get(t, 0)) for t in folded}
        self.records[partition] = records + count
        self.checkpointed[partition] = (time.monotonic(), records + count)
        if legacy:
            # Copies from before direct folds: checkpoint now, so that no later replay needs them.
            await self.snapshot(partition)
        self._replayed(count)
        self.metrics.restored(time.monotonic() - started, count)
        self.log.info(
            "partition %d: %s, replayed %d records up to offsets %s in %.2f s",
            partition,
            f"snapshot of offset {start.get(spec.input_topic, 0)} loaded" if found else "no snapshot",
            count,
            committed,
            time.monotonic() - started,
        )

    async def _replay_input(self, partition: int, start: int, committed: Mapping[str, int]) -> int:
        """Replay the input topic from ``start`` to the group's commit, in its order."""
        tp = TopicPartition(self.spec.input_topic, partition)
        count = 0
        async for batch in read_until(self.spec.bootstrap_servers, tp, committed[tp.topic], start=start):
            if count == 0 and batch[0].offset > start:
                self._history_lost(partition, start, batch[0].offset)
            records = ((list(r.headers), r.value) for r in batch)
            count += self.worker.replay(partition, records)
        return count

    async def _replay_journal(
        self, partition: int, start: Mapping[str, int], committed: Mapping[str, int]
    ) -> tuple[int, bool, dict[str, int]]:
        """Apply what the journal lists after the snapshot, in its order: silently up to the group's
        commits, emitting again past them (``pronto.journal``). Returns the records applied, whether
        the input held copies from before direct folds, and the next offset reached per topic."""
        spec, servers = self.spec, self.spec.bootstrap_servers
        # Written first: its offset bounds the entries to read (the embedded broker's reported end lags).
        resumed = await self.app.producer.send_and_wait(
            spec.input_topic, JOURNAL_KEY, journal.resumed(committed), partition, None, journal.HEADERS
        )
        entries: list[snapshot_pb2.FoldJournal] = []
        inputs: dict[int, tuple[Headers, bytes | None]] = {}
        input_tp = TopicPartition(spec.input_topic, partition)
        async for batch in read_until(
            servers, input_tp, resumed.offset, start=start.get(spec.input_topic, 0)
        ):
            for record in batch:
                headers = list(record.headers)
                if journal.is_entry(headers):
                    entries.append(journal.decode(record.value))
                else:
                    inputs[record.offset] = (headers, record.value)
        # A snapshot of a direct fold names its sources' offsets; none, and no journal: an upgrade.
        if not start.keys() - {spec.input_topic} and not any(e.runs for e in entries):
            copies = [r for o, r in sorted(inputs.items()) if o < committed[spec.input_topic]]
            if copies:
                self.log.warning(
                    "partition %d: replaying %d records copied before direct folds", partition, len(copies)
                )
                return self.worker.replay(partition, copies), True, {}
        order = journal.replay_order(entries, start)
        found: dict[str, dict[int, tuple[Headers, bytes | None]]] = {spec.input_topic: inputs}
        reached: dict[str, int] = {}
        for topic in spec.sources:
            offsets = [o for t, o in order if t == topic]
            if not offsets:
                continue
            reached[topic] = max(offsets) + 1
            kept = found[topic] = {}
            tp = TopicPartition(topic, partition)
            async for batch in read_until(servers, tp, reached[topic], start=min(offsets)):
                kept.update((r.offset, (list(r.headers), r.value)) for r in batch)
        kept_order = [(t, o) for t, o in order if o in found.get(t, {})]
        if len(kept_order) < len(order):
            lost = [o for t, o in order if o not in found.get(t, {})]
            self._history_lost(partition, min(lost), max(lost) + 1)
        silent = journal.committed_prefix(kept_order, committed)
        records = [found[t][o] for t, o in kept_order]
        count = self.worker.replay(partition, (r for r in records[:silent] if spec.wanted(*r)))
        again = [r for r in records[silent:] if spec.wanted(*r)]
        if again:
            self.log.info("partition %d: applying %d records past the commit again", partition, len(again))
        for headers, value in again:
            for out in self.worker.apply(partition, headers, value):
                await self._send(out.topic or spec.output_topic, out.key, out.value, out.headers)
                self._published(out)
        return count + len(again), False, reached

    def _unreadable(self, partition: int, reason: str) -> None:
        self.metrics.unreadable.inc()
        self.log.error(
            "partition %d: a snapshot cannot be read, trying the one before: %s", partition, reason
        )

    def _history_lost(self, partition: int, start: int, first: int) -> None:
        self.metrics.history_lost.inc()
        self.log.error(
            "partition %d: input offsets %d to %d are no longer retained; the state is rebuilt without "
            "them (retention shorter than the snapshot interval, or no readable snapshot)",
            partition,
            start,
            first - 1,
        )
