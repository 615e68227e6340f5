"""What every benchmark shares: progress on stderr, percentiles, the final JSON line on stdout."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile_ms(seconds: list[float], q: int) -> float:
    if not seconds:
        return float("nan")
    if len(seconds) == 1:
        return seconds[0] * 1000
    return statistics.quantiles(seconds, n=100, method="inclusive")[q - 1] * 1000


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a smaller run, done within about a minute")
    return parser.parse_args()


@dataclass
class Report:
    bench: str
    figures: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    targets: dict[str, float] = field(default_factory=dict)

    def ratio(self, name: str, value: float, target: float) -> None:
        self.ratios[name] = round(value, 3)
        self.targets[name] = target

    def emit(self) -> None:
        """The one line of JSON on stdout that the benchmark ends with."""
        print(json.dumps(self.__dict__), flush=True)


class Meter:
    """Counts completions and reports the rate to stderr about once a second."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.started = time.perf_counter()
        self._last_report = self.started

    def add(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last_report >= 1.0:
            self._last_report = now
            progress(
                f"{self.label}: {self.done:,}/{self.total:,} ({self.done / (now - self.started):,.0f}/s)"
            )

    @property
    def rate(self) -> float:
        return self.done / (time.perf_counter() - self.started)
