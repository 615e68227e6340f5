"""The README's first command, `pronto demo`, as a user runs it: with a duration, and until Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pronto_tools.broker.embedded import port_is_free

pytestmark = pytest.mark.integration


def _demo(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pronto_tools.cli", "demo", "--rate", "20", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _ports(output: str) -> list[int]:
    """Every loopback port the demo said it listens on."""
    return [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", output)]


def _check_summary(output: str) -> None:
    assert "Pronto is running:" in output
    assert "Summary after" in output, output[-3000:]
    assert "(every accepted event stored, once)" in output, output[-3000:]
    accepted = re.search(r"  accepted            (\d+)", output)
    assert accepted
    assert int(accepted.group(1)) > 0
    assert re.search(r"accepted by channel .*web_chat \d+", output)
    assert re.search(r"routing             [1-9]\d* assigned", output), output[-3000:]
    assert "first response      in time by channel:" in output
    assert re.search(r"notified: customers [1-9]", output), output[-3000:]
    read_models = re.search(r"read models \(query API\): (\d+) conversations .*(\d+) resolved", output)
    assert read_models, output[-3000:]
    assert int(read_models.group(1)) > 0
    assert "query API          curl -H 'authorization: Bearer demo-query-token'" in output
    assert "stopped. Logs are in" in output
    ports = _ports(output)
    assert len(ports) >= 7
    assert all(port_is_free(p) for p in ports), "something the demo started is still listening"


def test_with_a_duration_it_ends_by_itself_with_a_summary(tmp_path: Path) -> None:
    demo = _demo("--duration", "12")
    output, _ = demo.communicate(timeout=180)
    assert demo.returncode == 0, output[-3000:]
    _check_summary(output)
    _check_backtests(output, tmp_path)


def _pronto(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pronto_tools.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _check_backtests(output: str, tmp_path: Path) -> None:
    """The demo ends saying where its history is and how to backtest it; both backtests and the
    staffing advice run.

    Replaying the live configuration makes every recorded assignment exactly as recorded (conversation,
    operator, instant) and no other; clock results keep their outcome, but for a customer writing
    within milliseconds of an operator's action, which live SLA may take in the other order
    (pronto_tools/backtest/replay.py)."""
    history = re.search(r"history: ([\d,]+) records in (\S+)", output)
    assert history, output[-3000:]
    directory = Path(history.group(2))
    what_if = re.search(r"what if\? pronto backtest (.+)", output)
    assert what_if, output[-3000:]

    replayed = _pronto("backtest", "--history", str(directory), "--html", str(tmp_path / "same.html"))
    made = re.search(
        r"(\d[\d,]*) of (\d[\d,]*) recorded assignments made exactly as recorded \((\d[\d,]*) made\)",
        replayed,
    )
    assert made, replayed[-3000:]
    same, recorded, total = (int(g.replace(",", "")) for g in made.groups())
    assert same == recorded == total > 0, replayed[-3000:]
    clocks = re.search(
        r"clock results: ([\d,]+) of ([\d,]+) exactly as recorded, ([\d,]+) with the same outcome", replayed
    )
    assert clocks, replayed[-3000:]
    exact, results, outcomes = (int(g.replace(",", "")) for g in clocks.groups())
    assert results > 0, replayed[-3000:]
    assert outcomes >= results - 2, replayed[-3000:]
    assert exact >= 0.75 * results, replayed[-3000:]  # live SLA dates records by its partition: ms apart

    candidate = _pronto("backtest", *what_if.group(1).split(), "--html", str(tmp_path / "what-if.html"))
    assert "candidate" in candidate, candidate[-3000:]
    assert "Sensitivity" in candidate, candidate[-3000:]
    page = (tmp_path / "what-if.html").read_text()
    assert page.count("<svg") >= 4
    assert "<script" not in page

    staffing = re.search(r"staffing: pronto staffing (.+)", output)
    assert staffing, output[-3000:]
    advice = _pronto("staffing", *staffing.group(1).split())
    assert re.search(r"web_chat, \w{3} \d\d:00-\d\d:00 UTC: \d+ needed, [\d.]+ online", advice), advice[
        -3000:
    ]


def test_without_one_it_runs_until_ctrl_c_then_summarises_and_stops_everything() -> None:
    demo = _demo()
    assert demo.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        lines.append(line)
        if re.search(r"messages in [1-9]\d* of", line) and len(lines) > 30:
            break
    else:
        demo.kill()
        pytest.fail("no progress line with messages in:\n" + "".join(lines[-30:]))
    time.sleep(4)  # some assignments and answers
    demo.send_signal(signal.SIGINT)
    rest, _ = demo.communicate(timeout=120)
    output = "".join(lines) + rest
    assert demo.returncode == 0, output[-3000:]
    _check_summary(output)
