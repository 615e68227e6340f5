"""``pronto backtest``: a shop's history through a candidate routing and SLA configuration, with a report.

What was live is read from ``--live-routing`` and ``--live-sla``, else from ``live-routing.yaml`` and
``live-sla.yaml`` beside the archive (the demo writes them), else routing's defaults and the last SLA
policy the history records (or SLA's defaults). Without ``--routing`` and ``--sla`` the candidate is
what was live, and the report says how many decisions the replay made exactly as recorded.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pronto.envelope import Envelope
from pronto.v1 import events_pb2
from pronto_tools.backtest import candidate, recorded
from pronto_tools.backtest.figures import Observer
from pronto_tools.backtest.replay import Recorded, Replay
from pronto_tools.backtest.report import Run, Sensitivity, page, plots, rows, sensitivity_rows, text
from pronto_tools.errors import ArchiveError, BacktestError
from services.sla.domain.policy import Policy as SlaPolicy

PROGRESS_EVERY = 100_000


@dataclass(frozen=True)
class Agreement:
    """How much of a replay is what was recorded: assignments (conversation, operator, instant), and
    clocks stopped (conversation, metric, met or missed, elapsed) exactly and in outcome alone."""

    assignments: int
    same_assignments: int
    clock_results: int
    same_clock_results: int
    same_outcomes: int
    # The largest difference in elapsed time among the results with the same outcome, in seconds.
    largest_difference_s: float

    @classmethod
    def of(cls, live: Observer, replay: Observer) -> Agreement:
        same = Counter(live.assignments) & Counter(replay.assignments)
        stops = Counter(live.stops) & Counter(replay.stops)
        outcomes: dict[tuple[str, int, bool], list[float]] = {}
        for conversation, metric, met, elapsed in replay.stops:
            outcomes.setdefault((conversation, metric, met), []).append(elapsed)
        same_outcomes, largest = 0, 0.0
        for conversation, metric, met, elapsed in live.stops:
            others = outcomes.get((conversation, metric, met))
            if others:
                nearest = min(others, key=lambda e: abs(e - elapsed))
                others.remove(nearest)
                same_outcomes += 1
                largest = max(largest, abs(nearest - elapsed))
        return cls(
            len(live.assignments), same.total(), len(live.stops), stops.total(), same_outcomes, largest
        )

    def lines(self, replayed_assignments: int, replayed_results: int) -> list[str]:
        return [
            f"replaying the live configuration: {self.same_assignments:,} of {self.assignments:,} recorded "
            f"assignments made exactly as recorded ({replayed_assignments:,} made)",
            f"clock results: {self.same_clock_results:,} of {self.clock_results:,} exactly as recorded, "
            f"{self.same_outcomes:,} with the same outcome (met or missed), elapsed within "
            f"{self.largest_difference_s * 1000:.0f} ms ({replayed_results:,} measured)",
        ]


def replay(
    stream: Sequence[tuple[int, Envelope]],
    tenant: str,
    routing: candidate.Routing,
    sla: SlaPolicy,
    past: Recorded,
    factor: float = 1.0,
    say: Callable[[str], None] = print,
    until: datetime | None = None,
) -> tuple[Observer, Counter[str]]:
    """One replay of the history through ``routing`` and ``sla``, saying how far it is."""
    observer = Observer()
    started, count = time.monotonic(), 0

    def counted() -> Iterator[tuple[int, Envelope]]:
        nonlocal count
        for item in stream:
            count += 1
            if count % PROGRESS_EVERY == 0:
                say(f"  {count:,} records replayed ({count / (time.monotonic() - started):,.0f}/s)")
            yield item

    counts = Replay(tenant, routing, sla, past, observer.observe, factor).run(counted(), until)
    return observer, counts


def reporting(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """The command ``run``, saying what it cannot do in one line on stderr and exiting 1."""

    def command(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except (ArchiveError, BacktestError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return command


@reporting
def cmd_backtest(args: argparse.Namespace) -> int:
    history: Path = args.history
    if not args.html.resolve().parent.is_dir():
        raise BacktestError(f"--html {args.html}: no directory {args.html.resolve().parent} to write it in")
    manifest, tenant = recorded.open_history(history, args.tenant)
    live_routing_data, live_routing_source = recorded.live_routing(args.live_routing, history)
    live_sla_data, live_sla_source = recorded.live_sla(args.live_sla, history, manifest, tenant)
    live_routing = candidate.routing(live_routing_data, live_routing_source)
    live_sla = candidate.sla(live_sla_data, live_sla_source)
    routing = live_routing
    if args.routing:
        routing = candidate.routing(
            candidate.over(live_routing_data, candidate.read(args.routing)), str(args.routing)
        )
    sla = (
        candidate.sla(candidate.over(live_sla_data, candidate.read(args.sla)), str(args.sla))
        if args.sla
        else live_sla
    )
    unchanged = args.routing is None and args.sla is None

    print(f"reading {history} ({tenant}) ...")
    live = Observer()
    past, stream = recorded.recorded(history, manifest, tenant, live.observe)
    _check_added(routing, stream, args.routing)
    print(f"  {len(past.first_assignments):,} conversations assigned live")
    print(f"  live: routing from {live_routing_source}; SLA from {live_sla_source}")
    started = time.monotonic()
    print("replaying the candidate ..." if not unchanged else "replaying the live configuration ...")
    observer, counts = replay(stream, tenant, routing, sla, past, 1.0, print, live.end)
    seconds = time.monotonic() - started
    print(
        f"  {observer.figures(live.end).conversations:,} conversations in {seconds:.1f} s; "
        + _counted(counts)
    )

    live_figures, figures = live.figures(), observer.figures(live.end)
    notes = [_period(live)]
    sensitivity: list[Sensitivity] = []
    if unchanged:
        agreement = Agreement.of(live, observer)
        notes += agreement.lines(len(observer.assignments), len(observer.stops))
    else:
        notes.append(_reply_times(bool(args.reply_time_factors)))
        for factor in args.reply_time_factors:
            print(f"replaying the candidate with reply times x{factor:g} when another operator has it ...")
            again, _ = replay(stream, tenant, routing, sla, past, factor, print, live.end)
            sensitivity.append(Sensitivity(factor, again.figures(live.end)))
        if sensitivity:
            sensitivity.append(Sensitivity(1.0, figures))
            sensitivity.sort(key=lambda s: s.factor)
    runs = [Run("live", live_figures), Run("replay" if unchanged else "candidate", figures)]
    lines = rows(runs)
    print()
    print("\n".join(notes))
    print(text(lines))
    if sensitivity:
        print("\nSensitivity: reassigned conversations' reply times scaled")
        print(text(sensitivity_rows(sensitivity)))
    title = f"What if: {tenant}, {_names(args)}"
    sensitivity_lines = sensitivity_rows(sensitivity) if sensitivity else []
    args.html.write_text(page(title, notes, lines, plots(runs, sensitivity), sensitivity_lines))
    print(f"\nreport: {args.html.resolve()}")
    return 0


def _check_added(
    routing: candidate.Routing, stream: Sequence[tuple[int, Envelope]], source: Path | None
) -> None:
    """Refuse added operators who copy no one in the history, or take the id of someone in it."""
    if not routing.operators:
        return
    known = {
        event.payload.operator_id
        for _, event in stream
        if isinstance(event.payload, events_pb2.OperatorProfileUpdated)
    }
    for added in routing.operators:
        if added.like not in known:
            raise BacktestError(
                f"{source}: operators: {added.id} is like {added.like}, who is not in the history "
                f"(its operators: {', '.join(sorted(known)) or 'none'})"
            )
        if added.id in known:
            raise BacktestError(f"{source}: operators: {added.id} is in the history already; choose a new id")


def _names(args: argparse.Namespace) -> str:
    files = [str(f) for f in (args.routing, args.sla) if f is not None]
    return " and ".join(files) if files else "the live configuration replayed"


def _period(live: Observer) -> str:
    if live.start is None or live.end is None:
        return "the history holds no events of this shop"
    span = _span(live.end - live.start)
    return f"period: {live.start:%Y-%m-%d %H:%M:%S} to {live.end:%Y-%m-%d %H:%M:%S} UTC ({span})"


def _span(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _reply_times(scaled: bool) -> str:
    return (
        "operators' replies: as recorded where the candidate assigns a conversation as the live run did; "
        "otherwise at the same delay after the new assignment"
        + (" (scaled in the sensitivity table when another operator has it)" if scaled else "")
    )


def _counted(counts: Counter[str]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(counts.items())) or "nothing moved"


def factors(text_: str) -> list[float]:
    try:
        values = [float(v) for v in text_.split(",") if v.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text_!r}: factors are numbers, comma-separated (0.8,1.25)"
        ) from exc
    if any(not 0 < v <= 10 for v in values):
        raise argparse.ArgumentTypeError("each factor must be more than 0 and at most 10")
    return [v for v in values if v != 1.0]


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backtest = commands.add_parser(
        "backtest",
        help="replay a shop's history through another routing or SLA configuration",
        description="Replays a 'pronto history export' archive through routing and SLA with a candidate "
        "configuration and reports it beside what really happened, as a table and an HTML page. "
        "Without --routing and --sla it replays the live configuration and says how much of the "
        "record it gives back. docs/what-if.md says how.",
    )
    backtest.add_argument("--history", type=Path, required=True, help="a 'pronto history export' directory")
    backtest.add_argument(
        "--routing", type=Path, help="candidate routing settings (YAML), laid over the live ones"
    )
    backtest.add_argument("--sla", type=Path, help="candidate SLA policy (YAML), laid over the live one")
    backtest.add_argument(
        "--live-routing",
        type=Path,
        help="routing's settings as they were "
        "(default: live-routing.yaml in --history, else routing's defaults)",
    )
    backtest.add_argument(
        "--live-sla",
        type=Path,
        help="the SLA policy as it was (default: live-sla.yaml in --history, else the last one recorded, "
        "else SLA's defaults)",
    )
    backtest.add_argument("--tenant", help="the shop (default: the one the export chose)")
    backtest.add_argument(
        "--html",
        type=Path,
        default=Path("backtest.html"),
        help="where to write the page (default: backtest.html)",
    )
    backtest.add_argument(
        "--reply-time-factors",
        type=factors,
        default=[0.8, 1.25],
        help="reply-time scalings of reassigned conversations for the sensitivity table of a candidate "
        "(default 0.8,1.25; '' for none)",
    )
    backtest.set_defaults(run=cmd_backtest)
