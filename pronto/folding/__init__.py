"""A Faust app whose state is a deterministic fold of its input, rebuilt from a snapshot and a replay.

Routing, SLA and notify work this way:

- the fold must see one partition's records in an order that a replay can
  repeat. Two ways (``FoldSpec.direct``):
  - routing re-keys its sources by shop, so a ``merge`` agent copies every
    record of the source topics that the fold reads (``FoldSpec.wanted``) onto
    the service's own input topic; one partition's order is then fixed once;
  - SLA and notify read topics that are all keyed by conversation and have as
    many partitions as their input topic (co-partitioned): the ``fold`` agent
    reads them and the input topic together, and after each batch writes to
    the input topic, per partition, a journal entry of the order it applied
    them in (``pronto.journal``), waiting for the broker's acknowledgement
    before it sends the batch's outputs: one small record per partition and
    batch instead of a copy per record;
- the ``fold`` agent feeds the records to the worker, which returns the
  records to write to the output topic;
- both agents take their records in lists (``Stream.take_events``: what
  arrived within a few milliseconds, up to ``batch_max``), handle them in a
  plain loop and queue what they write straight on the producer, which
  batches per partition; Faust acknowledges a list once it is handled, and
  flushes the producer before every commit (so outputs and journal entries
  are written before the offsets of what caused them are committed).
  Per-partition order is the consumer's;
- a timer asks the worker for tick records, written to the input topic, so
  that time passing is part of what a replay sees;
- every ``snapshot_every_records`` records or ``snapshot_every_s`` seconds,
  the fold agent checkpoints a partition's state with the offsets it covers
  (the input topic's, and a direct fold's sources') (``pronto.snapshots``,
  written by ``pronto.kafka.snapshots``): it pickles the state between two
  records (a direct fold: after a batch, its journal entries acknowledged),
  flushes the producer so that every output of the records before it is
  acknowledged, then writes the snapshot and waits for its acknowledgement;
- when a partition is assigned, the worker loads its newest readable snapshot
  (or starts empty) and replays what follows it up to the offsets the consumer
  group committed, emitting nothing: the input topic in its order, or, for a
  direct fold, the records its journal lists, in the journal's order; a direct
  fold then applies again, emitting, what its journal lists past the commits
  (``pronto.journal``). That rebuilds the state it had at the commit, in time
  bounded by the snapshot interval, not by history. Faust then redelivers what
  follows and the worker decides again, emitting events with the same ids as
  before (consumers deduplicate). A snapshot may cover records past the
  commit: Faust redelivers them, and the worker, which remembers the ids it
  has seen, drops them. The rebuild is a task the fold agent awaits before its
  first record of the partition, because Faust may resume fetching before the
  assignment signal's handlers finish. A direct fold that finds its input
  holding copies from before journals (an upgrade) replays those once and
  checkpoints at once.

We do not use Faust tables: on the embedded broker their changelog recovery
stops short (its end offsets lag), and writing state to a changelog on every
event costs more than a snapshot now and then.

The parts: ``worker`` (records in, records out; no Kafka), ``spec`` (what a folding service is),
``app`` (the Faust agents, ticks and snapshots), ``recovery`` (the rebuild on assignment) and
``metrics``.
"""

from pronto.folding.app import FoldingApp
from pronto.folding.spec import FoldSpec
from pronto.folding.worker import FoldBase, Headers, Out, Seen, Worker

__all__ = [
    "FoldBase",
    "FoldSpec",
    "FoldingApp",
    "Headers",
    "Out",
    "Seen",
    "Worker",
]
