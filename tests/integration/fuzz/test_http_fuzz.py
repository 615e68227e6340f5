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
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from pronto import event_ids, topics
from pronto.channels import channel_name
from pronto.grpc_client import ProntoClient
from pronto.kafka.reader import header, read_records
from pronto.v1 import common_pb2, events_pb2, ingest_pb2, operator_pb2
from pronto_tools.simulate import channels
from pronto_tools.simulate.run import DEMO_CHANNEL_SECRETS
from services.ingest.channels import phone
from services.ingest.channels.signatures import hmac_sha256_hex
from services.ingest.channels.telegram import CALLBACK_PREFIX
from services.notify.delivery.platforms.webchat import token
from tests.integration.fuzz.conftest import (
    INGEST_TOPICS,
    OPERATOR_TOKEN,
    QUERY_TOKEN,
    SHARED_TOPICS,
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


# The channel webhooks (``POST /webhooks/{tenant}/<route>``). Their operations declare no body (each
# reads the raw bytes its platform posts), so the fuzz gives each the media type its platform sends;
# a JSON route gets any JSON object, a form route any form. Every other case is signed as the
# platform signs it, over the exact bytes sent, with the shop's secrets: past the signature check it
# reaches the parser (mostly a 422 for a random body, and a dead letter for a batch's unreadable part).
WEBHOOKS = "/webhooks/{tenant}/"
WEBHOOK_MEDIA_TYPES = {
    "chat": "application/json",
    "contact-form": "application/json",
    "phone/callback-request": "application/json",
    "meta": "application/json",
    "telegram": "application/json",
    "viber": "application/json",
    "x": "application/json",
    "email/json": "application/json",
    "email": "text/plain",  # a raw message (message/rfc822 to the platform; the route reads any)
    "phone": "application/x-www-form-urlencoded",  # Twilio signs the URL and the form's fields
    "email/mailgun": "application/x-www-form-urlencoded",  # the signature is in the form's fields
    "email/sendgrid": "multipart/form-data",
}
# And so that signed cases are accepted too, not only refused as malformed: a share of each route's
# cases is the request its platform would send for a customer message (pronto_tools.simulate.channels,
# signed there) with a fuzzed sender, text, ids and time. Mailgun and SendGrid have no such builder:
# their signed cases are the generated forms only.
REAL_CHANNELS = {
    "chat": ("web_chat",),
    "contact-form": ("contact_form",),
    "phone": ("phone",),
    "meta": ("facebook", "instagram", "whatsapp"),
    "telegram": ("telegram",),
    "viber": ("viber",),
    "x": ("x",),
    "email": ("email",),
}
# Cases per webhook operation and strategy (generated positive and negative; real payloads as they
# are and mutated).
WEBHOOK_EXAMPLES = 10


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
    # Signed webhook cases: answers per route and status, and what the 200s acknowledged.
    signed: Counter[str] = field(default_factory=Counter)
    # The customer messages' event ids the webhooks' answers named (also in ``accepted``), by route.
    webhook_ids: dict[str, set[str]] = field(default_factory=dict)
    # Sum of the answers' "accepted" (events written, not duplicates: messages and delivery reports).
    webhook_written: int = 0
    # Sum of the answers' "dead_lettered", each body counted once (the same body is the same letter).
    dead_lettered: int = 0
    signed_bodies: set[tuple[str, bytes]] = field(default_factory=set)
    # Ids not named by an answer but following from what was sent (see _count_webhook_answer).
    implied: set[str] = field(default_factory=set)


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
    if schema is None:
        schema = requests.get(f"{base_url}/openapi.json", timeout=10).json()
        _with_webhook_bodies(schema)
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
        real = _real_requests(REAL_CHANNELS[route], base_url)
        strategies.append(real)
        if WEBHOOK_MEDIA_TYPES[route] == "application/json":
            strategies.append(_mutated(real, route, base_url))
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


def _with_webhook_bodies(schema: dict[str, Any]) -> None:
    """Gives each channel webhook's POST the body its platform sends (see ``WEBHOOK_MEDIA_TYPES``)."""
    for path, operations in schema.get("paths", {}).items():
        route = path.removeprefix(WEBHOOKS)
        if path.startswith(WEBHOOKS) and "post" in operations:
            media_type = WEBHOOK_MEDIA_TYPES[route]  # a new route: say what its platform posts
            body = {"type": "string"} if media_type == "text/plain" else {"type": "object"}
            operations["post"]["requestBody"] = {"required": True, "content": {media_type: {"schema": body}}}


def _real_requests(names: tuple[str, ...], base_url: str) -> st.SearchStrategy[channels.WebhookRequest]:
    """The signed request a platform sends for a customer message on one of ``names``' channels,
    with a fuzzed customer, name, text, message id and time."""
    # What a platform can carry: no lone surrogates (not UTF-8), no line breaks in a name (a header).
    any_text = st.characters(exclude_categories=["Cs"])
    one_line = st.characters(exclude_categories=["Cs", "Cc", "Zl", "Zp"])
    message = st.builds(
        channels.CustomerMessage,
        channel=st.sampled_from(names),
        customer_id=st.text(any_text, min_size=1, max_size=12),
        name=st.text(one_line, max_size=30),
        text=st.text(any_text, min_size=1, max_size=200),
        message_id=st.text(any_text, min_size=1, max_size=12),
        sent_at=st.floats(1.5e9, 2.0e9),
    )
    return message.map(lambda m: channels.webhook_request(TENANT, m, DEMO_CHANNEL_SECRETS, base_url))


# What a mutation puts into a platform's JSON: any value.
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def _places(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path to every value inside ``doc`` (keys and indexes), the root's children first."""
    children = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    places = []
    for key, value in children:
        places += [(*at, key), *_places(value, (*at, key))]
    return places


def _mutated(
    real: st.SearchStrategy[channels.WebhookRequest], route: str, base_url: str
) -> st.SearchStrategy[channels.WebhookRequest]:
    """A platform's request with one value replaced, removed or (in a list: a batch's entries,
    messages, changes) one more added, signed again: mostly readable, so that a batch's part that
    is not is dead-lettered next to the rest. Viber's also turned into delivery reports."""

    @st.composite
    def mutate(draw: st.DrawFn) -> channels.WebhookRequest:
        request = draw(real)
        doc = json.loads(request.body)
        at = draw(st.sampled_from(_places(doc)))
        parent = doc
        for key in at[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(("replace", "remove", "add")))
        if action == "replace":
            parent[at[-1]] = draw(JSON_VALUES)
        elif action == "remove":
            del parent[at[-1]]
        elif isinstance(parent, list):
            parent.append(draw(JSON_VALUES))
        else:
            parent[at[-1]] = [parent[at[-1]], draw(JSON_VALUES)]
        return _signed(route, request.path, doc, base_url)

    @st.composite
    def viber_report(draw: st.DrawFn) -> channels.WebhookRequest:
        """Viber's delivery report on the message of a callback, as the same bot receives it."""
        request = draw(real)
        doc = json.loads(request.body)
        report = {
            "event": draw(st.sampled_from(("delivered", "seen", "failed"))),
            "timestamp": doc["timestamp"],
            "chat_hostname": "SN-CHAT-01_",
            "message_token": doc["message_token"],
            "user_id": doc["sender"]["id"],
        }
        return _signed(route, request.path, report, base_url)

    return st.one_of(mutate(), viber_report()) if route == "viber" else mutate()


def _signed(route: str, path: str, doc: Any, base_url: str) -> channels.WebhookRequest:
    body = json.dumps(doc).encode()
    headers = channels.signed_headers(route, body, DEMO_CHANNEL_SECRETS, base_url + path)
    return channels.WebhookRequest(path, body, headers)


MAILGUN_TOKENS = iter(range(10**9))


def _send_signed(case: Any, route: str, base_url: str, headers: dict[str, str], outcomes: Outcomes) -> None:
    """Sends a webhook case signed as its platform signs it, over the exact bytes sent (Twilio:
    the URL and form; Mailgun: a fresh timestamp and token in the form), and counts what its answer
    says was written."""
    if isinstance(case, channels.WebhookRequest):  # signed where it was built
        prepared = requests.Request("POST", base_url + case.path, data=case.body, headers=case.headers)
        label = f"POST {case.path} (a platform's request)"
    else:
        if route == "email/mailgun" and isinstance(case.body, dict):
            stamp, mailgun_token = str(int(time.time())), f"fuzz-{next(MAILGUN_TOKENS):08d}"
            key = DEMO_CHANNEL_SECRETS["mailgun_signing_key"]
            signature = hmac_sha256_hex(key, (stamp + mailgun_token).encode())
            case.body = {**case.body, "timestamp": stamp, "token": mailgun_token, "signature": signature}
        kwargs = case.as_transport_kwargs(base_url=base_url, headers=headers)
        kwargs = {k: v for k, v in kwargs.items() if k in REQUEST_FIELDS}
        prepared = requests.Request(**kwargs)
        label = case.operation.label
    request = prepared.prepare()
    raw = request.body or b""
    assert isinstance(raw, str | bytes), type(raw)  # prepared: the bytes themselves
    body = raw.encode() if isinstance(raw, str) else raw
    signed = channels.signed_headers(route, body, DEMO_CHANNEL_SECRETS, str(request.url))
    for name, value in signed.items():
        if name.lower() != "content-type":  # the case's own (multipart: its boundary)
            request.headers[name] = value
    with requests.Session() as session:
        response = session.send(request, timeout=15)
    outcomes.answers += 1
    outcomes.signed[f"{route} {response.status_code}"] += 1
    if response.status_code >= 500:
        curl = case.as_curl_command() if not isinstance(case, channels.WebhookRequest) else repr(body[:300])
        outcomes.server_errors.append(f"{response.status_code} signed {label}: {curl}\n{response.text[:300]}")
    elif response.status_code == 200:
        _count_webhook_answer(route, body, response, outcomes)


REQUEST_FIELDS = ("method", "url", "headers", "files", "data", "json", "params", "auth", "cookies")


def _count_webhook_answer(route: str, body: bytes, response: requests.Response, outcomes: Outcomes) -> None:
    """What a webhook's 200 says it wrote: the customer messages' ids (accepted ones), how many events
    it wrote (with the delivery reports), and how many parts it dead-lettered. Two answers say more
    in another form, the ids then follow from what was sent: Telegram's answerCallbackQuery (a button
    press was written) and Twilio's TwiML (whatever the voice request said was)."""
    first = (route, body) not in outcomes.signed_bodies
    outcomes.signed_bodies.add((route, body))
    ids = outcomes.webhook_ids.setdefault(route, set())
    if response.headers.get("content-type", "").startswith("application/xml"):
        assert route == "phone", response.text[:300]
        for message in phone.parse_voice(TENANT, phone.form_params(body), "en"):
            written = event_ids.from_channel_message(
                TENANT, channel_name(message.channel), message.channel_message_id
            )
            ids.add(written)
            outcomes.implied.add(written)
        outcomes.accepted |= ids
        return
    answer = response.json()
    if answer.get("method") == "answerCallbackQuery":
        assert route == "telegram", answer
        press = CALLBACK_PREFIX + answer["callback_query_id"]
        ids.add(event_ids.from_channel_message(TENANT, "telegram", press))
        outcomes.implied.add(event_ids.from_channel_message(TENANT, "telegram", press))
        outcomes.accepted |= ids
        return
    assert isinstance(answer["event_ids"], list), answer
    ids.update(answer["event_ids"])
    outcomes.accepted |= ids
    outcomes.webhook_written += answer["accepted"]
    if first:
        outcomes.dead_lettered += answer["dead_lettered"]


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
        operations = _fuzz(url, headers, outcomes, writes_events=name in ("ingest", "query"))
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
    console = _fuzz(query_url, operator, outcomes, True, under=CONSOLE, conversation_id=conversation_id)
    print(f"console as an operator ({len(console)} operations): {outcomes.answers} answers so far")
    for _name, url, headers in ports:
        assert _fuzz(url, headers, outcomes, writes_events=False, schema=METRICS_SCHEMA) == ["GET /metrics"]
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
