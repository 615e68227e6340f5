"""Schemathesis over every HTTP API of every service, from the OpenAPI schema each one serves.

Cases are generated in-process (schemathesis' Python API under hypothesis) and sent
to the real servers over loopback, with the shop's credentials so that they get past
authentication: valid and invalid bodies, parameters and headers. No answer may be a
5xx, and ingest must have written exactly the events it acknowledged (202 with an
event id): nothing refused is on Kafka, nothing acknowledged is missing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from tests.integration.fuzz.conftest import QUERY_TOKEN, SLA_TOKEN, TENANT, TOKEN, Fuzzed

pytestmark = pytest.mark.integration
# Cases per operation and generation mode: about 650 requests over the five ports, ~30 s here.
EXAMPLES = 25


@dataclass
class Outcomes:
    answers: int = 0
    server_errors: list[str] = field(default_factory=list)
    # Event ids ingest acknowledged as written (202, not a duplicate).
    accepted: set[str] = field(default_factory=set)


def _fuzz(base_url: str, headers: dict[str, str], outcomes: Outcomes, writes_events: bool) -> None:
    """Every operation of the port's schema; ``writes_events``: its 202s are events on ingest's topics
    (SLA's 202 for a policy is a record on its own input topic, not counted here)."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # a schema our own server serves is valid
        _fuzz_operation(result.ok(), base_url, headers, outcomes, writes_events)


def _fuzz_operation(
    operation: Any, base_url: str, headers: dict[str, str], outcomes: Outcomes, writes_events: bool
) -> None:
    # Webhooks get the shop's own tenant in their path, so that cases reach the signature checks.
    path_parameters = {"tenant": TENANT} if "{tenant}" in operation.path else None
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            strategies.append(operation.as_strategy(mode, path_parameters=path_parameters))
        except Exception:  # some operations have nothing to negate
            continue

    @settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def send(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=15)
        outcomes.answers += 1
        if response.status_code >= 500:
            outcomes.server_errors.append(
                f"{response.status_code} {operation.label}: {case.as_curl_command()}\n{response.text[:300]}"
            )
        elif response.status_code == 202 and writes_events:
            _accepted(response.text, outcomes.accepted)

    send()


def _accepted(text: str, accepted: set[str]) -> None:
    try:
        answer = json.loads(text)
    except ValueError:
        return
    if isinstance(answer, dict) and isinstance(answer.get("event_id"), str) and not answer.get("duplicate"):
        accepted.add(answer["event_id"])


def _ports(fuzzed: Fuzzed) -> list[tuple[str, str, dict[str, str]]]:
    system = fuzzed.system
    assert system.query is not None
    bearer: Callable[[str], dict[str, str]] = lambda token: {"authorization": f"Bearer {token}"}  # noqa: E731
    return [
        ("ingest", system.ingest.http_url, bearer(TOKEN)),
        ("routing", system.routing.http_url, {}),
        ("sla", system.sla.http_url, bearer(SLA_TOKEN)),
        ("notify", system.notify.http_url, {}),
        ("query", system.query.http_url, bearer(QUERY_TOKEN)),
    ]


@pytest.mark.timeout(240)
def test_no_http_answer_is_a_server_error_and_ingest_writes_what_it_acknowledged(fuzzed: Fuzzed) -> None:
    before = asyncio.run(fuzzed.written_ids())
    outcomes = Outcomes()
    for name, url, headers in _ports(fuzzed):
        _fuzz(url, headers, outcomes, writes_events=name == "ingest")
        print(f"{name}: {outcomes.answers} answers so far, {len(outcomes.accepted)} events acknowledged")
    assert outcomes.server_errors == [], "\n\n".join(outcomes.server_errors[:10])

    new = asyncio.run(fuzzed.new_ids(before, outcomes.accepted))
    assert set(new) == outcomes.accepted, {
        "acknowledged, not written": sorted(outcomes.accepted - set(new))[:10],
        "written, not acknowledged": sorted(set(new) - outcomes.accepted)[:10],
    }
    assert len(new) == len(set(new)), "an acknowledged event was written twice"
    for service in fuzzed.system.services:
        service.wait_ready(timeout=10)  # none was brought down by what the fuzzing got accepted
