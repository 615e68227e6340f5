"""The console sets a conversation pending, on hold or open again, and shows its state and clocks.

Issue #21, item 1, in the console: the operator sets their conversation pending, on hold or open again
("reopen"); the console passes it to ingest's real gRPC operator API, which writes
ConversationStateChanged. The operator view shows the conversation's state and every clock at a glance. The
console app runs in-process (a plain ASGI call), ingest and the broker for real."""

from __future__ import annotations

import json
import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from pronto import envelope, topics
from pronto.auth import TokenAuthenticator
from pronto.kafka.reader import read_records
from pronto.v1 import events_pb2
from pronto_tools.broker.embedded import EmbeddedBroker
from pronto_tools.services import IngestService
from services.query.console.actions import OperatorActions
from services.query.console.auth import ConsoleAuth
from services.query.console.changes import Changes
from services.query.console.routes import install
from services.query.domain.conversation import summarise
from services.query.store.memory import MemoryStore
from tests.plugins.ingest import TOKENS

pytestmark = pytest.mark.integration

OPERATOR_TOKEN = "operator-token-0123456789abcdef"
SUPERVISOR_TOKEN = "supervisor-token-0123456789abcdef"
NOW = datetime.now(UTC).replace(microsecond=0)


async def _call(app: FastAPI, method: str, path: str, body: object | None = None) -> tuple[int, Any]:
    """One request through the app's ASGI interface, as a server would make it."""
    raw = b"" if body is None else json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {OPERATOR_TOKEN}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(raw)).encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, json.loads(b"".join(chunks) or b"null")


async def _console(ingest: IngestService, conversation_id: str, operator_id: str) -> FastAPI:
    store = MemoryStore()
    timeline = [
        {"id": "m1", "at": NOW - timedelta(minutes=30), "type": "message", "channel": "email", "text": "hi",
         "subject": "", "language": "it", "topics": [], "attachments": 0, "kind": "text",
         "customer": {"id": "c", "name": "Carla", "email": "", "phone": "", "tier": "standard"}},
        {"id": "s1", "at": NOW - timedelta(minutes=30), "type": "sla_started", "metric": "resolution",
         "channel": "email", "target_s": 3600.0, "warn_at": NOW + timedelta(minutes=18),
         "deadline": NOW + timedelta(minutes=30), "business_time": False},
        {"id": "a1", "at": NOW - timedelta(minutes=29), "type": "assigned", "channel": "email",
         "operator_id": operator_id, "operator_name": "Giulia", "reason": "", "level": "", "candidates": []},
        {"id": "t1", "at": NOW - timedelta(minutes=10), "type": "state", "state": "pending",
         "operator_id": operator_id, "reason": "order number"},
        {"id": "p1", "at": NOW - timedelta(minutes=10), "type": "sla_paused", "metric": "resolution",
         "channel": "email", "elapsed_s": 1200.0, "state": "pending", "reason": "order number"},
    ]  # fmt: skip
    await store.put("conversations", summarise("shop-a", conversation_id, timeline), 0)
    app = FastAPI()
    auth = ConsoleAuth(
        TokenAuthenticator({"shop-a": SecretStr(SUPERVISOR_TOKEN)}),
        {"shop-a": {operator_id: SecretStr(OPERATOR_TOKEN)}},
    )
    actions = OperatorActions(ingest.grpc_target, {"shop-a": SecretStr(TOKENS["shop-a"])})
    install(app, store, auth, actions, Changes(), lambda _tenant: "Europe/Rome", 0.95)
    return app


async def test_the_operator_sets_on_hold_and_reopens_from_the_console(
    ingest: IngestService, broker: EmbeddedBroker
) -> None:
    run = uuid.uuid4().hex[:8]
    conversation_id, operator_id = f"c-{run}", f"op-{run}"
    app = await _console(ingest, conversation_id, operator_id)
    path = f"/console/api/me/conversations/{conversation_id}/state"

    held = await _call(app, "POST", path, {"state": "on_hold", "reason": "courier", "key": f"hold-{run}"})
    reopened = await _call(app, "POST", path, {"state": "open", "key": f"open-{run}"})
    wrong = await _call(app, "POST", path, {"state": "asleep", "key": f"bad-{run}"})
    other = await _call(
        app,
        "POST",
        "/console/api/me/conversations/someone-else/state",
        {"state": "pending", "key": f"x-{run}"},
    )
    status, me = await _call(app, "GET", "/console/api/me")

    assert [held[0], reopened[0], wrong[0], other[0]] == [202, 202, 422, 403]
    records = await read_records(
        broker.bootstrap_servers, topics.OUTBOUND.name, lambda r: r.key == conversation_id.encode(), expect=2
    )
    assert [envelope.decode(r.headers, r.value).payload for r in records] == [
        events_pb2.ConversationStateChanged(
            conversation_id=conversation_id,
            operator_id=operator_id,
            state=events_pb2.CONVERSATION_STATE_ON_HOLD,
            reason="courier",
        ),
        events_pb2.ConversationStateChanged(
            conversation_id=conversation_id, operator_id=operator_id, state=events_pb2.CONVERSATION_STATE_OPEN
        ),
    ]
    # The operator view, from the read model: the state and the paused clock with its budget left.
    assert status == 200
    [shown] = me["conversations"]
    assert shown["state"] == "pending"
    clock = shown["clocks"]["resolution"]
    assert (clock["state"], clock["time_left_s"], clock["overrun_s"]) == ("paused", 2400.0, None)
    assert [(p["state"], p["reason"], p["to"]) for p in clock["pauses"]] == [
        ("pending", "order number", None)
    ]
