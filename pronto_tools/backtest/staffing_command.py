"""``pronto staffing --history DIR``: the operators each hour of the week needs, beside those who were online.

Reads the same archive as ``pronto backtest`` (``support.routing.v1`` and ``support.conversations.v1``)
and the shop's SLA policy as it was live (``--live-sla``, else ``live-sla.yaml`` beside the archive,
else the last one the history records, else SLA's defaults) for each channel's first-response target.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pronto import topics
from pronto_tools.backtest import candidate, recorded
from pronto_tools.backtest.command import reporting
from pronto_tools.backtest.staffing import Staffing

# What staffing reads: routing's input (messages, operators, resolutions) and its assignments.
NEEDED = (topics.ROUTING.name, topics.CONVERSATIONS.name)


@reporting
def cmd_staffing(args: argparse.Namespace) -> int:
    history: Path = args.history
    manifest, tenant = recorded.open_history(history, args.tenant, NEEDED)
    data, source = recorded.live_sla(args.live_sla, history, manifest, tenant)
    policy = candidate.sla(data, source)
    targets = {channel: t.duration.total_seconds() for channel, t in policy.response.items() if t is not None}
    staffing = Staffing()
    for name in (topics.ROUTING.name, topics.CONVERSATIONS.name):
        for _, event in recorded.events(history, manifest, name, tenant):
            staffing.observe(event)
    if staffing.start is None or staffing.end is None:
        print(f"{history} holds no events of {tenant}")
        return 0
    hours = (staffing.end - staffing.start).total_seconds() / 3600
    print(
        f"{tenant}, {staffing.start:%Y-%m-%d %H:%M} to {staffing.end:%Y-%m-%d %H:%M} UTC ({hours:.1f} h); "
        f"first-reply targets from {source}; {args.level:.0%} answered within target"
    )
    advice = staffing.week(targets, args.level)
    # Compared as printed: 1.998 operators online (one came online a moment in) shows as 2.0, not short.
    short = [a for a in advice if a.needed > round(a.online, 1)]
    for a in advice:
        print(("  short  " if a in short else "         ") + a.line())
    print(f"{len(advice)} channel, language and hour slots with customers; {len(short)} short of operators")
    return 0


def level(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError("the service level is a share between 0 and 1, e.g. 0.8")
    return value


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    staffing = commands.add_parser(
        "staffing",
        help="operators needed per channel, language and hour of the week, from a history",
        description="From a 'pronto history export' archive: per channel, language and hour of the week, "
        "the operators needed to answer --level of first replies within the shop's target (Erlang C, "
        "and its multi-chat variant for chat), beside those who were online. docs/what-if.md says how.",
    )
    staffing.add_argument("--history", type=Path, required=True, help="a 'pronto history export' directory")
    staffing.add_argument("--tenant", help="the shop (default: the one the export chose)")
    staffing.add_argument(
        "--live-sla",
        type=Path,
        help="the SLA policy with the targets (default: live-sla.yaml in --history, else the last one "
        "recorded, else SLA's defaults)",
    )
    staffing.add_argument(
        "--level", type=level, default=0.8, help="share answered within the target (default 0.8)"
    )
    staffing.set_defaults(run=cmd_staffing)
