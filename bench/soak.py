"""Soak benchmark: the one-command demo left running, at its default rate and at 20 messages/s.

Runs ``pronto demo`` (the embedded broker, every service, the simulated customers and team) twice,
each on a fresh broker: 30 minutes at the demo's default 10 messages/s, then 20 minutes at 20/s
(``--quick``: 50 s each). While it runs it samples, at every progress line, the acknowledgement
latencies the simulated platforms saw from ingest and the embedded broker's CPU time and memory
(``/proc``). Per window of a minute (10 s with ``--quick``) it reports ingest's ack p99 and the
share of one core the broker used; the figures are the worst window, the last window and the whole
run. A demo that slows down as its history grows shows it as a last window worse than the first.

Beside them, in the same run, the raw broker baseline (aiokafka alone on a fresh broker: round trip
and produce+consume). Targets (issue #27): ack p99 under 100 ms in every window, and the broker
under half a core.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Report, arguments, percentile_ms, progress
from bench.raw import prepared
from pronto_tools.broker.embedded import EmbeddedBroker, free_port
from pronto_tools.demo.run import run_demo
from pronto_tools.demo.settings import DemoOptions
from pronto_tools.simulate.run import Simulation

TARGET_ACK_P99_MS = 100.0
TARGET_BROKER_CORES = 0.5
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Phase:
    name: str
    rate: float
    seconds: float
    window_s: float


@dataclass
class Sample:
    at: float  # monotonic
    acks: int  # latencies recorded so far
    broker_cpu_s: float
    broker_rss_mb: float


@dataclass
class Samples:
    taken: list[Sample] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def observe(self, simulation: Simulation, broker: EmbeddedBroker) -> None:
        pid = broker.pid
        if pid is None:
            return
        self.latencies = simulation.stats.latencies
        self.taken.append(Sample(time.monotonic(), len(self.latencies), broker_cpu_s(pid), rss_mb(pid)))


def broker_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def windows(samples: Samples, window_s: float) -> list[tuple[float, float]]:
    """(ack p99 ms, broker cores) per window of about ``window_s``, from the samples' boundaries."""
    taken, out = samples.taken, []
    start = 0
    for end in range(1, len(taken)):
        if taken[end].at - taken[start].at >= window_s or end == len(taken) - 1:
            first, last = taken[start], taken[end]
            acks = samples.latencies[first.acks : last.acks]
            cores = (last.broker_cpu_s - first.broker_cpu_s) / (last.at - first.at)
            out.append((percentile_ms(acks, 99), cores))
            start = end
    return out


async def one_phase(phase: Phase, run_dir: Path, report: Report) -> None:
    samples = Samples()
    options = DemoOptions(
        duration=phase.seconds,
        rate=phase.rate,
        progress_every=min(5.0, phase.window_s / 2),
        observe=samples.observe,
        # Ports of their own, so that a demo someone left running does not collide.
        broker_port=free_port(),
        grpc_port=free_port(),
        http_port=free_port(),
        routing_http_port=free_port(),
        sla_http_port=free_port(),
        notify_http_port=free_port(),
        query_http_port=free_port(),
        inbox_port=free_port(),
    )
    progress(f"{phase.name}: the demo at {phase.rate:g} messages/s for {phase.seconds:g} s")
    log = (run_dir / f"demo-{phase.name}.log").open("w")
    stats = await run_demo(options, say=lambda line: print(line, file=log, flush=True))
    log.close()
    found = windows(samples, phase.window_s)
    if not found:
        raise SystemExit(f"{phase.name}: no samples taken; see {run_dir}")
    for index, (p99, cores) in enumerate(found):
        progress(f"  window {index + 1}: ack p99 {p99:.1f} ms, broker {cores:.2f} cores")
    whole = samples.taken[-1].broker_cpu_s - samples.taken[0].broker_cpu_s
    figures = {
        "ack_p99_ms_worst_window": max(p99 for p99, _ in found),
        "ack_p99_ms_first_window": found[0][0],
        "ack_p99_ms_last_window": found[-1][0],
        "ack_p99_ms_whole_run": stats.percentile(99) * 1000,
        "broker_cores_worst_window": max(cores for _, cores in found),
        "broker_cores_last_window": found[-1][1],
        "broker_cores_whole_run": whole / (samples.taken[-1].at - samples.taken[0].at),
        "broker_rss_mb_first": samples.taken[0].broker_rss_mb,
        "broker_rss_mb_last": samples.taken[-1].broker_rss_mb,
        "messages_accepted": stats.accepted,
    }
    for name, value in figures.items():
        report.figures[f"{name}_{phase.name}"] = round(value, 3)
    report.ratio(
        f"ack_p99_worst_window_over_target_{phase.name}",
        figures["ack_p99_ms_worst_window"] / TARGET_ACK_P99_MS,
        1.0,
    )
    report.ratio(
        f"broker_cores_whole_run_over_target_{phase.name}",
        figures["broker_cores_whole_run"] / TARGET_BROKER_CORES,
        1.0,
    )
    progress(
        f"{phase.name}: {stats.accepted:,} accepted; ack p99 worst window "
        f"{figures['ack_p99_ms_worst_window']:.1f} ms; broker {figures['broker_cores_whole_run']:.2f} "
        f"cores; broker memory {figures['broker_rss_mb_first']:.0f} -> {figures['broker_rss_mb_last']:.0f} MB"
    )


async def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    if args.quick:
        phases = [Phase("rate_10", 10, 50, 10), Phase("rate_20", 20, 50, 10)]
    else:
        phases = [Phase("rate_10", 10, 30 * 60, 60), Phase("rate_20", 20, 20 * 60, 60)]
    report = Report("soak")
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-bench-soak-"))
    with EmbeddedBroker(log_path=run_dir / "broker-raw.log") as broker:
        report.baseline = await prepared(broker, run_dir, 200, 5)
    for phase in phases:
        await one_phase(phase, run_dir, report)
    report.emit()


if __name__ == "__main__":
    asyncio.run(main())
