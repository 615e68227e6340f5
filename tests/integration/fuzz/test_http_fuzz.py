"""Schemathesis over every HTTP API of every service, from the OpenAPI schema each one serves.

Cases are generated in-process (schemathesis' Python API under hypothesis) and sent
to the real servers over loopback, with the shop's credentials so that they get past
authentication: valid and invalid bodies, parameters and headers. No answer may be a
5xx, and ingest must have written exactly the events it acknowledged (202 with an
event id, or a transfer's 409 naming the request it wrote): nothing else refused is on
Kafka, nothing acknowledged is missing.

The web console's JSON API (``/console/api``, in the query service's schema) is fuzzed
twice: as the shop's supervisor and as one of its operators, whose 202s (status,
replies, resolutions, states) are events written through ingest and counted with
ingest's. So that those can be accepted, the operator first holds a conversation (a
web chat in a language only they speak), and the operator's cases name it.
``/metrics`` is in no schema (it is Prometheus' format, not JSON): every port's is
fuzzed from a small schema of its own, with query strings and headers. The two event streams
(the console's and the web chat widget's) are fuzzed half the time with a credential that opens
them: the stream must start (and is then hung up on), whatever else the case sends.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from services.notify.delivery.platforms.webchat import token
from tests.integration.fuzz.conftest import (
    INGEST_TOPICS,
    OPERATOR_TOKEN,
    QUERY_TOKEN,
    SLA_TOKEN,
    TENANT,
    TOKEN,
    WEBCHAT_SECRET,
    Fuzzed,
)

pytestmark = pytest.mark.integration
# Cases per operation and generation mode: about 650 requests over the five ports' schemas, ~20 s here.
EXAMPLES = 25
# Fewer for the console's operations (fuzzed as two callers) and each port's /metrics, to keep the
# module within a minute on two cores: about 300 requests more.
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


@dataclass
class Outcomes:
    answers: int = 0
    server_errors: list[str] = field(default_factory=list)
    # Event ids ingest acknowledged as written (202, not a duplicate), also through the console.
    accepted: set[str] = field(default_factory=set)
    # The console's operations whose 202s were such writes, with their counts.
    console_accepted: Counter[str] = field(default_factory=Counter)
    # The event streams (console, web chat widget) opened with a fuzzed query and headers.
    streams_opened: Counter[str] = field(default_factory=Counter)


def _fuzz(
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
    loaded = (
        schemathesis.openapi.from_url(f"{base_url}/openapi.json")
        if schema is None
        else schemathesis.openapi.from_dict(schema)
    )
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


def _conversation_of(fuzzed: Fuzzed, operator_id: str) -> str:
    """``operator_id`` online with a profile, and a customer writing on web chat in a language only
    they speak: the conversation, once the query API shows it theirs."""
    conversation_id = "fuzz-console-chat"
    asyncio.run(_hold(fuzzed, operator_id, conversation_id))
    query = fuzzed.system.query
    assert query is not None
    request = urllib.request.Request(
        f"{query.http_url}/v1/conversations/{conversation_id}",
        headers={"authorization": f"Bearer {QUERY_TOKEN}"},
    )
    deadline, doc = time.monotonic() + 30, None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                doc = json.load(response)
        except OSError:  # 404 until the read model has it
            doc = None
        if doc and doc["status"] == "assigned" and (doc["operator"] or {}).get("id") == operator_id:
            return conversation_id
        time.sleep(0.3)
    raise AssertionError(f"the conversation was never assigned to {operator_id}: {doc}")


async def _hold(fuzzed: Fuzzed, operator_id: str, conversation_id: str) -> None:
    chat = common_pb2.CHANNEL_WEB_CHAT
    profile = events_pb2.OperatorProfileUpdated(
        operator_id=operator_id,
        display_name="Ada",
        languages=[events_pb2.LanguageSkill(language="fi", proficiency=5)],
        capacities=[events_pb2.ChannelCapacity(channel=chat, max_concurrent=5)],
        team="fuzz",
    )
    message = events_pb2.MessageReceived(
        conversation_id=conversation_id,
        channel=chat,
        channel_message_id="fuzz-console-chat-1",
        sender=common_pb2.Sender(id="fuzz-customer", display_name="Aino"),
        text="Hei, missä tilaukseni on?",
        language="fi",
        kind=events_pb2.MESSAGE_KIND_TEXT,
    )
    async with ProntoClient(fuzzed.system.ingest.grpc_target, TOKEN) as client:
        await client.operators.UpdateOperatorProfile(
            operator_pb2.UpdateOperatorProfileRequest(profile=profile), metadata=client.metadata
        )
        await client.operators.SetOperatorStatus(
            operator_pb2.SetOperatorStatusRequest(
                operator_id=operator_id, status=events_pb2.OPERATOR_STATUS_ONLINE
            ),
            metadata=client.metadata,
        )
        await client.ingest.Publish(
            ingest_pb2.PublishRequest(message_received=message), metadata=client.metadata
        )


async def _described(fuzzed: Fuzzed, event_ids: set[str]) -> list[str]:
    """Where each of ``event_ids`` is and what it is, for a failure's message."""
    found = []
    for topic in INGEST_TOPICS:
        for record in await read_records(fuzzed.bootstrap_servers, topic, timeout=5, settle=0.5):
            if header(record, "ce_id") in event_ids:
                kind, source = header(record, "ce_type"), header(record, "ce_source")
                found.append(f"{topic} {kind} key {record.key!r} from {source}")
    return found[:10]


