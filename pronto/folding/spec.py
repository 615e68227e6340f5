"""What a folding service is: its topics, its batching and snapshot intervals, its HTTP port."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter

from pronto import topics
from pronto.folding.worker import Headers
from pronto.settings import HttpLimits


@dataclass
class FoldSpec:
    app_id: str
    bootstrap_servers: str
    sources: tuple[str, ...]
    input_topic: str
    output_topic: str
    # The input record's key from a source record (its key and headers); None skips the record.
    rekey: Callable[[bytes | None, Headers], bytes | None]
    tick_s: float
    http_host: str
    http_port: int
    fetch_wait_ms: int = 20
    # Records each agent takes at once, and how long it waits for more before taking fewer.
    batch_max: int = 1_000
    batch_within_s: float = 0.01
    linger_ms: int = 5
    session_timeout_s: float = 3.0
    # Extra HTTP routes beside /metrics, /healthz and /readyz.
    routes: list[APIRouter] = field(default_factory=list)
    # A partition's state is checkpointed after this many records or seconds, whichever comes first
    # (seconds counted only while records arrive). Input topics must retain well over two intervals.
    snapshot_every_records: int = 50_000
    snapshot_every_s: float = 300.0
    snapshot_topic: str = topics.SNAPSHOTS.name
    # Whether the fold reads a source record (its headers and value) at all: the merge does not copy
    # what the worker would answer with nothing and no change of state.
    wanted: Callable[[Headers, bytes | None], bool] = lambda _headers, _value: True
    # What one request to the HTTP port may send (``pronto.http_limits``).
    http_limits: HttpLimits = field(default_factory=HttpLimits)
    # True: the sources are co-partitioned with the input topic (same key, same partitions) and the
    # fold reads them itself, writing the order it applied them in as a journal (``pronto.journal``)
    # instead of a merge agent copying them; ``rekey`` is then not used. False: a merge agent copies
    # (and re-keys) every wanted source record onto the input topic.
    direct: bool = False
