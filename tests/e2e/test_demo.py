"""The README's first command, `pronto demo`, as a user runs it: with a duration, and until Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

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


def test_with_a_duration_it_ends_by_itself_with_a_summary() -> None:
    demo = _demo("--duration", "12")
    output, _ = demo.communicate(timeout=180)
    assert demo.returncode == 0, output[-3000:]
    _check_summary(output)


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
