"""Backtest benchmark: replayed customer messages/s for a shop of 20,000 messages a day.

A made-up month (``pronto_tools.backtest.synthetic``: customers writing at random in four languages on
chat, e-mail and WhatsApp, a team of 30 online throughout, replies a minute after assignment,
resolutions four minutes after) is run live once through routing and SLA, written as the archive
``pronto history export`` writes, then backtested the way ``pronto backtest`` does it: the archive read
and the period replayed with a candidate (one more operator), timed.

Beside it, in the same run: the raw broker's produce+consume throughput (``bench.raw``) and reading the
archive alone (records decoded, nothing replayed), the floor any backtest of it pays.

Target (issue #24): a month in under 5 minutes on this machine. ``--quick`` replays two days and
reports the month's time at the rate measured.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Report, arguments, progress
from bench.raw import prepared
from pronto_tools.backtest import candidate, recorded
from pronto_tools.backtest.candidate import AddedOperator, Routing
from pronto_tools.backtest.command import replay
from pronto_tools.backtest.figures import Observer
from pronto_tools.backtest.synthetic import Member, Scenario, live, write_archive
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.history.restore import records

PER_DAY = 20_000
MONTH_DAYS = 30
MONTH_TARGET_S = 300.0
LANGUAGES = (
    {"it": 5, "en": 4},
    {"pl": 5, "en": 4},
    {"de": 5, "en": 5},
    {"en": 5, "it": 3},
    {"it": 5, "de": 3},
)


def scenario(days: float) -> Scenario:
    team = tuple(Member(f"op-{n}", LANGUAGES[n % len(LANGUAGES)], capacity=3) for n in range(30))
    return Scenario(
        start=datetime(2026, 11, 2, tzinfo=UTC),
        hours=24 * days,
        messages_per_hour=PER_DAY / 24,
        team=team,
        languages={"it": 0.4, "en": 0.25, "pl": 0.2, "de": 0.15},
        channels={"web_chat": 0.5, "email": 0.3, "whatsapp": 0.2},
        reply_after_s=60,
        resolve_after_s=240,
        seed=7,
    )


def main() -> None:
    args = arguments(__doc__ or "")
    days = 2 if args.quick else MONTH_DAYS
    report = Report("backtest")
    with tempfile.TemporaryDirectory(prefix="pronto-bench-backtest-") as tmp:
        run_dir = Path(tmp)
        progress("raw broker baseline ...")
        with EmbeddedBroker(log_path=run_dir / "broker.log") as broker:
            raw = asyncio.run(prepared(broker, run_dir, rate=2_000, seconds=3))
        report.baseline["raw_produce_consume_messages_per_s"] = round(raw["raw_produce_consume_per_s"], 1)

        progress(
            f"making {days} days of a {PER_DAY:,}-message/day shop, run live through routing and SLA ..."
        )
        started = time.perf_counter()
        live_routing = candidate.routing({})
        sla = candidate.sla({})
        history = live(scenario(days), live_routing, sla)
        progress(f"  {len(history.routing):,} input events in {time.perf_counter() - started:.0f} s")
        archive = run_dir / "history"
        write_archive(archive, history, "shop")
        messages = sum(1 for e in history.routing if e.type == "pronto.v1.MessageReceived")
        del history

        progress("reading the archive alone ...")
        started = time.perf_counter()
        manifest, tenant = recorded.open_history(archive, None)
        count = sum(1 for name in manifest.topics for _ in recorded.events(archive, manifest, name, tenant))
        read_s = time.perf_counter() - started
        report.baseline["archive_read_records_per_s"] = round(count / read_s, 1)
        raw_lines = sum(1 for name in manifest.topics for _ in records(archive, manifest, name))
        assert raw_lines == count, "every record of the synthetic archive decodes"

        progress("backtesting it: one more operator ...")
        hired = Routing(
            live_routing.policy, live_routing.reads_deadlines, (AddedOperator(id="new", like="op-1"),)
        )
        started = time.perf_counter()
        observer = Observer()
        past, stream = recorded.recorded(archive, manifest, tenant, observer.observe)
        candidate_observer, counts = replay(stream, tenant, hired, sla, past, 1.0, progress)
        figures = candidate_observer.figures()
        seconds = time.perf_counter() - started
        progress(f"  {messages:,} messages in {seconds:.1f} s; {dict(counts)}")

    rate = messages / seconds
    month_s = PER_DAY * MONTH_DAYS / rate
    report.figures.update(
        {
            "days": days,
            "messages": messages,
            "archive_records": count,
            "backtest_s": round(seconds, 1),
            "replayed_messages_per_s": round(rate, 1),
            "month_estimate_s": round(month_s, 1),
            "candidate_conversations": figures.conversations,
        }
    )
    report.ratio("month_s_over_target_lower_is_better", month_s / MONTH_TARGET_S, 1.0)
    report.ratio("backtest_records_per_s_over_archive_read", count / seconds / (count / read_s), 0.0)
    report.targets["month_estimate_s"] = MONTH_TARGET_S
    report.emit()


if __name__ == "__main__":
    main()
