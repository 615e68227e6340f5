"""The backtest's report: live and candidate side by side, as a table for the terminal and an HTML page.

The page's plots are matplotlib's, written as inline SVG: one file with no script and nothing fetched,
that opens offline and can be mailed or attached to a ticket (plotly's pages carry megabytes of
JavaScript for interactivity a comparison of two columns does not need).
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pronto_tools.backtest.figures import Compliance, Figures, Spread


@dataclass(frozen=True)
class Run:
    name: str
    figures: Figures


@dataclass(frozen=True)
class Sensitivity:
    """The candidate again with reply times of reassigned conversations scaled by ``factor``."""

    factor: float
    figures: Figures


def _pct(c: Compliance) -> str:
    return "-" if c.percent is None else f"{c.percent:.1f}% of {c.measured}"


def _spread(s: Spread) -> str:
    if not s.count:
        return "-"
    return "/".join(f"{v:.0f}" if v is not None and v >= 10 else f"{v:.1f}" for v in (s.p50, s.p90, s.p99))


def _time(hours: float) -> str:
    return f"{hours * 60:.1f} min" if hours < 1 else f"{hours:.1f} h"


def rows(runs: Sequence[Run]) -> list[tuple[str, ...]]:
    """The report's lines: a label, then one cell per run; a line of one cell is a heading."""
    figures = [r.figures for r in runs]
    out: list[tuple[str, ...]] = [("", *(r.name for r in runs))]
    out.append(("conversations", *(f"{f.conversations:,}" for f in figures)))
    out.append(("First responses within target",))
    out.append(("all", *(_pct(f.overall_compliance()) for f in figures)))
    for channel in sorted({c for f in figures for c, _ in f.compliance}):
        out.append((channel, *(_pct(f.channel_compliance(channel)) for f in figures)))
    for language in sorted({lang for f in figures for _, lang in f.compliance}):
        out.append((f"language {language or '?'}", *(_pct(f.language_compliance(language)) for f in figures)))
    out.append(("Wait for an operator, seconds p50/p90/p99",))
    for channel in sorted({c for f in figures for c in f.waits}):
        out.append((channel or "all", *(_spread(f.waits.get(channel, Spread.of([]))) for f in figures)))
    for language in sorted({lang for f in figures for lang in f.language_waits}):
        label = f"language {language or '?'}"
        out.append((label, *(_spread(f.language_waits.get(language, Spread.of([]))) for f in figures)))
    out.append(("First reply, seconds p50/p90/p99",))
    for channel in sorted({c for f in figures for c in f.first_replies}):
        out.append(
            (channel or "all", *(_spread(f.first_replies.get(channel, Spread.of([]))) for f in figures))
        )
    out.append(("Breaches, reassignments",))
    for metric in sorted({m for f in figures for m in f.breaches}):
        out.append((f"{metric} breaches", *(str(f.breaches.get(metric, 0)) for f in figures)))
    out.append(("warnings", *(str(f.warnings) for f in figures)))
    out.append(("reassignments", *(str(f.reassignments) for f in figures)))
    out.append(("never assigned", *(str(f.never_assigned) for f in figures)))
    out.append(("Operators: assigned, time busy / idle, mean held",))
    for operator in sorted({o for f in figures for o in f.operators}):
        cells = []
        for f in figures:
            load = f.operators.get(operator)
            cells.append(
                "-"
                if load is None
                else f"{load.assigned}, {_time(load.busy_h)} / {_time(load.idle_h)}, {load.mean_held:.1f}"
            )
        out.append((operator, *cells))
    return out


def sensitivity_rows(runs: Sequence[Sensitivity]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [("reply-time factor", "within target", "wait p90 s", "first reply p90 s")]
    for run in runs:
        f = run.figures
        p90 = f.waits[""].p90 if "" in f.waits else None
        reply = f.first_replies[""].p90 if "" in f.first_replies else None
        out.append(
            (
                f"x{run.factor:g}",
                _pct(f.overall_compliance()),
                "-" if p90 is None else f"{p90:.1f}",
                "-" if reply is None else f"{reply:.1f}",
            )
        )
    return out


def text(lines: Sequence[tuple[str, ...]]) -> str:
    width = max(len(line[0]) for line in lines) + 2
    cells = max(len(line) for line in lines) - 1
    cell = max([len(c) for line in lines if len(line) > 1 for c in line[1:]] + [10]) + 2
    out = []
    for line in lines:
        if len(line) == 1:
            out.append(f"\n{line[0]}")
        else:
            out.append(line[0].ljust(width) + "".join(c.rjust(cell) for c in line[1:]).rstrip())
    return "\n".join(out[: 1 + len(out)]) if cells else ""


def _table(lines: Sequence[tuple[str, ...]]) -> str:
    cells = max(len(line) for line in lines)
    body = []
    for i, line in enumerate(lines):
        tag = "th" if i == 0 else "td"
        if len(line) == 1:
            body.append(f'<tr><th colspan="{cells}" class="section">{html.escape(line[0])}</th></tr>')
        else:
            body.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in line) + "</tr>")
    return "<table>" + "".join(body) + "</table>"


