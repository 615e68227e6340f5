"""The docs cannot rot: links resolve, runnable blocks run, shown commands exist, the README stays short.

Every relative link in every Markdown file resolves (to a file, a directory, or a heading of the Markdown file
it points into), every block fenced as ```` ```bash runnable ```` is run and must succeed, every
``pronto <command>`` the docs show is one the CLI has, and the README stays a newcomer's first page (under 400
lines; the reference lives in the files it links to).

Runnable blocks are the commands that need nothing running (``--help``, ``--check``, promtool on
the rules): each runs with ``bash -euo pipefail`` from the repository root, ``.venv/bin`` first on
``PATH``. Every other block of commands says how it is checked (``CHECKED_BY``): ``demo`` blocks
run against a running demo (``tests/e2e/test_doc_commands.py``), ``ci`` ones are CI's own, and
``not-run:`` ones say why they cannot run here; a block that says nothing fails."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pronto_tools.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {"node_modules", ".venv", "tools", ".git"}
README_MAX_LINES = 400
BLOCK_TIMEOUT_S = 120

FENCE = re.compile(r"^(```+|~~~+)(.*)$")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
PRONTO_COMMAND = re.compile(r"(?:^|[\s/;&|(])pronto((?:\s+[a-z][a-z0-9_-]*)+)")


def markdown_files() -> list[Path]:
    """Every Markdown file git knows of or would add (tracked, or new and not ignored)."""
    if shutil.which("git") and (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.md"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        paths = [ROOT / name for name in listed]
    else:
        paths = list(ROOT.rglob("*.md"))
    return sorted(
        path
        for path in paths
        if path.is_file() and not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
    )


@dataclass(frozen=True)
class Line:
    """A line of prose (outside fenced blocks), with its 1-based number."""

    number: int
    text: str


@dataclass(frozen=True)
class Block:
    """A fenced block: its info string (``bash runnable``), first line number and body."""

    info: str
    number: int
    body: str


def parse(path: Path) -> tuple[list[Line], list[Block]]:
    """Split a Markdown file into prose lines and fenced blocks."""
    prose: list[Line] = []
    blocks: list[Block] = []
    fence: str | None = None
    info = ""
    start = 0
    body: list[str] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = FENCE.match(text.strip())
        if fence is None and match:
            fence, info, start, body = match.group(1), match.group(2).strip(), number, []
        elif fence is not None and text.strip().startswith(fence) and not text.strip()[len(fence) :].strip():
            blocks.append(Block(info, start, "\n".join(body) + "\n"))
            fence = None
        elif fence is not None:
            body.append(text)
        else:
            prose.append(Line(number, text))
    return prose, blocks


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped but hyphens, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text, not its target
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings, numbered as GitHub numbers repeated ones."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in parse(path)[0]:
        match = HEADING.match(line.text)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with each relative link of ``path`` (empty when every one resolves)."""
    problems: list[str] = []
    where = path.relative_to(root)
    for line in parse(path)[0]:
        for match in LINK.finditer(INLINE_CODE.sub("", line.text)):
            target = match.group(1)
            if not target or EXTERNAL.match(target):
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            if not resolved.exists():
                problems.append(f"{where}:{line.number}: {target}: no such file or directory")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{where}:{line.number}: {target}: no heading with that anchor")
            elif root.resolve() not in resolved.parents and resolved != root.resolve():
                problems.append(f"{where}:{line.number}: {target}: outside the repository")
    return problems


def bash_blocks(kind: str) -> list[tuple[str, str]]:
    """(``file:line``, body) of every block fenced as ```` ```bash <kind> ````."""
    return [
        (f"{path.relative_to(ROOT)}:{block.number}", block.body)
        for path in markdown_files()
        for block in parse(path)[1]
        if block.info.split()[:2] == ["bash", kind]
    ]


def runnable_blocks() -> list[tuple[str, str]]:
    """Blocks that need nothing running: this module runs them."""
    return bash_blocks("runnable")


# How a block of shell commands in the docs is checked, written after ``bash`` on its fence:
# ``runnable`` (run here), ``demo`` (run against a running ``pronto demo`` by
# tests/e2e/test_doc_commands.py), ``ci`` (run by CI: .ci/run runs scripts/test.sh), or
# ``not-run: <why>`` (what cannot run on these machines, with the reason and, where there is one,
# the test that does the same).
CHECKED_BY = ("runnable", "demo", "ci", "not-run:")


