"""Recovery benchmark: how long routing, SLA and notify take to be ready again after a SIGKILL.

It is measured after one day and after thirty days of a shop's history.

For each history (1 day, 30 days) on its own fresh embedded broker:

1. The shop's history is made in this process (``bench.shop_history``): customers write (by
   default 20,000 messages a day, two per conversation, on e-mail, web chat and WhatsApp), a team in
   three shifts replies and resolves, and every event goes through the services' own workers (the
   pure folds of ``services/*/worker.py``) in the order the services would read them, ticks
   included (at most one per second, only when something is due, as the live timers do). Every
   record is produced in batches where the services would find it: the source topics, routing's
   merge copies, and the journals of SLA's and notify's direct folds (``pronto.journal``).
2. Each partition's state is checkpointed the way the services do it (``pronto.snapshots``, on
   ``support.snapshots.v1``) at the moment their snapshot interval allows at the latest: one
   interval (``PRONTO_SNAPSHOT_EVERY_S``, 300 s of shop time) before the end of the history. The
   consumer groups' offsets are committed at the end, as a service that had handled everything
   would have left them. A restart therefore replays the worst case: one whole interval.
3. Each service is started as a process, waited for (``/readyz``), SIGKILLed, and started again:
   the figure is the time from that second start to ``/readyz`` answering 200, and the records it
   replayed (summed from its log).

The history's generation is not what is measured; only the restarts are. What is left out:
notify's deliverer starts from its own committed offsets on ``support.notifications.v1`` (not
written here), which does not grow with history.

Beside it, in the same run: the raw broker round trip and produce+consume throughput.

Targets: ready within 15 s after 30 days; the 30-day time at most 1.5x the 1-day time.
With ``--quick`` the shop writes 1,000 messages a day (the ratio between the histories is what
counts; the full run has the issue's 20,000).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Report, arguments, progress
from bench.history_writer import write_history
from bench.raw import prepared
from bench.shop_history import SERVICES, ShopHistory
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import NotifyService, RoutingService, SlaService
from pronto_tools.system import EMBEDDED_BROKER_ENV

TARGET_READY_S = 15.0
TARGET_GROWTH = 1.5
SNAPSHOT_EVERY_S = 300.0
REPLAYED = re.compile(r"replayed (\d+) records")
CLASSES = {"routing": RoutingService, "sla": SlaService, "notify": NotifyService}


async def restart(service: str, bootstrap: str, run_dir: Path) -> tuple[float, int, int]:
    """Start, wait, SIGKILL, start again: seconds to ready, records replayed, snapshots loaded."""
    env = {
        **EMBEDDED_BROKER_ENV,
        "PRONTO_LOG_LEVEL": "INFO",
        "PRONTO_SNAPSHOT_EVERY_S": str(SNAPSHOT_EVERY_S),
        "PRONTO_NOTIFY_JOURNAL": str(run_dir / "notify-journal"),
    }
    first = CLASSES[service](bootstrap, run_dir / f"{service}-first.log", env=env)
    first.start()
    first.wait_ready(timeout=180)
    first.kill()
    log = run_dir / f"{service}-restart.log"
    again = CLASSES[service](bootstrap, log, http_port=first.http_port, env=env)
    started = time.monotonic()
    again.start()
    try:
        again.wait_ready(timeout=180)
        ready_s = time.monotonic() - started
    finally:
        again.stop()
    text = log.read_text(errors="replace")
    replayed = sum(int(n) for n in REPLAYED.findall(text))
    return ready_s, replayed, text.count("snapshot of offset")


async def one_history(days: int, per_day: int, run_dir: Path, report: Report) -> None:
    with EmbeddedBroker(log_path=run_dir / f"broker-{days}d.log") as broker:
        from pronto import topics
        from pronto_tools.broker.provision import provision

        provision(broker.bootstrap_servers, topics.ALL)
        end = datetime.now(UTC)
        history = ShopHistory(per_day, start=end - timedelta(days=days), seed=days)
        progress(f"{days} day(s) of a {per_day:,}-message/day shop: folding and writing its history")
        written = await write_history(
            broker.bootstrap_servers, history, end, snapshot_at=end - timedelta(seconds=SNAPSHOT_EVERY_S)
        )
        for topic, count in sorted(written.items()):
            report.figures[f"history_records_{days}_days_{topic.removeprefix('support.')}"] = count
        progress(f"{days} day(s): written {written}")
        for service in SERVICES:
            ready_s, replayed, loaded = await restart(service, broker.bootstrap_servers, run_dir / f"{days}d")
            progress(
                f"{days} day(s): {service} ready {ready_s:.2f} s after a SIGKILL, "
                f"{replayed:,} records replayed, {loaded} snapshot(s) loaded"
            )
            label = "1_day" if days == 1 else f"{days}_days"
            report.figures[f"ready_s_after_{label}_{service}"] = round(ready_s, 3)
            report.figures[f"replayed_records_after_{label}_{service}"] = replayed


async def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    per_day = 1_000 if args.quick else 20_000
    report = Report("recovery")
    run_dir = Path(tempfile.mkdtemp(prefix="pronto-bench-recovery-"))
    with EmbeddedBroker(log_path=run_dir / "broker-raw.log") as broker:
        report.baseline = await prepared(broker, run_dir, 200, 5)
    for days in (1, 30):
        (run_dir / f"{days}d").mkdir()
        await one_history(days, per_day, run_dir, report)
    report.figures["messages_per_day"] = per_day
    for service in SERVICES:
        after_1 = report.figures[f"ready_s_after_1_day_{service}"]
        after_30 = report.figures[f"ready_s_after_30_days_{service}"]
        report.ratio(f"ready_s_after_30_days_{service}_over_target", after_30 / TARGET_READY_S, 1.0)
        report.ratio(f"ready_30_days_over_1_day_{service}", after_30 / after_1, TARGET_GROWTH)
    report.emit()


if __name__ == "__main__":
    asyncio.run(main())
