"""Starting Pronto services as real processes and waiting, with a deadline, until they are ready."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from pronto.broker.embedded import free_port


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not true within {timeout:.0f} s")


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


class ServiceProcess:
    """One service started with its console script's module, its output in a log file."""

    def __init__(self, module: str, env: dict[str, str], log_path: Path) -> None:
        self.module = module
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module], env={**os.environ, **self.env}, stdout=log, stderr=log
            )
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 10) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class IngestProcess(ServiceProcess):
    def __init__(self, bootstrap_servers: str, tokens_json: str, log_path: Path, **extra_env: str) -> None:
        self.grpc_port = free_port()
        self.http_port = free_port()
        env = {
            "PRONTO_BOOTSTRAP_SERVERS": bootstrap_servers,
            "PRONTO_INGEST_GRPC_PORT": str(self.grpc_port),
            "PRONTO_INGEST_HTTP_PORT": str(self.http_port),
            "PRONTO_INGEST_TOKENS": tokens_json,
            **extra_env,
        }
        super().__init__("services.ingest.main", env, log_path)

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def wait_ready(self, timeout: float = 30) -> IngestProcess:
        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"ingest exited with {self.process.returncode}:\n{self.log()}")
            return http_status(f"{self.http_url}/readyz") == 200

        wait_until(ready, timeout, "ingest /readyz")
        return self