def unaccounted_blocks(path: Path) -> list[str]:
    """The bash blocks of ``path`` that do not say how they are checked, or not-run without a why."""
    problems = []
    for block in parse(path)[1]:
        words = block.info.split()
        if not words or words[0] not in {"bash", "sh", "shell", "console"}:
            continue
        how = words[1] if len(words) > 1 else ""
        if how not in CHECKED_BY or (how == "not-run:" and len(words) < 4):
            problems.append(f"{path.relative_to(ROOT)}:{block.number}: ```{block.info}")
    return problems


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """A parser's subcommands by name (empty when it has none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def pronto_invocations() -> list[tuple[str, list[str]]]:
    """(``file:line``, words after ``pronto``) of every ``pronto`` command in the docs' bash blocks
    (comments left out) and inline code spans."""
    snippets: list[tuple[str, str]] = []
    for path in markdown_files():
        prose, blocks = parse(path)
        where = path.relative_to(ROOT)
        snippets += [
            (f"{where}:{block.number + offset + 1}", text.split(" #", 1)[0])
            for block in blocks
            if block.info.split()[:1] == ["bash"]
            for offset, text in enumerate(block.body.splitlines())
        ]
        snippets += [
            (f"{where}:{line.number}", code.group(0).strip("`"))
            for line in prose
            for code in INLINE_CODE.finditer(line.text)
        ]
    return [
        (place, match.group(1).split()) for place, text in snippets for match in PRONTO_COMMAND.finditer(text)
    ]


def test_markdown_files_are_found() -> None:
    names = {str(path.relative_to(ROOT)) for path in markdown_files()}
    assert {"README.md", "docs/architecture.md", "tests/README.md"} <= names


def test_every_relative_link_resolves() -> None:
    problems = [problem for path in markdown_files() for problem in broken_links(path)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_a_broken_link_is_caught(tmp_path: Path) -> None:
    """The check above can fail: a missing file and a missing anchor are reported; a good file, a
    good anchor (here or there), a directory, code and web addresses are not."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "other.md").write_text("# Other\n\n## Stream core: snapshots, retention\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Probe\n\n[gone](no-such-file.md) [bad anchor](other.md#no-such-heading)\n"
        "[fine](other.md#stream-core-snapshots-retention) [self](#probe) [dir](sub/)\n"
        "`[code](not-a-link.md)` [web](https://example.org/x) [mail](mailto:a@example.org)\n"
        "```\n[fenced](not-a-link-either.md)\n```\n",
        encoding="utf-8",
    )
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 2, problems
    assert problems[0] == "page.md:3: no-such-file.md: no such file or directory"
    assert problems[1] == "page.md:3: other.md#no-such-heading: no heading with that anchor"


def test_slugs_follow_github() -> None:
    assert slug("Stream core: snapshots, retention, restarts") == "stream-core-snapshots-retention-restarts"
    assert slug("Replies on the customer's own channel") == "replies-on-the-customers-own-channel"
    assert slug("The traffic simulator: `pronto simulate`") == "the-traffic-simulator-pronto-simulate"
    assert slug("Deploying: docker-compose and Kubernetes") == "deploying-docker-compose-and-kubernetes"


def test_the_readme_stays_short() -> None:
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines < README_MAX_LINES, f"README.md has {lines} lines; move reference text to the docs it links"


def test_every_command_block_says_how_it_is_checked() -> None:
    assert [problem for path in markdown_files() for problem in unaccounted_blocks(path)] == []


def test_a_block_that_says_nothing_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = tmp_path / "page.md"
    page.write_text("```bash\nls\n```\n\n```bash not-run:\nls\n```\n\n```bash demo\nls\n```\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)

    assert unaccounted_blocks(page) == ["page.md:1: ```bash", "page.md:5: ```bash not-run:"]


def test_there_are_runnable_blocks() -> None:
    assert len(runnable_blocks()) >= 5


@pytest.mark.parametrize(("where", "body"), runnable_blocks(), ids=[where for where, _ in runnable_blocks()])
def test_runnable_block_succeeds(where: str, body: str) -> None:
    env = dict(os.environ, PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", body],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, (
        f"{where} exited {result.returncode}\n--- block\n{body}--- stdout\n{result.stdout[-2000:]}"
        f"--- stderr\n{result.stderr[-2000:]}"
    )


def test_every_pronto_command_in_the_docs_exists() -> None:
    invocations = pronto_invocations()
    assert invocations, "no `pronto <command>` found in the docs"
    problems: list[str] = []
    for where, words in invocations:
        parser = build_parser()
        for word in words:
            choices = subcommands(parser)
            if not choices:
                break
            if word not in choices:
                problems.append(f"{where}: pronto {' '.join(words)}: no command {word!r}")
                break
            parser = choices[word]
    assert not problems, "\n".join(problems)