def _svg(figure: object) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")  # type: ignore[attr-defined]
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _or_nan(value: float | None) -> float:
    """Nothing measured is drawn as no bar, not as 0%."""
    return math.nan if value is None else value


def _bars(ax: Any, groups: Sequence[str], series: Sequence[tuple[str, Sequence[float]]]) -> None:
    """Bars of each series side by side, one group per label."""
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series):
        ax.bar([x + i * width for x in range(len(groups))], values, width, label=name)
    ax.set_xticks(
        [x + width * (len(series) - 1) / 2 for x in range(len(groups))], groups, rotation=30, ha="right"
    )
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def plots(runs: Sequence[Run], sensitivity: Sequence[Sensitivity]) -> list[str]:
    """Waits by channel, compliance by channel and by language, operators' time, sensitivity: SVG."""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text: searchable, small
    svgs = []

    channels = sorted({c for r in runs for c in r.figures.waits if c})
    fig, ax = plt.subplots(figsize=(8, 3.5))
    series = [(r.name, [r.figures.waits.get(c, Spread.of([])).p90 or 0.0 for c in channels]) for r in runs]
    _bars(ax, channels, series)
    ax.set_ylim(0, max([1.0, *(v * 1.1 for _, values in series for v in values)]))
    ax.set_ylabel("seconds")
    ax.set_title("Wait for an operator, 90th percentile, by channel")
    svgs.append(_svg(fig))
    plt.close(fig)

    fig, (by_channel, by_language) = plt.subplots(1, 2, figsize=(11, 3.5), width_ratios=(2, 1))
    languages = sorted({lang for r in runs for _, lang in r.figures.compliance})
    for ax, groups, by in ((by_channel, channels, "channel"), (by_language, languages, "language")):
        series = [
            (
                r.name,
                [
                    (
                        r.figures.channel_compliance(g)
                        if by == "channel"
                        else r.figures.language_compliance(g)
                    ).percent
                    or 0.0
                    for g in groups
                ],
            )
            for r in runs
        ]
        _bars(ax, groups, series)
        ax.set_ylim(0, 105)
    by_channel.set_ylabel("% within target")
    by_channel.set_title("First responses within target, by channel")
    by_language.set_title("and by language")
    svgs.append(_svg(fig))
    plt.close(fig)

    operators = sorted({o for r in runs for o in r.figures.operators})
    hours = [load.online_h for r in runs for load in r.figures.operators.values()]
    scale, unit = (60, "minutes") if max(hours, default=0) < 2 else (1, "hours")
    fig, ax = plt.subplots(figsize=(max(8, len(operators) * 0.7), 3.5))
    width = 0.8 / len(runs)
    for i, run in enumerate(runs):
        loads = [run.figures.operators.get(o) for o in operators]
        xs = [x + i * width for x in range(len(operators))]
        busy = [load.busy_h * scale if load else 0 for load in loads]
        idle = [load.idle_h * scale if load else 0 for load in loads]
        ax.bar(xs, busy, width, label=f"{run.name}: busy")
        ax.bar(xs, idle, width, bottom=busy, label=f"{run.name}: idle", alpha=0.45)
    ax.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(operators))], operators, fontsize=8)
    ax.set_ylabel(f"{unit} online")
    ax.set_title("Each operator's time online: holding conversations, and idle")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    svgs.append(_svg(fig))
    plt.close(fig)

    if len(sensitivity) > 1:
        fig, ax = plt.subplots(figsize=(6, 3))
        percents = [s.figures.overall_compliance().percent or 0.0 for s in sensitivity]
        ax.plot([s.factor for s in sensitivity], percents, marker="o")
        ax.set_ylim(max(0.0, min(percents) - 10), 100.5)
        ax.set_xlabel("reply times of reassigned conversations, times the recorded")
        ax.set_ylabel("% within target")
        ax.set_title("Sensitivity to how fast another operator replies")
        svgs.append(_svg(fig))
        plt.close(fig)
    return svgs


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 70rem; }
table { border-collapse: collapse; margin: 1rem 0; }
td, th { padding: 0.2rem 0.8rem; text-align: right; border-bottom: 1px solid #ddd; }
td:first-child, th:first-child { text-align: left; }
th.section { text-align: left; padding-top: 1rem; background: #f4f4f4; }
svg { max-width: 100%; height: auto; }
"""


def page(
    title: str,
    notes: Sequence[str],
    lines: Sequence[tuple[str, ...]],
    svgs: Sequence[str],
    sensitivity: Sequence[tuple[str, ...]],
) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *(f"<p>{html.escape(note)}</p>" for note in notes),
        _table(lines),
    ]
    if sensitivity:
        parts += ["<h2>Sensitivity</h2>", _table(sensitivity)]
    parts += ["<h2>Plots</h2>", *svgs, "</body></html>"]
    return "\n".join(parts) + "\n"
