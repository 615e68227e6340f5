"""The demo's ten-second web-chat target is met while the team keeps up, breached where the team is late.

The demo's sizing tells a true story (issue #26, defect 8): the target is breached where the simulation makes
the team late, visibly so.

It runs the demo's own services, shop and SLA policy, traffic and team (``demo_system`` and
``demo_simulation`` of ``pronto_tools.demo.run``, the demo's default rate and seed) for 40 s, with the
simulator's own coffee break and end of shift, and one more cause scripted here: the team's only
two Polish speakers, Anna and Piotr, leave together for 20 s, so the Polish web chats written
meanwhile cannot be answered within ten seconds (routing widens to other languages only after
20 s). Then, from the query API's read models (what the console shows) and the SLA service's
metrics:

- every web-chat first response that breached has its cause in its conversation's timeline:
  taken back from an operator who left (reassigned), or a Polish chat that waited in the queue while
  no Polish speaker was there; none breached anywhere else (the clocks the end of the run cut
  short aside);
- the Polish chats written while nobody could answer them all breached, and the others met;
- the SLA service's web-chat breaches are exactly the read models' ones.

With the target at its old five seconds, about a fifth of the chats of a team that keeps up come in
late for no cause, and the first point fails.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from pronto.v1 import events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.broker.provision import provision
from pronto_tools.demo.figures import first_responses
from pronto_tools.demo.run import demo_simulation, demo_system
from pronto_tools.demo.settings import DEMO_QUERY_TOKEN, DEMO_SLA_POLICY, DemoOptions
from pronto_tools.simulate.run import Simulation
from pronto_tools.system import System

pytestmark = pytest.mark.integration

DURATION_S = 40.0
# Seconds into the run: Anna and Piotr away together (the simulator's own schedule sends Giulia on a
# coffee break at 40% of the run, back at 70%, and ends Emma's shift at 60%).
AWAY_AT, BACK_AT = 5.0, 25.0
POLISH_SPEAKERS = ("anna", "piotr")
LEFT = {"giulia", "emma", *POLISH_SPEAKERS}
TARGET_S = float(DEMO_SLA_POLICY["response"]["web_chat"]["minutes"]) * 60  # type: ignore[index]
# After the Polish speakers are back, the queue they left takes them a while: Polish chats written
# then still wait behind it (a cause too).
BACKLOG_S = 10.0
# Clocks that started this close to the end: the run stopped the team before they could be answered.
TAIL_S = 9.0


@dataclass
class Clock:
    conversation_id: str
    language: str
    started: float  # epoch seconds
    deadline: float
    outcome: str = ""  # met, breached, or "" while it runs
    # Why it waited, as the timeline shows: ("reassigned", from whom) or ("queued", "").
    waits: list[tuple[str, str]] = field(default_factory=list)


def _epoch(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


def _get(url: str) -> Any:
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {DEMO_QUERY_TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _web_chat_clocks(query_url: str) -> list[Clock]:
    """Every first-response clock of every web chat, from the read models' timelines."""
    ids: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = _get(f"{query_url}/v1/conversations?channel=web_chat&limit=100&offset={offset}")
        ids += [c["conversation_id"] for c in page["items"]]
        offset = page["next_offset"]
    clocks: list[Clock] = []
    for conversation_id in ids:
        doc = _get(f"{query_url}/v1/conversations/{conversation_id}")
        mine: list[Clock] = []
        waits: list[tuple[float, str, str]] = []
        for entry in doc["timeline"]:
            kind, current = entry["type"], mine[-1] if mine else None
            if kind in ("sla_started", "sla_retargeted") and entry["metric"] == "first_response":
                deadline = _epoch(entry["deadline"])
                if kind == "sla_started" or current is None:
                    mine.append(Clock(conversation_id, doc["language"], deadline - TARGET_S, deadline))
                mine[-1].deadline = deadline
            elif kind in ("sla_met", "sla_breached", "sla_missed") and entry["metric"] == "first_response":
                if current is not None:
                    current.outcome = current.outcome or ("met" if kind == "sla_met" else "breached")
            elif kind == "reassigned":
                waits.append((_epoch(entry["at"]), kind, entry["from_operator_id"]))
            elif kind == "queued":  # routing may decide before SLA's clock is read: matched by time
                waits.append((_epoch(entry["at"]), kind, ""))
        for clock in mine:
            clock.waits = [(k, who) for at, k, who in waits if clock.started - 1 <= at <= clock.deadline]
        clocks += mine
    return clocks


