"""Every source file a person can hold in their head: under 400 lines, opening with what it is for.

The line limit covers Python, JavaScript, CSS, HTML, shell and protobuf, and every Python file opens with a
docstring that says what it is for (generated code, empty package markers and the one contract file kept
whole aside)."""

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


def summary_problem(source: str) -> str | None:
    """What is wrong with a module's docstring as a one-line summary of what it is for, or None."""
    if not source.strip():
        return None
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    if not docstring:
        return "no docstring"
    lines = docstring.split("\n")
    if len(lines) > 1 and lines[1].strip():
        return "its summary runs past the first line"
    return None


def test_every_source_file_says_what_it_is_for_in_one_line() -> None:
    found = {str(path.relative_to(ROOT)): summary_problem(path.read_text()) for path in source_files()}

    assert {path: problem for path, problem in found.items() if problem} == {}


def test_a_summary_over_two_lines_is_caught() -> None:
    assert summary_problem('"""What it is for,\nand more."""\n') == "its summary runs past the first line"
    assert summary_problem('"""What it is for.\n\nWhy, at length."""\n') is None
    assert summary_problem("x = 1\n") == "no docstring"
