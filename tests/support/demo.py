"""``pronto demo`` run as the README runs it, read until a line of its output shows, stopped by Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).parents[2]


@contextmanager
def running_demo(*args: str, until: str, within_s: float = 120) -> Iterator[tuple[re.Match[str], str]]:
    """The demo started with ``args``, once a line of its output matches ``until``: the match and
    everything it printed up to there. It is stopped with SIGINT (as Ctrl-C) on the way out."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pronto_tools.cli", "demo", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines: list[str] = []
    found = None
    deadline = time.monotonic() + within_s
    try:
        while found is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(until, line)
        assert found is not None, f"the demo never printed {until!r}:\n" + "".join(lines[-30:])
        yield found, "".join(lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