def _ports(fuzzed: Fuzzed) -> list[tuple[str, str, dict[str, str]]]:
    """Each HTTP port with the credentials that get a case past its authentication."""
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
    conversation_id = _conversation_of(fuzzed, "ada")  # its events are written before ``before``
    before = asyncio.run(fuzzed.written_ids())
    outcomes = Outcomes()
    ports = _ports(fuzzed)
    for name, url, headers in ports:
        operations = _fuzz(url, headers, outcomes, writes_events=name in ("ingest", "query"))
        print(f"{name}: {outcomes.answers} answers so far, {len(outcomes.accepted)} events acknowledged")
        if name == "query":  # the console's API is in the query service's schema, as its supervisor sees it
            assert sum(label.split(" ")[1].startswith(CONSOLE) for label in operations) >= 8, operations
    query_url = {name: url for name, url, _ in ports}["query"]
    operator = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
    console = _fuzz(query_url, operator, outcomes, True, under=CONSOLE, conversation_id=conversation_id)
    print(f"console as an operator ({len(console)} operations): {outcomes.answers} answers so far")
    for _name, url, headers in ports:
        assert _fuzz(url, headers, outcomes, writes_events=False, schema=METRICS_SCHEMA) == ["GET /metrics"]
    print(f"/metrics of each port: {outcomes.answers} answers, {len(outcomes.accepted)} events acknowledged")
    assert outcomes.server_errors == [], "\n\n".join(outcomes.server_errors[:10])
    # Both event streams were opened (the console's as the supervisor and as the operator).
    opened = {label.split(" ", 1)[1] for label in outcomes.streams_opened}
    assert opened == set(STREAMS), dict(outcomes.streams_opened)
    # Every console action that writes was accepted at least once: their writes are counted below.
    writes = {"/me/status", "/reply", "/resolve", "/state"}
    accepted = {w for w in writes for label in outcomes.console_accepted if label.endswith(w)}
    assert accepted == writes, dict(outcomes.console_accepted)

    new = asyncio.run(fuzzed.new_ids(before, outcomes.accepted))
    assert set(new) == outcomes.accepted, {
        "acknowledged, not written": sorted(outcomes.accepted - set(new))[:10],
        "written, not acknowledged": asyncio.run(_described(fuzzed, set(new) - outcomes.accepted)),
    }
    assert len(new) == len(set(new)), "an acknowledged event was written twice"
    for service in fuzzed.system.services:
        service.wait_ready(timeout=10)  # none was brought down by what the fuzzing got accepted
