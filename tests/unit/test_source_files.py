"""Every source file a person can hold in their head: under 400 lines (Python, JavaScript, CSS, HTML,
shell, protobuf), and every Python file opening with a docstring that says what it is for (generated
code, empty package markers and the one contract file kept whole aside)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 400
GENERATED = ("pronto/v1/",)
SOURCES = ("*.py", "*.js", "*.css", "*.html", "*.sh", "*.proto")
# Hand-written, over the limit, and why it stays whole.
KEPT_WHOLE = {
    # Every event Pronto writes, one protobuf file: split, its messages would move to other generated
    # modules (events_pb2 is named across the services and inside pickled snapshots), and buf's
    # breaking check (FILE rules) counts a message moved between files as a breaking change.
    "proto/pronto/v1/events.proto",
}


def source_files(patterns: tuple[str, ...] = ("*.py",)) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *patterns],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    return [ROOT / name for name in listed if not name.startswith(GENERATED) and (ROOT / name).is_file()]


def test_no_source_file_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in source_files(SOURCES)
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
        and str(path.relative_to(ROOT)) not in KEPT_WHOLE
    }
    assert long == {}


def test_every_source_file_says_what_it_is_for() -> None:
    silent = [
        str(path.relative_to(ROOT))
        for path in source_files()
        if path.read_text().strip() and not ast.get_docstring(ast.parse(path.read_text()))
    ]
    assert silent == []
