"""Checks the backtest's replay on a made-up shop: the live configuration gives back the record.

And changes with a known effect show it in the report's figures. The made-up shop's record is made by
the same replay (operators answering a fixed time after each assignment), so the first test checks
that actions kept in place and actions moved with their conversation agree, not live routing against
the replay: tests/e2e/test_demo.py does that on the demo's real history."""

from __future__ import annotations

from pathlib import Path

import pytest

from pronto_tools.backtest import candidate
from pronto_tools.backtest.candidate import AddedOperator, Routing
from pronto_tools.backtest.command import Agreement
from pronto_tools.backtest.figures import Figures, Observer
from pronto_tools.backtest.replay import Replay
from pronto_tools.backtest.synthetic import History, live
from services.sla.domain.policy import Policy as SlaPolicy
from tests.unit.backtest.scenarios import ONE_POLISH_SPEAKER

SCENARIO = ONE_POLISH_SPEAKER


def _routing(tmp_path: Path, text: str = "") -> Routing:
    path = tmp_path / "routing.yaml"
    path.write_text(text)
    return candidate.routing(candidate.read(path))


def _sla(tmp_path: Path, minutes: float) -> SlaPolicy:
    path = tmp_path / "sla.yaml"
    path.write_text(f"response: {{web_chat: {{minutes: {minutes}, business: false}}}}\n")
    return candidate.sla(candidate.read(path))


def _recorded_observer(history: History) -> Observer:
    observer = Observer()
    for event in [*history.routing, *history.decisions, *history.clocks]:
        observer.observe(event)
    return observer


def _replay(history: History, routing: Routing, sla: SlaPolicy, factor: float = 1.0) -> Observer:
    recorded, stream = history.recorded()
    observer = Observer()
    Replay(SCENARIO.tenant, routing, sla, recorded, observer.observe, factor).run(stream)
    return observer


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[History, Routing, SlaPolicy]:
    tmp = tmp_path_factory.mktemp("live")
    routing, sla = _routing(tmp, "widen_after_s: [120, 300, 600]\n"), _sla(tmp, 10)
    return live(SCENARIO, routing, sla), routing, sla


def test_the_live_configuration_replayed_gives_back_what_was_recorded(
    recorded: tuple[History, Routing, SlaPolicy],
) -> None:
    history, routing, sla = recorded
    live_observer = _recorded_observer(history)
    agreement = Agreement.of(live_observer, _replay(history, routing, sla))
    assert agreement.assignments > 150
    assert agreement.same_assignments == agreement.assignments
    assert agreement.clock_results > 300
    assert agreement.same_clock_results == agreement.clock_results
    assert agreement.largest_difference_s == 0


def _figures(observer: Observer) -> Figures:
    return observer.figures()


def test_one_more_polish_speaker_makes_polish_customers_wait_less(
    recorded: tuple[History, Routing, SlaPolicy], tmp_path: Path
) -> None:
    history, routing, sla = recorded
    before = _recorded_observer(history).figures()
    hired = Routing(
        routing.policy, routing.reads_deadlines, (AddedOperator(id="ola", like="anna", languages={"pl": 5}),)
    )
    after = _replay(history, hired, sla).figures()
    polish_before, polish_after = before.language_waits["pl"], after.language_waits["pl"]
    assert polish_before.p90 is not None
    assert polish_before.p90 > 600  # one Polish speaker is not enough
    assert polish_after.p90 is not None
    assert polish_after.p90 < polish_before.p90 / 2
    assert polish_after.p50 is not None
    assert polish_before.p50 is not None
    assert polish_after.p50 <= polish_before.p50
    assert after.operators["ola"].assigned > 0
    assert after.language_compliance("pl").met > before.language_compliance("pl").met


def test_a_shorter_chat_target_breaches_more(
    recorded: tuple[History, Routing, SlaPolicy], tmp_path: Path
) -> None:
    history, routing, _ = recorded
    before = _recorded_observer(history).figures()
    after = _replay(history, routing, _sla(tmp_path, 3)).figures()
    assert after.breaches.get("first_response", 0) > before.breaches.get("first_response", 0)
    assert after.overall_compliance().met < before.overall_compliance().met
    assert after.overall_compliance().measured == before.overall_compliance().measured
    # Routing did not change: the same conversations went to the same operators.
    assert after.operators == before.operators


def test_slower_colleagues_mean_later_first_replies(recorded: tuple[History, Routing, SlaPolicy]) -> None:
    history, routing, sla = recorded
    hired = Routing(routing.policy, routing.reads_deadlines, (AddedOperator(id="ola", like="anna"),))
    replies = [
        _replay(history, hired, sla, factor).figures().first_replies[""].p90 for factor in (0.5, 1.0, 2.0)
    ]
    assert None not in replies
    assert replies[0] < replies[1] < replies[2]  # type: ignore[operator]


def test_a_shorter_time_to_reply_takes_unanswered_conversations_back(
    recorded: tuple[History, Routing, SlaPolicy], tmp_path: Path
) -> None:
    """Operators reply 120 s after assignment; with 30 s to do it, routing gives each one on."""
    history, _, sla = recorded
    before = _recorded_observer(history).figures()
    impatient = _routing(tmp_path, "widen_after_s: [120, 300, 600]\nreply_within_s: {web_chat: 30}\n")
    after = _replay(history, impatient, sla).figures()
    assigned = sum(load.assigned for load in before.operators.values())
    assert before.reassignments < assigned / 20
    assert after.reassignments > assigned / 2
