"""Checks ``pronto backtest`` on an archive of a made-up shop: the report, the page, and clear refusals."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pronto import topics
from pronto_tools.backtest import candidate
from pronto_tools.backtest.synthetic import Member, Scenario, live, write_archive
from pronto_tools.cli import main

SCENARIO = Scenario(
    start=datetime(2026, 11, 2, 8, tzinfo=UTC),
    hours=2,
    messages_per_hour=30,
    team=(Member("anna", {"pl": 5}, capacity=2), Member("giulia", {"it": 5}, capacity=2)),
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("history")
    (directory / "live-routing.yaml").write_text("widen_after_s: [60, 120, 180]\n")
    history = live(
        SCENARIO, candidate.routing(candidate.read(directory / "live-routing.yaml")), candidate.sla({})
    )
    write_archive(directory, history, SCENARIO.tenant)
    return directory


def _run(*args: str) -> int:
    with pytest.raises(SystemExit) as ended:
        main(["backtest", *args])
    return int(ended.value.code or 0)


def test_the_live_configuration_replayed_is_reported_as_recorded(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("--history", str(archive), "--html", str(tmp_path / "r.html")) == 0
    out = capsys.readouterr().out
    assert "live: routing from " in out
    assert "SLA from SLA's defaults" in out
    made = next(line for line in out.splitlines() if "recorded assignments made exactly" in line)
    counts = [int(w.replace(",", "")) for w in made.replace("(", " ").split() if w.replace(",", "").isdigit()]
    assert counts[0] == counts[1] == counts[2] > 0
    assert "First responses within target" in out
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 3  # no sensitivity plot for an unchanged configuration


def test_a_candidate_gets_a_sensitivity_table_and_plot(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    routing = tmp_path / "new.yaml"
    routing.write_text("operators:\n  - {id: ola, like: anna}\n")
    html = tmp_path / "c.html"
    assert _run("--history", str(archive), "--routing", str(routing), "--html", str(html)) == 0
    out = capsys.readouterr().out
    assert "x0.8" in out
    assert "x1.25" in out
    assert "ola" in out
    assert html.read_text().count("<svg") == 4


@pytest.mark.parametrize(
    ("routing_text", "said"),
    [
        ("widen_after_s: [300, 60, 600]\n", "widen_after_s: each step must come after the one before"),
        ("tick_s: 5\n", "unknown routing settings ['tick_s']; known: widen_after_s"),
        ("operators:\n  - {id: ola}\n", "operators: like: Field required"),
        ("operators:\n  - {id: ola, like: nobody}\n", "ola is like nobody, who is not in the history"),
        ("operators:\n  - {id: anna, like: giulia}\n", "anna is in the history already"),
        ("- just a list\n", "expected a mapping"),
        ("widen_after_s: [1, 2\n", "not YAML"),
    ],
)
def test_a_bad_routing_file_is_refused_by_name(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], routing_text: str, said: str
) -> None:
    routing = tmp_path / "bad.yaml"
    routing.write_text(routing_text)
    assert _run("--history", str(archive), "--routing", str(routing), "--html", str(tmp_path / "x.html")) == 1
    assert said in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()


def test_a_history_without_routing_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "partial"
    history = live(SCENARIO, candidate.routing({}), candidate.sla({}))
    manifest = write_archive(directory, history, SCENARIO.tenant)
    manifest.topics.pop(topics.ROUTING.name)
    (directory / "manifest.json").write_text(manifest.dumps())
    assert _run("--history", str(directory)) == 1
    assert "lacks support.routing.v1" in capsys.readouterr().err


def test_a_changed_archive_is_refused(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for path in archive.iterdir():
        (damaged / path.name).write_bytes(path.read_bytes())
    with gzip.open(damaged / f"{topics.SLA.name}.jsonl.gz", "ab") as file:
        file.write(b"{}\n")
    assert _run("--history", str(damaged)) == 1
    assert "does not match its checksum" in capsys.readouterr().err


def test_a_page_that_cannot_be_written_is_refused_before_any_work(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run("--history", str(archive), "--html", str(tmp_path / "missing" / "r.html")) == 1
    captured = capsys.readouterr()
    assert "no directory" in captured.err
    assert "reading" not in captured.out


def test_a_candidate_changes_only_what_it_gives(archive: Path) -> None:
    live = {"widen_after_s": [60, 120, 180], "default_shop": {"fairness": "round_robin"}}
    laid = candidate.over(live, {"widen_after_s": [10, 20, 30]})
    assert laid == {"widen_after_s": [10, 20, 30], "default_shop": {"fairness": "round_robin"}}
    policy = candidate.routing(laid).policy
    assert policy.rules.fairness.value == "round_robin"
