"""Schemathesis over one port's OpenAPI schema for the HTTP fuzz: every operation's cases, sent and counted.

How many cases each operation gets, and how each is sent: as generated, signed as its platform signs
it (a channel webhook, see http_webhooks.py), or with a credential that opens the event stream it
asks for; every answer is counted in the ``Outcomes``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from pronto_tools.simulate import channels
from services.notify.delivery.platforms.webchat import token
from tests.integration.fuzz.conftest import TENANT, WEBCHAT_SECRET
from tests.integration.fuzz.http_outcomes import Outcomes

# _send_signed keeps its name: it is in the source of the fuzz's test function, which seeds its
# derandomized examples (another name, other examples).
from tests.integration.fuzz.http_webhooks import (
    REAL_CHANNELS,
    WEBHOOK_MEDIA_TYPES,
    WEBHOOKS,
    _send_signed,
    mutated_requests,
    real_requests,
    with_webhook_bodies,
)

# Cases per operation and generation mode: about 650 requests over the five ports' schemas, ~20 s here.
EXAMPLES = 25
# Fewer for the console's operations (fuzzed as two callers) and each port's /metrics, to keep the
# fuzz test within a minute on two cores: about 300 requests more.
CONSOLE = "/console/api"
CONSOLE_EXAMPLES = 8
METRICS_EXAMPLES = 6
# GET /metrics with whatever query string and headers a scraper, or anyone, might send.
METRICS_SCHEMA: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Prometheus exposition of every Pronto service", "version": "1"},
    "paths": {
        "/metrics": {
            "get": {
                "parameters": [
                    {
                        "name": "name[]",
                        "in": "query",
                        "schema": {"type": "array", "items": {"type": "string"}},
                    },
                    {"name": "format", "in": "query", "schema": {"type": "string"}},
                    {"name": "accept", "in": "header", "schema": {"type": "string"}},
                    {"name": "accept-encoding", "in": "header", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "the metrics"}},
            }
        }
    },
}
# Cases per webhook operation and strategy (generated positive and negative; real payloads as they
# are and mutated).
WEBHOOK_EXAMPLES = 10


def fuzz_operations(
    base_url: str,
    headers: dict[str, str],
    outcomes: Outcomes,
    writes_events: bool,
    under: str = "/",
    schema: dict[str, Any] | None = None,
    conversation_id: str | None = None,
) -> list[str]:
    """Every operation of the port's schema (or of ``schema``) whose path starts with ``under``;
    ``writes_events``: its 202s are events on ingest's topics (SLA's 202 for a policy is a record
    on its own input topic, not counted here); ``conversation_id``: the one every case names.
    Resolving and the operator's status come last: either would take the conversation away.
    Returns the operations fuzzed."""
    if schema is None:
        schema = requests.get(f"{base_url}/openapi.json", timeout=10).json()
        with_webhook_bodies(schema)
    loaded = schemathesis.openapi.from_dict(schema)
    operations = []
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), result  # a schema our own server serves is valid
        if result.ok().path.startswith(under):
            operations.append(result.ok())
    # Resolving, then the status (going away or offline takes the conversation back: resolving
    # after it could never be accepted, as CI on 15e8774 found).
    operations.sort(key=lambda o: (o.path.endswith("/me/status"), o.path.endswith("/resolve")))
    fuzzed = []
    for operation in operations:
        examples = (
            METRICS_EXAMPLES
            if operation.path == "/metrics"
            else WEBHOOK_EXAMPLES
            if _webhook_route(operation) is not None
            else CONSOLE_EXAMPLES
            if operation.path.startswith(CONSOLE)
            else EXAMPLES
        )
        _fuzz_operation(operation, base_url, headers, outcomes, writes_events, examples, conversation_id)
        fuzzed.append(operation.label)
    return fuzzed


def _fuzz_operation(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    outcomes: Outcomes,
    writes_events: bool,
    examples: int,
    conversation_id: str | None = None,
) -> None:
    # Webhooks get the shop's own tenant in their path, so that cases reach the signature checks.
    path_parameters = {"tenant": TENANT} if "{tenant}" in operation.path else None
    # Not for a transfer: made, it would take the conversation from its operator, and the other
    # actions could no longer be accepted on it (they must be, once each; see the test).
    transfer = operation.path.endswith("/transfer")
    if conversation_id is not None and not transfer and "{conversation_id}" in operation.path:
        path_parameters = {"conversation_id": conversation_id}
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            strategies.append(operation.as_strategy(mode, path_parameters=path_parameters))
        except Exception:  # some operations have nothing to negate
            continue

    route = _webhook_route(operation)
    if route in REAL_CHANNELS:
        real = real_requests(REAL_CHANNELS[route], base_url)
        strategies.append(real)
        if WEBHOOK_MEDIA_TYPES[route] == "application/json":
            strategies.append(mutated_requests(real, route, base_url))
    stream = STREAMS.get(operation.path)
    sent = [0]

    @settings(
        max_examples=examples * len(strategies),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def send(case: Any) -> None:
        sent[0] += 1
        if stream is not None and sent[0] % 2:  # every other case with a credential that opens it
            _open_stream(case, stream, base_url, headers, outcomes)
            return
        if route is not None and (isinstance(case, channels.WebhookRequest) or sent[0] % 2):
            _send_signed(case, route, base_url, headers, outcomes)
            return
        response = case.call(base_url=base_url, headers=headers, timeout=15)
        outcomes.answers += 1
        if response.status_code >= 500:
            outcomes.server_errors.append(
                f"{response.status_code} {operation.label}: {case.as_curl_command()}\n{response.text[:300]}"
            )
        elif (
            # 409: a transfer routing refused; its request was written, and the answer names it.
            response.status_code in (202, 409)
            and writes_events
            and _accepted(response.text, outcomes.accepted)
            and operation.path.startswith(CONSOLE)
        ):
            outcomes.console_accepted[operation.label] += 1

    send()


def _webhook_route(operation: Any) -> str | None:
    """The route of a channel webhook's POST (``meta``, ``email/json``...), None for anything else."""
    if operation.method.upper() != "POST" or not operation.path.startswith(WEBHOOKS):
        return None
    return str(operation.path.removeprefix(WEBHOOKS))


