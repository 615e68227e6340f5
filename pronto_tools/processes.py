"""Running Pronto's services as child processes: started, probed for readiness, stopped in order.

The demo, the benchmarks and the tests all start services this way, so what
they exercise is the real console entry point, not an in-process shortcut.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pronto.healthcheck import http_status
from pronto_tools.errors import ServiceStartError

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies, however it dies (Linux).

    Children run in their own session so that a Ctrl-C reaches only the
    parent, which stops them in order; this covers the parent being killed.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ChildService:
    """A service in its own session, so a Ctrl-C reaches only the parent, which stops it in order."""

    def __init__(self, name: str, module: str, env: dict[str, str], log_path: Path, ready_url: str) -> None:
        self.name = name
        self.module = module
        self.env = env
        self.log_path = log_path
        self.ready_url = ready_url
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ChildService:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        return self

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> ChildService:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None, "start() first"
            if self.process.poll() is not None:
                raise ServiceStartError(
                    f"{self.name} exited with code {self.process.returncode}; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            if http_status(self.ready_url) == 200:
                return self
            time.sleep(0.05)
        self.stop()
        raise ServiceStartError(f"{self.name} was not ready at {self.ready_url} within {timeout:.0f} s")

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``; returns the exit code."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        return process.returncode

    def kill(self) -> None:
        """Stop abruptly, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
