"""``pronto simulate`` on the command line: clear errors instead of tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pronto_tools.broker.embedded import free_port

pytestmark = pytest.mark.integration


def _simulate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pronto_tools.cli", "simulate", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_unreachable_ingest_is_named_in_one_line() -> None:
    closed = free_port()
    done = _simulate(
        "--duration",
        "2",
        "--target",
        f"127.0.0.1:{closed}",
        "--http",
        f"http://127.0.0.1:{closed}",
        "--inbox-port",
        str(free_port()),
    )
    assert done.returncode == 1
    assert f"error: ingest at 127.0.0.1:{closed} answered UNAVAILABLE" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channels", "fax=1"], "unknown channel 'fax'"),
        (["--languages", "fr"], "choose among de, en, es, it, pl"),
        (["--grpc-share", "2"], "must be between 0 and 1"),
        (["--handling", "5,1"], "expected 0 <= MIN <= MAX"),
        (["--duration", "0"], "must be greater than 0"),
        (["--inbox-port", "99999"], "a port is 1 to 65535"),
    ],
)
def test_wrong_options_are_refused_with_the_reason(args: list[str], message: str) -> None:
    done = _simulate(*args)
    assert done.returncode == 2
    assert message in done.stderr