def _open_stream(
    case: Any,
    credential: Callable[[Any, str, dict[str, str]], tuple[str, str]],
    base_url: str,
    headers: dict[str, str],
    outcomes: Outcomes,
) -> None:
    """Sends ``case`` with a credential that opens the event stream it asks for, reads what the
    stream says first (an open stream never ends) and hangs up. Its query and headers are the
    fuzzed ones: nothing in them may turn an opened stream into a 5xx or a hang."""
    name, value = credential(case, base_url, headers)
    case.query = {**(case.query or {}), name: value}
    kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
    with requests.request(**kwargs, stream=True, timeout=10) as response:
        outcomes.answers += 1
        first = next(response.iter_content(chunk_size=None), b"") if response.ok else b""
    if response.status_code >= 500:
        outcomes.server_errors.append(f"{response.status_code} stream {case.as_curl_command()}")
    elif response.status_code == 200:
        assert response.headers["content-type"].startswith("text/event-stream"), response.headers
        assert first.startswith((b"retry:", b":", b"event:")), first[:100]
        outcomes.streams_opened[case.operation.label] += 1


def _console_ticket(_case: Any, base_url: str, headers: dict[str, str]) -> tuple[str, str]:
    """A single-use ticket for the console's stream, asked for as the caller."""
    ticket = requests.post(f"{base_url}{CONSOLE}/events/ticket", headers=headers, timeout=10)
    ticket.raise_for_status()
    return "ticket", ticket.json()["ticket"]


def _widget_token(case: Any, _base_url: str, _headers: dict[str, str]) -> tuple[str, str]:
    """The web chat widget's token for the visitor in the case's path."""
    return "token", token(WEBCHAT_SECRET, TENANT, str(case.path_parameters["visitor"]))


# The event streams, and how a case gets the credential that opens one: fuzzed with it half the
# time (and without it the other half, where they must refuse).
STREAMS: dict[str, Callable[[Any, str, dict[str, str]], tuple[str, str]]] = {
    f"{CONSOLE}/events": _console_ticket,
    "/v1/webchat/{tenant}/{visitor}/events": _widget_token,
}


def _accepted(text: str, accepted: set[str]) -> bool:
    """Notes the event id of an answer that says it was written (not a duplicate)."""
    try:
        answer = json.loads(text)
    except ValueError:
        return False
    if isinstance(answer, dict) and isinstance(answer.get("event_id"), str) and not answer.get("duplicate"):
        accepted.add(answer["event_id"])
        return True
    return False
