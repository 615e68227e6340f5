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

The channel webhooks declare no body in the schema (each reads the bytes its platform posts): the
fuzz gives each route its platform's media type, and every other generated case is signed as that
platform signs it, over the exact bytes sent, with the shop's secrets, so that it reaches the
parser. Mixed in, each route with a builder in ``pronto_tools.simulate.channels`` also gets its
platform's own request for a fuzzed customer message, as it is and with one value changed, removed
or added (a batch's unreadable part is dead-lettered, a Viber callback becomes a delivery report).
Their 200s are checked like every other write: the messages' ids are on Kafka once, and the delivery
reports and dead letters ingest wrote are as many as the answers counted. At least one signed
webhook case must have been written, so that this cannot silently cover nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable

import pytest

from pronto import topics
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from tests.integration.fuzz.conftest import (
    INGEST_TOPICS,
    OPERATOR_TOKEN,
    QUERY_TOKEN,
    SHARED_TOPICS,
    SLA_TOKEN,
    TOKEN,
    Fuzzed,
)
from tests.integration.fuzz.http_fuzzing import CONSOLE, METRICS_SCHEMA, STREAMS, fuzz_operations
from tests.integration.fuzz.http_outcomes import Outcomes

pytestmark = pytest.mark.integration


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


def _new_by_ingest(fuzzed: Fuzzed, topic: str, before: list[str]) -> list[str]:
    """The ids ingest wrote on ``topic`` since ``before`` was read."""
    seen = Counter(before)
    new = []
    for event_id in asyncio.run(fuzzed.written_by_ingest(topic)):
        if seen[event_id] > 0:
            seen[event_id] -= 1
        else:
            new.append(event_id)
    return new


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
    shared_before = {topic: asyncio.run(fuzzed.written_by_ingest(topic)) for topic in SHARED_TOPICS}
    outcomes = Outcomes()
    ports = _ports(fuzzed)
    for name, url, headers in ports:
        operations = fuzz_operations(url, headers, outcomes, writes_events=name in ("ingest", "query"))
        print(f"{name}: {outcomes.answers} answers so far, {len(outcomes.accepted)} events acknowledged")
        if name == "ingest":
            acknowledged = {route: len(ids) for route, ids in outcomes.webhook_ids.items() if ids}
            print(f"  signed webhook cases: {sorted(outcomes.signed.items())}")
            print(f"  their messages acknowledged by route: {acknowledged},")
            print(f"  {outcomes.webhook_written} events written (with delivery reports), ", end="")
            print(f"{outcomes.dead_lettered} parts dead-lettered")
        if name == "query":  # the console's API is in the query service's schema, as its supervisor sees it
            assert sum(label.split(" ")[1].startswith(CONSOLE) for label in operations) >= 8, operations
    query_url = {name: url for name, url, _ in ports}["query"]
    operator = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
    console = fuzz_operations(
        query_url, operator, outcomes, True, under=CONSOLE, conversation_id=conversation_id
    )
    print(f"console as an operator ({len(console)} operations): {outcomes.answers} answers so far")
    for _name, url, headers in ports:
        assert fuzz_operations(url, headers, outcomes, writes_events=False, schema=METRICS_SCHEMA) == [
            "GET /metrics"
        ]
    print(f"/metrics of each port: {outcomes.answers} answers, {len(outcomes.accepted)} events acknowledged")
    assert outcomes.server_errors == [], "\n\n".join(outcomes.server_errors[:10])
    # Signed webhook cases got through to the parsers and some were written: the checks below cover
    # the channels' webhooks too (a trial of this suite had every webhook case refused unsigned).
    webhook_ids = set().union(*outcomes.webhook_ids.values())
    assert len(webhook_ids) > 0, dict(outcomes.signed)
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
    # Ingest's delivery reports and dead letters, on topics other services write too: as many as the
    # webhooks' answers counted. Their answers name only the messages' ids: the events they say they
    # wrote, less those messages, are the delivery reports.
    shared = {topic: _new_by_ingest(fuzzed, topic, shared_before[topic]) for topic in SHARED_TOPICS}
    statuses = outcomes.webhook_written - len(webhook_ids - outcomes.implied)
    counts = {topic: len(ids) for topic, ids in shared.items()}
    print(f"ingest's new records: {counts}, {statuses} delivery reports answered")
    assert len(shared[topics.NOTIFICATIONS.name]) == statuses, shared
    assert len(shared[topics.DEADLETTER.name]) == outcomes.dead_lettered, shared
    for ids in shared.values():
        assert len(ids) == len(set(ids)), "a dead letter or delivery report was written twice"
    for service in fuzzed.system.services:
        service.wait_ready(timeout=10)  # none was brought down by what the fuzzing got accepted
