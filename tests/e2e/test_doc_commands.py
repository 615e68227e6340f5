"""Checks that every block of commands the docs fence as ```` ```bash demo ```` runs against the demo.

The blocks run as written, against the demo the README's first command starts: the curl examples of the
REST APIs, the command line against ingest, kcat on the demo's broker. Each block runs with
``bash -euo pipefail`` from the repository root; curl's ``-f`` makes an HTTP error a failure."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.demo import running_demo
from tests.unit.test_docs import bash_blocks

pytestmark = pytest.mark.integration
ROOT = Path(__file__).parents[2]
# Where the docs' commands expect the demo: its default ports.
DEFAULTS = {"Kafka (embedded)": "127.0.0.1:9092", "ingest gRPC": "127.0.0.1:50051"}
BLOCKS = bash_blocks("demo")


@pytest.fixture(scope="module")
def demo() -> Iterator[None]:
    """``pronto demo`` on its default ports, until the docs' blocks have run."""
    with running_demo("--duration", "120", until=r"messages in [1-9]") as (_, output):
        for name, address in DEFAULTS.items():
            assert re.search(rf"{re.escape(name)}\s+{re.escape(address)}\b", output), (
                f"the demo's {name} is not on {address} (a port taken?), where the docs' commands look:\n"
                + output[-3000:]
            )
        yield


def test_the_docs_have_blocks_to_run_against_the_demo() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(("where", "body"), BLOCKS, ids=[where for where, _ in BLOCKS])
def test_a_demo_block_runs_as_written(demo: None, where: str, body: str) -> None:
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", body],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ran.returncode == 0, (
        f"{where}:\n{body}\nstdout: {ran.stdout[-2000:]}\nstderr: {ran.stderr[-2000:]}"
    )
