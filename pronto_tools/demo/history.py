"""The demo's history: its shop's events exported when the traffic ends, ready for ``pronto backtest``.

Beside the archive go the configuration the demo ran with (``live-routing.yaml``, ``live-sla.yaml``: the
backtest reads them as what was live) and a candidate to try (``what-if-routing.yaml``: a third
Polish-speaking operator on Anna's shifts, and conversations widened sooner).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pronto_tools.backtest.candidate import dump
from pronto_tools.demo.settings import DEMO_SLA_POLICY, DEMO_TENANT, DEMO_WIDEN_AFTER_S
from pronto_tools.history.command import HISTORY_TOPICS
from pronto_tools.history.export import export, prepare

WHAT_IF_ROUTING = {
    "widen_after_s": [10, 20, 30],
    "operators": [{"id": "ola", "like": "anna", "languages": {"pl": 5, "en": 3}, "display_name": "Ola"}],
}


async def keep_history(bootstrap_servers: str, run_dir: Path, say: Callable[[str], None]) -> Path:
    """Export the demo shop's events to ``run_dir/history`` and say how to backtest them."""
    out = run_dir / "history"
    prepare(out)
    say(f"exporting the demo shop's history to {out} ...")
    manifest = await export(bootstrap_servers, HISTORY_TOPICS, out, tenant=DEMO_TENANT, say=lambda _: None)
    (out / "live-routing.yaml").write_text(dump({"widen_after_s": list(DEMO_WIDEN_AFTER_S)}))
    (out / "live-sla.yaml").write_text(dump(DEMO_SLA_POLICY))
    (out / "what-if-routing.yaml").write_text(dump(WHAT_IF_ROUTING))
    total = sum(part.records for part in manifest.topics.values())
    say(f"history: {total:,} records in {out}")
    say(f"what if? pronto backtest --history {out} --routing {out / 'what-if-routing.yaml'}")
    say(f"staffing: pronto staffing --history {out}")
    return out