def _sla_breaches(sla_url: str) -> tuple[int, int]:
    with urllib.request.urlopen(f"{sla_url}/metrics", timeout=10) as response:
        outcomes = first_responses(response.read().decode()).get("web_chat")
    assert outcomes is not None, "the SLA service counted no web-chat first response"
    return outcomes["met"], outcomes["breached"]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[System, Simulation]]:
    options = DemoOptions(duration=DURATION_S)  # the demo's rate, seed and team
    with EmbeddedBroker(log_path=tmp_path / "broker.log") as broker:
        provision(broker.bootstrap_servers)
        # The demo's ports where free (as the demo picks them), else others.
        system, shop = demo_system(broker.bootstrap_servers, tmp_path, options)
        system.start()
        try:
            yield system, demo_simulation(system, shop, options)
        finally:
            system.stop()


async def _polish_break(simulation: Simulation, started: float) -> tuple[float, float]:
    """Anna and Piotr leave at AWAY_AT and come back at BACK_AT; when (epoch) each happened."""
    team = simulation.team
    assert team is not None
    await asyncio.sleep(max(0.0, started + AWAY_AT - time.monotonic()))
    away = time.time()
    for operator_id in POLISH_SPEAKERS:
        await team.status(operator_id, events_pb2.OPERATOR_STATUS_AWAY, "coffee break together")
    await asyncio.sleep(max(0.0, started + BACK_AT - time.monotonic()))
    for operator_id in POLISH_SPEAKERS:
        await team.status(operator_id, events_pb2.OPERATOR_STATUS_ONLINE, "back from the break")
    return away, time.time()


@pytest.mark.timeout(300)
async def test_chat_breaches_come_where_the_simulation_makes_the_team_late(
    demo: tuple[System, Simulation],
) -> None:
    system, simulation = demo
    assert system.query is not None
    async with simulation:
        started, t0 = time.monotonic(), time.time()
        traffic = asyncio.create_task(simulation.run())
        away, back = await _polish_break(simulation, started)
        stats = await traffic
    ended = time.time()  # the team stopped with the simulation: what it held is never answered
    assert stats.accepted > 0.9 * stats.sent, stats
    assert any("coffee break" in h for h in simulation.happenings), simulation.happenings

    # Every clock decided (the unanswered ones breach at their deadline), bounded.
    deadline = time.monotonic() + 60
    while True:
        clocks = await asyncio.to_thread(_web_chat_clocks, system.query.http_url)
        metrics = await asyncio.to_thread(_sla_breaches, system.sla.http_url)
        read = (sum(c.outcome == "met" for c in clocks), sum(c.outcome == "breached" for c in clocks))
        if (all(c.outcome for c in clocks) and metrics == read) or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    undecided = [c for c in clocks if not c.outcome]
    assert not undecided, f"{len(undecided)} clocks never decided: {undecided[:5]}"
    # Visible as such: what the SLA service counts is what the read models (the console) show.
    assert metrics == read, {"SLA metrics (met, breached)": metrics, "read models": read}

    judged = [c for c in clocks if c.started < ended - TAIL_S]

    def polish_unanswerable(c: Clock) -> bool:
        return c.language == "pl" and away - 1 <= c.started <= back + BACKLOG_S

    def taken_from_someone_who_left(c: Clock) -> bool:
        return any(kind == "reassigned" and who in LEFT for kind, who in c.waits)

    uncaused = [
        c
        for c in judged
        if c.outcome == "breached" and not (polish_unanswerable(c) or taken_from_someone_who_left(c))
    ]
    breached = [c for c in judged if c.outcome == "breached"]
    summary = (
        f"{len(judged)} web-chat first responses judged (target {TARGET_S:g} s), {len(breached)} breached "
        f"({sum(map(polish_unanswerable, breached))} Polish while Anna and Piotr were away, "
        f"{sum(map(taken_from_someone_who_left, breached))} taken from someone who left); "
        f"Polish speakers away {away - t0:.1f}..{back - t0:.1f} s into the run; "
        f"happened: {simulation.happenings}"
    )
    print(summary)
    # Only where the simulation caused them, and each shows its cause in the timeline.
    assert not uncaused, (
        f"{len(uncaused)} breaches with no cause in the simulation: {uncaused[:5]}; {summary}"
    )
    for clock in breached:
        assert clock.waits, f"a breach whose timeline shows no wait: {clock}"

    # Where it caused them: the Polish chats written while nobody could answer them in time.
    stranded = [c for c in judged if c.language == "pl" and away + 1 <= c.started <= back - TARGET_S - 1]
    assert len(stranded) >= 2, f"too few Polish chats while Anna and Piotr were away; {summary}"
    assert all(c.outcome == "breached" for c in stranded), [c for c in stranded if c.outcome != "breached"]
    assert all(("queued", "") in c.waits for c in stranded), stranded

    # Met while the team keeps up: everything the break and the shift's end did not touch.
    untouched = [c for c in judged if not (polish_unanswerable(c) or taken_from_someone_who_left(c))]
    assert len(untouched) >= 30, summary
    assert all(c.outcome == "met" for c in untouched)  # (implied by no uncaused breach; said plainly)
