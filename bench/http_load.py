"""A small closed-loop HTTP/1.1 load generator on keep-alive connections (no client library in the way).

Each connection sends a request, reads the whole answer, sends the next;
the latency of each request and its status are recorded. It stops by itself
after ``duration_s``.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.common import Meter


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


async def _one_connection(
    host: str, port: int, request: Callable[[], bytes], until: float, result: LoadResult, meter: Meter
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < until:
            started = time.perf_counter()
            writer.write(request())
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[int(status_line.split()[1])] += 1
            meter.add()
    finally:
        writer.close()


async def run_load(
    host: str, port: int, request: Callable[[], bytes], connections: int, duration_s: float, label: str
) -> LoadResult:
    result = LoadResult()
    meter = Meter(label, 0)
    started = time.monotonic()
    until = started + duration_s
    await asyncio.gather(
        *(_one_connection(host, port, request, until, result, meter) for _ in range(connections))
    )
    result.elapsed = time.monotonic() - started
    return result
